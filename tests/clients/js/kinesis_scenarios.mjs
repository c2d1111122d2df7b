// The Kinesis scenarios of @aws-sdk/client-kinesis against `ferry serve`,
// run once per request handler: kinesis_http2.test.mjs (the client's
// default, NodeHttp2Handler: HTTP/2 cleartext with prior knowledge) and
// kinesis_http1.test.mjs (NodeHttpHandler: HTTP/1.1). Put/get across
// shards, a split and a merge, errors as the SDK's exception types, and
// SubscribeToShard read as an event stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clientConfig, startFerry } from './ferry_server.mjs';

// The SDK, or undefined when it is not installed (`npm ci` in this
// directory installs it).
export async function loadKinesisSdk() {
  try {
    return await import('@aws-sdk/client-kinesis');
  } catch {
    return undefined;
  }
}

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

// Resolves to the error `promise` rejects with, after checking that it is a
// `type` (an SDK exception class); fails if it resolves.
async function rejection(promise, type) {
  const e = await promise.then(
    () => assert.fail(`expected ${type.name}`),
    (err) => err,
  );
  assert.ok(e instanceof type, `expected ${type.name}, got ${e.name}: ${e.message}`);
  return e;
}

// Registers the scenarios as a `describe` block named `title`. `sdk`: the
// module (the block is skipped without it); `requestHandler()`: the handler
// to give the client (undefined: the client's default); `prefix` names the
// streams; `checkTransport()`, when given, runs last and asserts that the
// requests went over the handler's protocol.
export function describeKinesisScenarios(title, sdk, { requestHandler, prefix, checkTransport }) {
  describe(title, { skip: !sdk }, () => {
    let server;
    let kinesis;

    before(async () => {
      server = await startFerry();
      const handler = requestHandler?.();
      kinesis = new sdk.KinesisClient({
        ...clientConfig(server.url),
        ...(handler ? { requestHandler: handler } : {}),
      });
    });

    after(async () => {
      kinesis?.destroy();
      await server?.stop();
    });

    async function waitActive(name) {
      const { DescribeStreamSummaryCommand } = sdk;
      return eventually(async () => {
        const r = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        const s = r.StreamDescriptionSummary;
        return s.StreamStatus === 'ACTIVE' ? s : undefined;
      }, `stream ${name} ACTIVE`);
    }

    async function createActiveStream(name, shards) {
      await kinesis.send(new sdk.CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      return waitActive(name);
    }

    async function listShards(name) {
      const { Shards } = await kinesis.send(new sdk.ListShardsCommand({ StreamName: name }));
      return Shards;
    }

    // Every record of a shard from TRIM_HORIZON to its end (a closed
    // shard) or to the newest record (an open one), and the last answer.
    async function readShard(name, shardId) {
      const { GetRecordsCommand, GetShardIteratorCommand } = sdk;
      let { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      const records = [];
      for (;;) {
        const r = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
        for (const rec of r.Records) {
          assert.ok(rec.ApproximateArrivalTimestamp instanceof Date);
          records.push({ data: Buffer.from(rec.Data).toString(), seq: rec.SequenceNumber });
        }
        if (!r.NextShardIterator || (r.Records.length === 0 && r.MillisBehindLatest === 0)) {
          return { records, last: r };
        }
        ShardIterator = r.NextShardIterator;
      }
    }

    test('put and get records across shards', async () => {
      const { PutRecordCommand, PutRecordsCommand } = sdk;
      const stream = `${prefix}-stream`;
      await createActiveStream(stream, 2);
      const one = await kinesis.send(
        new PutRecordCommand({ StreamName: stream, PartitionKey: 'pk-0', Data: Buffer.from('record 0') }),
      );
      assert.match(one.SequenceNumber, /^\d+$/);
      const many = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: Array.from({ length: 20 }, (_, i) => ({
            PartitionKey: `pk-${i + 1}`,
            Data: Buffer.from(`record ${i + 1}`),
          })),
        }),
      );
      assert.equal(many.FailedRecordCount ?? 0, 0);
      const shards = await listShards(stream);
      assert.equal(shards.length, 2);
      const seen = [];
      const perShard = [];
      for (const shard of shards) {
        const { records } = await readShard(stream, shard.ShardId);
        perShard.push(records.length);
        const seqs = records.map((r) => BigInt(r.seq));
        assert.deepEqual(seqs, [...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        seen.push(...records.map((r) => r.data));
      }
      assert.equal(seen.length, 21);
      assert.ok(perShard.every((n) => n > 0), `records on every shard: ${perShard}`);
      assert.deepEqual(new Set(seen), new Set(Array.from({ length: 21 }, (_, i) => `record ${i}`)));
    });

    test('a split and a merge: parents closed and read to their end, children take the keys', async () => {
      const { MergeShardsCommand, PutRecordCommand, SplitShardCommand } = sdk;
      const stream = `${prefix}-reshard`;
      await createActiveStream(stream, 1);
      for (let i = 0; i < 5; i++) {
        await kinesis.send(
          new PutRecordCommand({ StreamName: stream, PartitionKey: `k${i}`, Data: Buffer.from(`before ${i}`) }),
        );
      }
      await kinesis.send(
        new SplitShardCommand({
          StreamName: stream,
          ShardToSplit: 'shardId-000000000000',
          NewStartingHashKey: (2n ** 127n).toString(),
        }),
      );
      await waitActive(stream);
      let shards = await listShards(stream);
      assert.deepEqual(
        shards.map((s) => s.ShardId),
        ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'],
      );
      assert.ok(shards[0].SequenceNumberRange.EndingSequenceNumber, 'the parent is closed');
      for (const child of shards.slice(1)) {
        assert.equal(child.ParentShardId, 'shardId-000000000000');
        assert.equal(child.SequenceNumberRange.EndingSequenceNumber, undefined);
      }
      assert.equal(shards[1].HashKeyRange.EndingHashKey, (2n ** 127n - 1n).toString());
      assert.equal(shards[2].HashKeyRange.StartingHashKey, (2n ** 127n).toString());

      // The parent holds what came before, then ends, naming its children.
      const parent = await readShard(stream, 'shardId-000000000000');
      assert.deepEqual(
        parent.records.map((r) => r.data),
        Array.from({ length: 5 }, (_, i) => `before ${i}`),
      );
      assert.equal(parent.last.NextShardIterator, undefined);
      assert.deepEqual(
        parent.last.ChildShards.map((c) => c.ShardId),
        ['shardId-000000000001', 'shardId-000000000002'],
      );
      assert.deepEqual(parent.last.ChildShards[0].ParentShards, ['shardId-000000000000']);

      // An explicit hash key picks the child.
      const low = await kinesis.send(
        new PutRecordCommand({ StreamName: stream, PartitionKey: 'x', ExplicitHashKey: '0', Data: Buffer.from('low') }),
      );
      assert.equal(low.ShardId, 'shardId-000000000001');
      const high = await kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: 'x',
          ExplicitHashKey: (2n ** 128n - 1n).toString(),
          Data: Buffer.from('high'),
        }),
      );
      assert.equal(high.ShardId, 'shardId-000000000002');

      await kinesis.send(
        new MergeShardsCommand({
          StreamName: stream,
          ShardToMerge: 'shardId-000000000001',
          AdjacentShardToMerge: 'shardId-000000000002',
        }),
      );
      await waitActive(stream);
      shards = await listShards(stream);
      const merged = shards.find((s) => s.ShardId === 'shardId-000000000003');
      assert.ok(merged, JSON.stringify(shards.map((s) => s.ShardId)));
      assert.equal(merged.ParentShardId, 'shardId-000000000001');
      assert.equal(merged.AdjacentParentShardId, 'shardId-000000000002');
      assert.equal(merged.HashKeyRange.StartingHashKey, '0');
      assert.equal(merged.HashKeyRange.EndingHashKey, (2n ** 128n - 1n).toString());
      const lowChild = await readShard(stream, 'shardId-000000000001');
      assert.deepEqual(lowChild.records.map((r) => r.data), ['low']);
      assert.deepEqual(lowChild.last.ChildShards.map((c) => c.ShardId), ['shardId-000000000003']);
      assert.deepEqual(
        [...lowChild.last.ChildShards[0].ParentShards].sort(),
        ['shardId-000000000001', 'shardId-000000000002'],
      );
      const afterMerge = await kinesis.send(
        new PutRecordCommand({ StreamName: stream, PartitionKey: 'k0', Data: Buffer.from('after') }),
      );
      assert.equal(afterMerge.ShardId, 'shardId-000000000003');
      const summary = await waitActive(stream);
      assert.equal(summary.OpenShardCount, 1);
    });

    test('errors surface as the SDK exception types', async () => {
      const {
        CreateStreamCommand,
        DescribeStreamSummaryCommand,
        GetShardIteratorCommand,
        InvalidArgumentException,
        KinesisServiceException,
        MergeShardsCommand,
        ResourceInUseException,
        ResourceNotFoundException,
        SplitShardCommand,
      } = sdk;
      const missing = await rejection(
        kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${prefix}-none` })),
        ResourceNotFoundException,
      );
      assert.ok(missing instanceof KinesisServiceException);
      assert.equal(missing.$metadata.httpStatusCode, 400);

      const stream = `${prefix}-errors`;
      await createActiveStream(stream, 2);
      await rejection(
        kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 })),
        ResourceInUseException,
      );
      await rejection(
        kinesis.send(
          new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '1' }),
        ),
        InvalidArgumentException,
      );
      await rejection(
        kinesis.send(
          new MergeShardsCommand({
            StreamName: stream,
            ShardToMerge: 'shardId-000000000001',
            AdjacentShardToMerge: 'shardId-000000000000',
          }),
        ),
        InvalidArgumentException,
      );
      await rejection(
        kinesis.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: 'shardId-000000000009',
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        ),
        ResourceNotFoundException,
      );
    });

    test('SubscribeToShard streams events', async () => {
      const { DescribeStreamConsumerCommand, PutRecordCommand, RegisterStreamConsumerCommand, SubscribeToShardCommand } =
        sdk;
      const name = `${prefix}-efo`;
      const stream = await createActiveStream(name, 1);
      const { Consumer } = await kinesis.send(
        new RegisterStreamConsumerCommand({ StreamARN: stream.StreamARN, ConsumerName: `${prefix}-consumer` }),
      );
      await eventually(async () => {
        const r = await kinesis.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }));
        return r.ConsumerDescription.ConsumerStatus === 'ACTIVE';
      }, 'consumer ACTIVE');
      await kinesis.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'a', Data: Buffer.from('first') }));
      const shards = await listShards(name);
      const sub = await kinesis.send(
        new SubscribeToShardCommand({
          ConsumerARN: Consumer.ConsumerARN,
          ShardId: shards[0].ShardId,
          StartingPosition: { Type: 'TRIM_HORIZON' },
        }),
      );
      assert.equal(sub.$metadata.httpStatusCode, 200);
      const got = [];
      let wrote = false;
      for await (const event of sub.EventStream) {
        assert.ok(event.SubscribeToShardEvent, `unexpected event ${JSON.stringify(Object.keys(event))}`);
        const e = event.SubscribeToShardEvent;
        assert.match(e.ContinuationSequenceNumber, /^\d+$/);
        for (const rec of e.Records) got.push(Buffer.from(rec.Data).toString());
        if (got.length >= 2) break;
        if (!wrote && got.length === 1) {
          wrote = true;
          // A record written now arrives as a later event of the same stream.
          await kinesis.send(new PutRecordCommand({ StreamName: name, PartitionKey: 'a', Data: Buffer.from('second') }));
        }
      }
      assert.deepEqual(got, ['first', 'second']);
    });

    if (checkTransport) test('the requests went over the handler', () => checkTransport());
  });
}
