// SQS scenarios with the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs),
// which speaks SQS's JSON protocol, against `ferry serve`. The SDK checks
// MD5OfMessageBody and MD5OfMessageAttributes of SendMessage(Batch) and
// ReceiveMessage itself and throws on a mismatch, so every send and receive
// here also checks ferry's digests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SQSClient,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import { clientConfig, startFerry } from './ferry_server.mjs';

let server;
let sqs;

before(async () => {
  server = await startFerry();
  sqs = new SQSClient(clientConfig(server.url));
});

after(async () => {
  sqs?.destroy();
  await server?.stop();
});

// The error `promise` rejects with, checked for the SDK's exception name
// and HTTP status.
async function expectError(promise, name, httpStatus) {
  const err = await promise.then(
    () => assert.fail(`expected ${name}, the call succeeded`),
    (e) => e,
  );
  assert.equal(err.name, name, `${err.name}: ${err.message}`);
  assert.equal(err.$metadata.httpStatusCode, httpStatus);
  return err;
}

async function createQueue(name, attributes = {}) {
  const r = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return r.QueueUrl;
}

async function attributes(url, names = ['All']) {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }));
  return r.Attributes;
}

describe('@aws-sdk/client-sqs against ferry', () => {
  test('queue lifecycle: create, URL, list, attributes, tags, purge, delete', async () => {
    const created = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'js-life',
        Attributes: { VisibilityTimeout: '45' },
        tags: { team: 'red' },
      }),
    );
    const url = created.QueueUrl;
    assert.equal(created.$metadata.httpStatusCode, 200);
    assert.equal(url, `${server.url}/000000000000/js-life`);
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'js-life' }))).QueueUrl, url);
    // The same attributes: the same queue; different ones: an error.
    assert.equal(await createQueue('js-life', { VisibilityTimeout: '45' }), url);
    await expectError(createQueue('js-life', { VisibilityTimeout: '46' }), 'QueueNameExists', 400);
    await createQueue('js-life-2');
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'js-life' }));
    assert.deepEqual([...listed.QueueUrls].sort(), [url, `${url}-2`]);

    const all = await attributes(url);
    assert.equal(all.VisibilityTimeout, '45');
    assert.equal(all.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:js-life');
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '10' } }));
    assert.deepEqual(await attributes(url, ['VisibilityTimeout']), { VisibilityTimeout: '10' });

    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { env: 'test' } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ['team'] }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { env: 'test' });

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    const purged = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal((purged.Messages ?? []).length, 0);

    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    const err = await expectError(
      sqs.send(new GetQueueUrlCommand({ QueueName: 'js-life' })),
      'QueueDoesNotExist',
      400,
    );
    assert.ok(err instanceof QueueDoesNotExist);
    // The legacy Query code, which the SDK reads from x-amzn-query-error.
    assert.equal(err.Code, 'AWS.SimpleQueueService.NonExistentQueue');
    assert.equal(err.$fault, 'client');
  });

  test('send, receive, change visibility and delete, with attributes and MD5s', async () => {
    const url = await createQueue('js-messages');
    const body = 'héllo, <ferry> & "friends" \u{1F680}';
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        MessageAttributes: {
          Colour: { DataType: 'String', StringValue: 'blue' },
          Count: { DataType: 'Number', StringValue: '42' },
          Blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 255]) },
          'Custom.Kind': { DataType: 'String.custom', StringValue: 'k' },
        },
      }),
    );
    assert.match(sent.MessageId, /^[0-9a-f-]{36}$/);
    assert.match(sent.MD5OfMessageBody, /^[0-9a-f]{32}$/);
    assert.match(sent.MD5OfMessageAttributes, /^[0-9a-f]{32}$/);

    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        VisibilityTimeout: 30,
      }),
    );
    assert.equal(got.Messages.length, 1);
    const m = got.Messages[0];
    assert.equal(m.Body, body);
    assert.equal(m.MessageId, sent.MessageId);
    assert.equal(m.MD5OfBody, sent.MD5OfMessageBody);
    assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
    assert.equal(m.MessageAttributes.Colour.StringValue, 'blue');
    assert.equal(m.MessageAttributes.Count.DataType, 'Number');
    assert.deepEqual([...m.MessageAttributes.Blob.BinaryValue], [0, 1, 2, 255]);
    assert.equal(m.MessageAttributes['Custom.Kind'].DataType, 'String.custom');
    assert.equal(m.Attributes.ApproximateReceiveCount, '1');
    assert.match(m.Attributes.SentTimestamp, /^\d+$/);

    // Hidden while in flight; visible again at once after visibility 0.
    assert.equal(((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages ?? []).length, 0);
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }),
    );
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    assert.equal(again.Messages[0].Attributes.ApproximateReceiveCount, '2');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: again.Messages[0].ReceiptHandle }));
    const counts = await attributes(url, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
    assert.deepEqual(counts, { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });

    await expectError(
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'not-a-receipt' })),
      'ReceiptHandleIsInvalid',
      400,
    );
  });

  test('batches: send and delete with partial failures', async () => {
    const url = await createQueue('js-batch');
    const entries = Array.from({ length: 10 }, (_, i) => ({
      Id: `m${i}`,
      MessageBody: `body ${i}`,
      MessageAttributes: { N: { DataType: 'Number', StringValue: String(i) } },
    }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    assert.equal(sent.Successful.length, 10);
    assert.equal((sent.Failed ?? []).length, 0);

    await expectError(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
      ),
      'BatchEntryIdsNotDistinct',
      400,
    );
    await expectError(
      sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })),
      'EmptyBatchRequest',
      400,
    );

    const received = [];
    while (received.length < 10) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
      );
      assert.ok(r.Messages?.length > 0, 'messages left to receive');
      received.push(...r.Messages);
    }
    assert.deepEqual(received.map((m) => m.Body).sort(), entries.map((e) => e.MessageBody).sort());

    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          ...received.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        ].slice(0, 9).concat([{ Id: 'bad', ReceiptHandle: 'not-a-receipt' }]),
      }),
    );
    assert.equal(deleted.Successful.length, 9);
    assert.equal(deleted.Failed.length, 1);
    assert.equal(deleted.Failed[0].Id, 'bad');
    assert.equal(deleted.Failed[0].Code, 'ReceiptHandleIsInvalid');
    assert.equal(deleted.Failed[0].SenderFault, true);
  });

  test('FIFO: order per group, deduplication, sequence numbers', async () => {
    // A FIFO queue's name must end in .fifo.
    await expectError(createQueue('js-not-fifo', { FifoQueue: 'true' }), 'InvalidParameterValue', 400);
    const url = await createQueue('js-orders.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    const first = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'a1', MessageGroupId: 'a' }),
    );
    assert.match(first.SequenceNumber, /^\d+$/);
    // The same body within the deduplication interval: the same message.
    const dup = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a1', MessageGroupId: 'a' }));
    assert.equal(dup.MessageId, first.MessageId);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a2', MessageGroupId: 'a' }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'b1',
        MessageGroupId: 'b',
        MessageDeduplicationId: 'explicit-1',
      }),
    );
    await expectError(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'no group' })),
      'MissingParameter',
      400,
    );

    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId', 'SequenceNumber'],
      }),
    );
    const bodies = r.Messages.map((m) => m.Body);
    assert.deepEqual(bodies.filter((b) => b.startsWith('a')), ['a1', 'a2']);
    assert.ok(bodies.includes('b1'));
    assert.equal(bodies.length, 3);
    // Group a is locked while its messages are in flight.
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a3', MessageGroupId: 'a' }));
    const locked = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    assert.equal((locked.Messages ?? []).length, 0);
    for (const m of r.Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
    const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal(next.Messages[0].Body, 'a3');
  });

  test('dead-letter queue: a message received too often moves there', async () => {
    const dlqUrl = await createQueue('js-dlq');
    const dlqArn = (await attributes(dlqUrl, ['QueueArn'])).QueueArn;
    const url = await createQueue('js-work', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    for (let i = 0; i < 2; ++i) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
      assert.equal(r.Messages[0].Body, 'poison');
    }
    // The third receive finds it over its maxReceiveCount and moves it.
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    assert.equal((third.Messages ?? []).length, 0);
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageSystemAttributeNames: ['DeadLetterQueueSourceArn'] }),
    );
    assert.equal(dead.Messages[0].Body, 'poison');
    assert.equal(dead.Messages[0].Attributes.DeadLetterQueueSourceArn, (await attributes(url, ['QueueArn'])).QueueArn);
    const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
    assert.deepEqual(sources.queueUrls, [url]);
  });

  test('long poll: a waiting receive gets a message sent meanwhile', async () => {
    const url = await createQueue('js-long-poll');
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
    const other = new SQSClient(clientConfig(server.url));
    try {
      await other.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'late' }));
    } finally {
      other.destroy();
    }
    const r = await waiting;
    assert.equal(r.Messages[0].Body, 'late');
  });

  test('errors surface as the SDK exception types with their HTTP status', async () => {
    await expectError(
      sqs.send(new SendMessageCommand({ QueueUrl: `${server.url}/000000000000/missing`, MessageBody: 'x' })),
      'QueueDoesNotExist',
      400,
    );
    const url = await createQueue('js-errors');
    await expectError(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
      'InvalidParameterValue',
      400,
    );
    await expectError(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { NoSuchAttribute: '1' } })),
      'InvalidAttributeName',
      400,
    );
    await expectError(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '' })),
      'MissingParameter',
      400,
    );
  });
});
