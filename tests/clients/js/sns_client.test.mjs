// @aws-sdk/client-sns v3 (SNS's Query protocol) against `ferry serve`: fan-out
// to SQS queues read with @aws-sdk/client-sqs, a filter policy on message
// attributes, raw delivery beside the JSON envelope, subscriptions from
// `ferry serve --config`, and errors surfacing as the SDK's own exception
// types.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SNSClient,
  CreateTopicCommand,
  InvalidParameterException,
  ListSubscriptionsByTopicCommand,
  NotFoundException,
  PublishCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { clientConfig, startFerry } from './ferry_server.mjs';

let server;
let sns;
let sqs;
let dir;

// Provisioned at start: a topic with a filtered raw subscription.
const config = {
  queues: [{ name: 'configured-orders' }],
  topics: [{ name: 'configured-events' }],
  subscriptions: [
    {
      topic: 'configured-events',
      protocol: 'sqs',
      endpoint: 'configured-orders',
      attributes: { RawMessageDelivery: true, FilterPolicy: { kind: ['order'] } },
    },
  ],
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-js-sns-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  server = await startFerry(['--config', file]);
  sns = new SNSClient(clientConfig(server.url));
  sqs = new SQSClient(clientConfig(server.url));
});

after(async () => {
  sns?.destroy();
  sqs?.destroy();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function queue(name) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes.QueueArn };
}

async function bodies(url) {
  const r = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
  );
  return r.Messages ?? [];
}

const attr = (value) => ({ DataType: 'String', StringValue: value });

describe('SNS with @aws-sdk/client-sns', () => {
  test('fan-out to SQS: a filter policy, raw delivery and the JSON envelope', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'events' }));
    assert.equal(TopicArn, 'arn:aws:sns:us-east-1:000000000000:events');
    const orders = await queue('orders');
    const audit = await queue('audit');
    const raw = await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: orders.arn,
        Attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify({ kind: ['order'] }) },
        ReturnSubscriptionArn: true,
      }),
    );
    assert.match(raw.SubscriptionArn, /^arn:aws:sns:us-east-1:000000000000:events:/);
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: audit.arn }));
    const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    assert.equal(subs.Subscriptions.length, 2);

    const published = await sns.send(
      new PublishCommand({ TopicArn, Message: 'order 1', MessageAttributes: { kind: attr('order') } }),
    );
    assert.match(published.MessageId, /^[0-9a-f-]{36}$/);
    await sns.send(new PublishCommand({ TopicArn, Message: 'refund 1', MessageAttributes: { kind: attr('refund') } }));

    // Raw delivery: the body is the message, the attributes are SQS's.
    const got = await bodies(orders.url);
    assert.deepEqual(
      got.map((m) => m.Body),
      ['order 1'],
    );
    assert.equal(got[0].MessageAttributes.kind.StringValue, 'order');

    // No filter, no raw delivery: both, in SNS's JSON envelope.
    const envelopes = (await bodies(audit.url)).map((m) => JSON.parse(m.Body));
    assert.deepEqual(envelopes.map((e) => e.Message).sort(), ['order 1', 'refund 1']);
    for (const e of envelopes) {
      assert.equal(e.Type, 'Notification');
      assert.equal(e.TopicArn, TopicArn);
      assert.equal(e.MessageId.length, 36);
    }
  });

  test('subscriptions provisioned from --config filter and deliver raw', async () => {
    const TopicArn = 'arn:aws:sns:us-east-1:000000000000:configured-events';
    await sns.send(new PublishCommand({ TopicArn, Message: 'kept', MessageAttributes: { kind: attr('order') } }));
    await sns.send(new PublishCommand({ TopicArn, Message: 'dropped', MessageAttributes: { kind: attr('other') } }));
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'configured-orders' }));
    assert.deepEqual(
      (await bodies(QueueUrl)).map((m) => m.Body),
      ['kept'],
    );
  });

  test("errors surface as the SDK's exception types", async () => {
    await assert.rejects(
      sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:nope', Message: 'x' })),
      (e) => {
        assert.ok(e instanceof NotFoundException, `${e.name}: ${e.message}`);
        assert.equal(e.name, 'NotFoundException');
        assert.equal(e.$metadata.httpStatusCode, 404);
        return true;
      },
    );
    await assert.rejects(sns.send(new CreateTopicCommand({ Name: 'bad name!' })), (e) => {
      assert.ok(e instanceof InvalidParameterException, `${e.name}: ${e.message}`);
      assert.equal(e.$metadata.httpStatusCode, 400);
      return true;
    });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'filtered' }));
    await assert.rejects(
      sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: (await queue('f')).arn,
          Attributes: { FilterPolicy: '{"kind": "not-an-array"}' },
        }),
      ),
      (e) => e instanceof InvalidParameterException,
    );
  });
});
