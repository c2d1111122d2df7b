// Kinesis with @aws-sdk/client-kinesis and its default request handler,
// NodeHttp2Handler: HTTP/2 cleartext with prior knowledge against `ferry
// serve` (against an HTTP/1.1-only server every call fails with a protocol
// error). Streams across shards, PutRecord(s), GetRecords, errors, and
// SubscribeToShard read as an event stream over HTTP/2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientConfig, startFerry } from './ferry_server.mjs';

let kinesisSdk;
try {
  kinesisSdk = await import('@aws-sdk/client-kinesis');
} catch {
  kinesisSdk = undefined;  // not installed: `npm ci` in this directory
}

let server;
let kinesis;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `fn` until it returns a truthy value (at most ~10 s).
async function eventually(fn, what) {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('@aws-sdk/client-kinesis over HTTP/2 against ferry', { skip: !kinesisSdk }, () => {
  before(async () => {
    server = await startFerry();
    // No requestHandler: the client's default, HTTP/2.
    kinesis = new kinesisSdk.KinesisClient(clientConfig(server.url));
  });

  after(async () => {
    kinesis?.destroy();
    await server?.stop();
  });

  async function createActiveStream(name, shards) {
    const { CreateStreamCommand, DescribeStreamSummaryCommand } = kinesisSdk;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    return eventually(async () => {
      const r = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      const s = r.StreamDescriptionSummary;
      return s.StreamStatus === 'ACTIVE' ? s : undefined;
    }, `stream ${name} ACTIVE`);
  }

  test('put and get records across shards', async () => {
    const { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordCommand, PutRecordsCommand } =
      kinesisSdk;
    await createActiveStream('h2-stream', 2);
    const one = await kinesis.send(
      new PutRecordCommand({ StreamName: 'h2-stream', PartitionKey: 'pk-0', Data: Buffer.from('record 0') }),
    );
    assert.match(one.SequenceNumber, /^\d+$/);
    const many = await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'h2-stream',
        Records: Array.from({ length: 20 }, (_, i) => ({
          PartitionKey: `pk-${i + 1}`,
          Data: Buffer.from(`record ${i + 1}`),
        })),
      }),
    );
    assert.equal(many.FailedRecordCount ?? 0, 0);
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: 'h2-stream' }));
    assert.equal(Shards.length, 2);
    const seen = [];
    for (const shard of Shards) {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'h2-stream',
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
      for (const rec of r.Records) {
        seen.push(Buffer.from(rec.Data).toString());
        assert.ok(rec.ApproximateArrivalTimestamp instanceof Date);
      }
    }
    assert.equal(seen.length, 21);
    assert.deepEqual(new Set(seen), new Set(Array.from({ length: 21 }, (_, i) => `record ${i}`)));
  });

  test('errors surface as the SDK exception types', async () => {
    const { DescribeStreamSummaryCommand, ResourceNotFoundException } = kinesisSdk;
    const err = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'h2-none' })).then(
      () => assert.fail('expected ResourceNotFoundException'),
      (e) => e,
    );
    assert.ok(err instanceof ResourceNotFoundException, `${err.name}: ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  test('SubscribeToShard streams events over HTTP/2', async () => {
    const {
      DescribeStreamConsumerCommand,
      ListShardsCommand,
      PutRecordCommand,
      RegisterStreamConsumerCommand,
      SubscribeToShardCommand,
    } = kinesisSdk;
    const stream = await createActiveStream('h2-efo', 1);
    const { Consumer } = await kinesis.send(
      new RegisterStreamConsumerCommand({ StreamARN: stream.StreamARN, ConsumerName: 'h2-consumer' }),
    );
    await eventually(async () => {
      const r = await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }));
      return r.ConsumerDescription.ConsumerStatus === 'ACTIVE';
    }, 'consumer ACTIVE');
    await kinesis.send(new PutRecordCommand({ StreamName: 'h2-efo', PartitionKey: 'a', Data: Buffer.from('first') }));
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: 'h2-efo' }));
    const sub = await kinesis.send(
      new SubscribeToShardCommand({
        ConsumerARN: Consumer.ConsumerARN,
        ShardId: Shards[0].ShardId,
        StartingPosition: { Type: 'TRIM_HORIZON' },
      }),
    );
    assert.equal(sub.$metadata.httpStatusCode, 200);
    const got = [];
    let wrote = false;
    for await (const event of sub.EventStream) {
      assert.ok(event.SubscribeToShardEvent, `unexpected event ${JSON.stringify(Object.keys(event))}`);
      for (const rec of event.SubscribeToShardEvent.Records) got.push(Buffer.from(rec.Data).toString());
      if (got.length >= 2) break;
      if (!wrote && got.length === 1) {
        wrote = true;
        // A record written now arrives as a later event of the same stream.
        await kinesis.send(
          new PutRecordCommand({ StreamName: 'h2-efo', PartitionKey: 'a', Data: Buffer.from('second') }),
        );
      }
    }
    assert.deepEqual(got, ['first', 'second']);
  });
});
