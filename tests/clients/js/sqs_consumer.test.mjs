// sqs-consumer (a polling consumer built on @aws-sdk/client-sqs) against
// `ferry serve`: a consumer that processes and deletes messages, one whose
// handler fails and gets the message again, batch handling, and the error
// event for a queue that does not exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
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

async function createQueue(name, attributes = {}) {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
}

async function counts(url) {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return r.Attributes;
}

// Resolves when `consumer` has emitted 'stopped' after stop().
async function stop(consumer) {
  const stopped = once(consumer, 'stopped');
  consumer.stop({ abort: true });
  await stopped;
}

// A promise and the function that resolves it.
function signal() {
  let resolve;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

describe('sqs-consumer against ferry', () => {
  test('processes every message once and deletes it', async () => {
    const url = await createQueue('consumer-work');
    const bodies = Array.from({ length: 25 }, (_, i) => `job ${i}`);
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.slice(i, i + 10).map((b, j) => ({
            Id: `e${j}`,
            MessageBody: b,
            MessageAttributes: { Kind: { DataType: 'String', StringValue: 'job' } },
          })),
        }),
      );
    }
    const seen = [];
    const done = signal();
    const errors = [];
    const consumer = Consumer.create({
      queueUrl: url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      messageAttributeNames: ['All'],
      handleMessage: async (message) => {
        assert.equal(message.MessageAttributes.Kind.StringValue, 'job');
        seen.push(message.Body);
        if (seen.length === bodies.length) done.resolve();
        return message;
      },
    });
    consumer.on('error', (err) => errors.push(err));
    consumer.on('processing_error', (err) => errors.push(err));
    const processed = [];
    consumer.on('message_processed', (m) => processed.push(m.MessageId));
    consumer.start();
    await done.promise;
    // The last deletes happen right after the last handler returned.
    while (processed.length < bodies.length) await once(consumer, 'message_processed');
    await stop(consumer);
    assert.deepEqual(errors, []);
    assert.deepEqual([...seen].sort(), [...bodies].sort());
    assert.deepEqual(await counts(url), {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  test('a failing handler gets the message again (visibility reset to 0)', async () => {
    const url = await createQueue('consumer-retry');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'flaky' }));
    let attempts = 0;
    const done = signal();
    const processingErrors = [];
    const consumer = Consumer.create({
      queueUrl: url,
      sqs,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      terminateVisibilityTimeout: true,
      attributeNames: ['ApproximateReceiveCount'],
      handleMessage: async (message) => {
        attempts += 1;
        if (attempts === 1) throw new Error('first attempt fails');
        assert.equal(message.Attributes.ApproximateReceiveCount, '2');
        done.resolve();
        return message;
      },
    });
    consumer.on('processing_error', (err) => processingErrors.push(err.message));
    const processed = once(consumer, 'message_processed');
    consumer.start();
    await done.promise;
    await processed;
    await stop(consumer);
    assert.equal(attempts, 2);
    assert.equal(processingErrors.length, 1);
    assert.match(processingErrors[0], /first attempt fails/);
    assert.deepEqual(await counts(url), {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  test('handleMessageBatch deletes the messages it returns', async () => {
    const url = await createQueue('consumer-batch');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: 6 }, (_, i) => ({ Id: `b${i}`, MessageBody: `m${i}` })),
      }),
    );
    const kept = [];
    const handled = [];
    const done = signal();
    const consumer = Consumer.create({
      queueUrl: url,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      // Keep m0 and m1 (not returned: not deleted).
      handleMessageBatch: async (messages) => {
        const ack = [];
        for (const m of messages) {
          if (m.Body === 'm0' || m.Body === 'm1') {
            if (!kept.includes(m.Body)) kept.push(m.Body);
          } else {
            handled.push(m.Body);
            ack.push(m);
          }
        }
        return ack;
      },
    });
    const errors = [];
    consumer.on('error', (err) => errors.push(err));
    // After the handler returned and the returned messages were deleted.
    consumer.on('response_processed', () => {
      if (handled.length === 4) done.resolve();
    });
    consumer.start();
    await done.promise;
    await stop(consumer);
    assert.deepEqual(errors, []);
    assert.deepEqual([...handled].sort(), ['m2', 'm3', 'm4', 'm5']);
    const left = await counts(url);
    assert.equal(Number(left.ApproximateNumberOfMessages) + Number(left.ApproximateNumberOfMessagesNotVisible), 2);
  });

  test('a queue that does not exist surfaces as an error event', async () => {
    const consumer = Consumer.create({
      queueUrl: `${server.url}/000000000000/consumer-missing`,
      sqs,
      waitTimeSeconds: 1,
      pollingWaitTimeMs: 0,
      authenticationErrorTimeout: 0,
      extendedAWSErrors: true,
      handleMessage: async () => assert.fail('no message expected'),
    });
    const [err] = await new Promise((resolve) => {
      consumer.once('error', (...args) => resolve(args));
      consumer.start();
    });
    await stop(consumer);
    assert.match(err.message, /SQS receive message failed/);
    assert.equal(err.code, 'QueueDoesNotExist');
    assert.equal(err.statusCode, 400);
  });
});
