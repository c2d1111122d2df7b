// `ferry serve --config FILE --manual-clock` driven from JavaScript: queues
// provisioned from the file, the /_ferry/ admin endpoints (clock, faults,
// recorded requests, reset), and the SDK's own retries meeting injected
// throttling.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SQSClient,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { clientConfig, startFerry } from './ferry_server.mjs';

let server;
let sqs;
let dir;

const config = {
  queues: [
    {
      name: 'orders',
      attributes: {
        VisibilityTimeout: 30,
        RedrivePolicy: { deadLetterTargetArn: 'orders-dlq', maxReceiveCount: 2 },
      },
      tags: { team: 'checkout' },
    },
    { name: 'orders-dlq' },
    { name: 'events.fifo', attributes: { FifoQueue: true, ContentBasedDeduplication: true } },
  ],
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-js-'));
  const file = join(dir, 'queues.json');
  writeFileSync(file, JSON.stringify(config));
  server = await startFerry(['--config', file, '--manual-clock']);
  sqs = new SQSClient(clientConfig(server.url));
});

after(async () => {
  sqs?.destroy();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function admin(method, path, body) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function queueUrl(name) {
  return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
}

describe('ferry serve --config --manual-clock', () => {
  test('the configured queues exist with their attributes and redrive', async () => {
    const listed = await sqs.send(new ListQueuesCommand({}));
    assert.deepEqual(
      listed.QueueUrls.map((u) => u.split('/').pop()).sort(),
      ['events.fifo', 'orders', 'orders-dlq'],
    );
    const attrs = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl('orders'), AttributeNames: ['All'] }))
    ).Attributes;
    assert.equal(attrs.VisibilityTimeout, '30');
    assert.deepEqual(JSON.parse(attrs.RedrivePolicy), {
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:orders-dlq',
      maxReceiveCount: 2,
    });
  });

  test('advancing the clock expires a visibility timeout at once', async () => {
    const url = await queueUrl('orders');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'o1' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(first.Messages[0].Body, 'o1');
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
    const advanced = await admin('POST', '/_ferry/clock/advance', { seconds: 30 });
    assert.equal(advanced.status, 200);
    assert.equal(advanced.body.manual, true);
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(again.Messages[0].Body, 'o1');
    // A third receive after another timeout moves it to the dead-letter queue.
    await admin('POST', '/_ferry/clock/advance', { milliseconds: 30000 });
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: await queueUrl('orders-dlq') }));
    assert.equal(dead.Messages[0].Body, 'o1');
  });

  test("injected throttling is retried by the SDK's standard retry strategy", async () => {
    const url = await queueUrl('orders');
    const added = await admin('POST', '/_ferry/faults', {
      operation: 'SendMessage',
      error: 'RequestThrottled',
      times: 2,
    });
    assert.equal(added.status, 200);
    const retrying = new SQSClient({ ...clientConfig(server.url), maxAttempts: 3 });
    try {
      const sent = await retrying.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'retried' }));
      assert.equal(sent.$metadata.attempts, 3);
    } finally {
      retrying.destroy();
    }
    // Without retries the error surfaces with its type and status.
    await admin('POST', '/_ferry/faults', { operation: 'SendMessage', error: 'RequestThrottled' });
    const err = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })).catch((e) => e);
    assert.equal(err.name, 'RequestThrottled');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.deepEqual((await admin('GET', '/_ferry/faults')).body.faults, []);
  });

  test('recorded requests show what the SDK sent', async () => {
    assert.equal((await admin('DELETE', '/_ferry/requests')).status, 200);
    await sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl('orders-dlq'), MessageBody: 'seen' }));
    const { body } = await admin('GET', '/_ferry/requests');
    assert.deepEqual(
      body.requests.map((r) => r.operation),
      ['GetQueueUrl', 'SendMessage'],
    );
    const send = body.requests[1];
    assert.equal(send.protocol, 'json');
    assert.equal(send.http_status, 200);
    assert.equal(JSON.parse(send.body).MessageBody, 'seen');
    assert.equal(send.region, 'us-east-1');
  });

  test('reset empties the broker and provisions the configured queues again', async () => {
    const url = await queueUrl('orders-dlq');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'gone after reset' }));
    assert.equal((await admin('POST', '/_ferry/reset')).status, 200);
    const listed = await sqs.send(new ListQueuesCommand({}));
    assert.equal(listed.QueueUrls.length, 3);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
  });
});
