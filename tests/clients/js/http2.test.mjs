// HTTP/2 cleartext with prior knowledge against `ferry serve`: the AWS SDK
// for JavaScript v3 SQS client with NodeHttp2Handler (from
// @smithy/node-http-handler, which the SDK depends on; the handler the
// Kinesis client uses by default), and node's own http2 client. Every call
// fails with a protocol error unless ferry speaks h2c on its port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import {
  SQSClient,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { clientConfig, startFerry } from './ferry_server.mjs';

let server;
let sqs;

before(async () => {
  server = await startFerry();
  sqs = new SQSClient({
    ...clientConfig(server.url),
    requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }),
  });
});

after(async () => {
  sqs?.destroy();
  await server?.stop();
});

// One request with node's http2 client; resolves to { status, headers, body }.
function h2Request(url, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const req = session.request({ ':method': method, ':path': path, ...headers });
    let status = 0;
    let responseHeaders = {};
    const chunks = [];
    req.on('response', (h) => {
      status = h[':status'];
      responseHeaders = h;
    });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString() });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

describe('HTTP/2 (h2c, prior knowledge) against ferry', () => {
  test("node's http2 client: /health and an SQS JSON call", async () => {
    const health = await h2Request(server.url, '/health');
    assert.equal(health.status, 200);
    assert.equal(health.headers.server, 'ferry');
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    const created = await h2Request(server.url, '/', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.CreateQueue',
      },
      body: JSON.stringify({ QueueName: 'h2-raw' }),
    });
    assert.equal(created.status, 200, created.body);
    assert.equal(JSON.parse(created.body).QueueUrl, `${server.url}/000000000000/h2-raw`);
  });

  test('SQS client with NodeHttp2Handler: send, receive with MD5s checked, delete', async () => {
    const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: 'h2-sdk' }));
    assert.equal(url, `${server.url}/000000000000/h2-sdk`);
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'over h2c',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'h2' } },
      }),
    );
    assert.equal(sent.$metadata.httpStatusCode, 200);
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    assert.equal(got.Messages.length, 1);
    assert.equal(got.Messages[0].Body, 'over h2c');
    assert.equal(got.Messages[0].MessageAttributes.kind.StringValue, 'h2');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got.Messages[0].ReceiptHandle }));
  });

  test('many concurrent calls share one connection', async () => {
    const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: 'h2-many' }));
    const sends = [];
    for (let i = 0; i < 50; i++) {
      sends.push(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` })));
    }
    const ids = new Set((await Promise.all(sends)).map((r) => r.MessageId));
    assert.equal(ids.size, 50);
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    assert.equal(attrs.Attributes.ApproximateNumberOfMessages, '50');
  });

  test('a long poll on one stream does not hold up the others', async () => {
    const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: 'h2-poll' }));
    const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake' }));
    const got = await poll;
    assert.equal(got.Messages?.[0]?.Body, 'wake');
  });

  test("errors surface as the SDK's exception types", async () => {
    const err = await sqs
      .send(new SendMessageCommand({ QueueUrl: `${server.url}/000000000000/h2-none`, MessageBody: 'x' }))
      .then(
        () => assert.fail('expected QueueDoesNotExist'),
        (e) => e,
      );
    assert.ok(err instanceof QueueDoesNotExist, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400);
  });
});
