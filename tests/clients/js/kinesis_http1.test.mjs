// Kinesis with @aws-sdk/client-kinesis over HTTP/1.1: NodeHttpHandler (from
// @smithy/node-http-handler, which the SDK depends on) in place of the
// client's default HTTP/2 handler, against `ferry serve`. The scenarios are
// kinesis_scenarios.mjs's: put/get across shards, a split and a merge,
// errors as the SDK's exception types, and SubscribeToShard: NodeHttpHandler
// reads the event stream from the chunked HTTP/1.1 response body (an output
// event stream needs no HTTP/2; only operations that stream events in the
// request do). Every connection goes through an http.Agent of the test's,
// which counts them.
import http from 'node:http';
import assert from 'node:assert/strict';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describeKinesisScenarios, loadKinesisSdk } from './kinesis_scenarios.mjs';

const sdk = await loadKinesisSdk();

class CountingAgent extends http.Agent {
  connections = 0;
  createConnection(...args) {
    this.connections++;
    return super.createConnection(...args);
  }
}
const agent = new CountingAgent({ keepAlive: true, maxSockets: 8 });

describeKinesisScenarios('@aws-sdk/client-kinesis over HTTP/1.1 (NodeHttpHandler) against ferry', sdk, {
  prefix: 'h1',
  requestHandler: () => new NodeHttpHandler({ httpAgent: agent }),
  checkTransport: () => {
    // Keep-alive: far fewer connections than requests, but at least one.
    assert.ok(agent.connections >= 1, `HTTP/1.1 connections: ${agent.connections}`);
    agent.destroy();
  },
});
