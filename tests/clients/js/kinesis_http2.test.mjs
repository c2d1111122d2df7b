// Kinesis with @aws-sdk/client-kinesis and its default request handler,
// NodeHttp2Handler: HTTP/2 cleartext with prior knowledge against `ferry
// serve` (against an HTTP/1.1-only server every call fails with a protocol
// error). The scenarios are kinesis_scenarios.mjs's: put/get across shards,
// a split and a merge, errors as the SDK's exception types, SubscribeToShard
// read as an event stream over HTTP/2.
import { describeKinesisScenarios, loadKinesisSdk } from './kinesis_scenarios.mjs';

const sdk = await loadKinesisSdk();

// No requestHandler: the client's default, HTTP/2.
describeKinesisScenarios('@aws-sdk/client-kinesis over HTTP/2 against ferry', sdk, { prefix: 'h2' });
