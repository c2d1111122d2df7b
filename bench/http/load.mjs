// The one load client of the comparison runner's HTTP rows: the AWS SDK for
// JavaScript v3 over keep-alive HTTP/1.1, driven the same way against ferry's
// gateway and against the peers (fauxqs for SQS, kinesalite for Kinesis).
//
//   node load.mjs --service sqs|kinesis --endpoint URL [--messages N]
//                 [--concurrency C]
//
// Prints one JSON object with the figures on stdout. SQS: SendMessage,
// SendMessageBatch (10) and ReceiveMessage (10) + DeleteMessageBatch, each in
// messages/s, and SendMessage latency percentiles in ms. Kinesis: PutRecord,
// PutRecords (100) and GetRecords, in records/s. Exits non-zero when the
// endpoint does not serve the service.
import { Agent } from "node:http";
import { parseArgs } from "node:util";

import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const { values: args } = parseArgs({
  options: {
    service: { type: "string", default: "sqs" },
    endpoint: { type: "string" },
    messages: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "16" },
  },
});
const messages = Number(args.messages);
const concurrency = Number(args.concurrency);
const body = "x".repeat(100);

const clientConfig = {
  endpoint: args.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }),
  }),
};

// Runs `work(i)` for i in [0, count) on `concurrency` workers; returns the
// seconds it took.
async function run(count, work) {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await work(i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function sqs() {
  const client = new SQSClient(clientConfig);
  const name = `ferry-load-${process.pid}-${Date.now()}`;
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({ QueueName: name }),
  );
  const latencies = [];
  const sendSeconds = await run(messages, async () => {
    const t = process.hrtime.bigint();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  });
  latencies.sort((a, b) => a - b);

  let received = 0;
  const receiveStarted = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (received < messages) {
        const out = await client.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 60,
          }),
        );
        const got = out.Messages ?? [];
        if (got.length === 0) {
          if (received >= messages) break;
          continue;
        }
        received += got.length;
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: got.map((m, i) => ({
              Id: String(i),
              ReceiptHandle: m.ReceiptHandle,
            })),
          }),
        );
      }
    }),
  );
  const receiveSeconds =
    Number(process.hrtime.bigint() - receiveStarted) / 1e9;

  const batches = Math.ceil(messages / 10);
  const batchSeconds = await run(batches, async () => {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: String(i),
          MessageBody: body,
        })),
      }),
    );
  });
  return {
    send_msgs_per_s: messages / sendSeconds,
    send_p50_ms: percentile(latencies, 0.5),
    send_p99_ms: percentile(latencies, 0.99),
    receive_delete_msgs_per_s: received / receiveSeconds,
    batch_send_msgs_per_s: (batches * 10) / batchSeconds,
  };
}

async function kinesis() {
  const client = new KinesisClient(clientConfig);
  const StreamName = `ferry-load-${process.pid}-${Date.now()}`;
  await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
  let shardId;
  for (let tries = 0; tries < 200; ++tries) {
    const d = await client.send(new DescribeStreamCommand({ StreamName }));
    if (d.StreamDescription.StreamStatus === "ACTIVE") {
      shardId = d.StreamDescription.Shards[0].ShardId;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!shardId) throw new Error("stream did not become ACTIVE");
  const data = Buffer.from(body);
  const putSeconds = await run(messages, async (i) => {
    await client.send(
      new PutRecordCommand({ StreamName, Data: data, PartitionKey: `k${i}` }),
    );
  });
  const batches = Math.ceil(messages / 100);
  const batchSeconds = await run(batches, async (i) => {
    await client.send(
      new PutRecordsCommand({
        StreamName,
        Records: Array.from({ length: 100 }, (_, j) => ({
          Data: data,
          PartitionKey: `k${i}-${j}`,
        })),
      }),
    );
  });
  const total = messages + batches * 100;
  let { ShardIterator } = await client.send(
    new GetShardIteratorCommand({
      StreamName,
      ShardId: shardId,
      ShardIteratorType: "TRIM_HORIZON",
    }),
  );
  let read = 0;
  const readStarted = process.hrtime.bigint();
  while (read < total && ShardIterator) {
    const out = await client.send(
      new GetRecordsCommand({ ShardIterator, Limit: 10000 }),
    );
    read += out.Records.length;
    ShardIterator = out.NextShardIterator;
  }
  const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
  return {
    put_records_per_s: messages / putSeconds,
    put_batch_records_per_s: (batches * 100) / batchSeconds,
    get_records_per_s: read / readSeconds,
  };
}

try {
  const result = args.service === "kinesis" ? await kinesis() : await sqs();
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
} catch (e) {
  process.stderr.write(`load: ${e.name ?? "Error"}: ${e.message}\n`);
  process.exit(1);
}
