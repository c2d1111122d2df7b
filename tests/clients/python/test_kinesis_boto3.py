#!/usr/bin/env python3
"""Kinesis scenarios with a real boto3 client against `ferry serve`.

usage: test_kinesis_boto3.py --ferry PATH/TO/ferry

boto3 speaks Kinesis's JSON 1.1 protocol. One server on a manual clock
(`--manual-clock`, moved through /_ferry/clock/advance): puts and gets
across shards with explicit hash keys and AT_TIMESTAMP, paginated
ListShards, a split read to its ChildShards, a merge and UpdateShardCount,
tags and retention, enhanced fan-out consumers and SubscribeToShard read by
boto3 as an event stream over HTTP/1.1 (records pushed as they are put, the
stream ending after 5 minutes of the server's clock), and errors surfacing
as botocore's modelled exception types. Exits 0 on success, 1 on a failed
check, 77 when boto3 is missing (the ctest skip code).
"""

import argparse
import datetime
import json
import os
import sys
import traceback
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import FerryServer, dummy_credentials_env  # noqa: E402

try:
    import boto3
    import botocore
    from botocore.exceptions import ClientError
except ImportError:
    print("SKIP: boto3 is not installed for", sys.executable)
    sys.exit(77)

HALF = 2 ** 127  # the first hash key of shard 1 of a two-shard stream


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_error(fn, code, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        expect(got == code, f"expected error {code}, got {got}: {e}")
        return e
    raise AssertionError(f"expected error {code}, the call succeeded")


def advance(server_url, seconds):
    req = urllib.request.Request(
        f"{server_url}/_ferry/clock/advance",
        data=json.dumps({"seconds": seconds}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        expect(r.status == 200, r.status)


def read_shard(kinesis, stream, shard, kind="TRIM_HORIZON", **kw):
    """Every record of `shard` from `kind`, and the last GetRecords answer."""
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                    ShardIteratorType=kind, **kw)["ShardIterator"]
    records = []
    for _ in range(10):
        r = kinesis.get_records(ShardIterator=it)
        records += r["Records"]
        it = r.get("NextShardIterator")
        if it is None or not r["Records"]:
            return records, r
    return records, r


def put_get_across_shards(kinesis, server_url):
    kinesis.create_stream(StreamName="orders", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(
        StreamName="orders", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    d = kinesis.describe_stream(StreamName="orders")["StreamDescription"]
    expect(d["StreamStatus"] == "ACTIVE", d)
    expect(isinstance(d["StreamCreationTimestamp"], datetime.datetime), d)
    expect([s["HashKeyRange"]["StartingHashKey"] for s in d["Shards"]] ==
           ["0", str(HALF)], d["Shards"])
    one = kinesis.put_record(StreamName="orders", Data=b"\x00first\xff",
                             PartitionKey="a", ExplicitHashKey="0")
    expect(one["ShardId"] == "shardId-000000000000", one)
    expect(len(one["SequenceNumber"]) == 56, one)
    batch = kinesis.put_records(StreamName="orders", Records=[
        {"Data": b"second", "PartitionKey": "b", "ExplicitHashKey": str(HALF)},
        {"Data": b"third", "PartitionKey": "c", "ExplicitHashKey": str(HALF + 1)},
        {"Data": b"", "PartitionKey": "d", "ExplicitHashKey": "1"},
    ])
    expect(batch["FailedRecordCount"] == 0, batch)
    expect([r["ShardId"] for r in batch["Records"]] ==
           ["shardId-000000000001", "shardId-000000000001",
            "shardId-000000000000"], batch)
    records, last = read_shard(kinesis, "orders", "shardId-000000000000")
    expect([r["Data"] for r in records] == [b"\x00first\xff", b""], records)
    expect(isinstance(records[0]["ApproximateArrivalTimestamp"], datetime.datetime),
           records[0])
    expect(last["MillisBehindLatest"] == 0, last)
    records, _ = read_shard(kinesis, "orders", "shardId-000000000001")
    expect([r["Data"] for r in records] == [b"second", b"third"], records)
    # AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP (a datetime, sent as epoch seconds).
    after, _ = read_shard(kinesis, "orders", "shardId-000000000001",
                          "AFTER_SEQUENCE_NUMBER",
                          StartingSequenceNumber=records[0]["SequenceNumber"])
    expect([r["Data"] for r in after] == [b"third"], after)
    at, _ = read_shard(kinesis, "orders", "shardId-000000000001", "AT_TIMESTAMP",
                       Timestamp=records[0]["ApproximateArrivalTimestamp"])
    expect([r["Data"] for r in at] == [b"second", b"third"], at)
    # ListShards pages through its NextToken.
    page = kinesis.list_shards(StreamName="orders", MaxResults=1)
    expect(len(page["Shards"]) == 1 and "NextToken" in page, page)
    rest = kinesis.list_shards(NextToken=page["NextToken"])
    expect([s["ShardId"] for s in rest["Shards"]] == ["shardId-000000000001"], rest)
    names = kinesis.list_streams()["StreamNames"]
    expect(names == ["orders"], names)
    summary = kinesis.describe_stream_summary(StreamName="orders")
    expect(summary["StreamDescriptionSummary"]["OpenShardCount"] == 2, summary)


def reshard(kinesis, server_url):
    kinesis.create_stream(StreamName="grow", ShardCount=1)
    kinesis.put_record(StreamName="grow", Data=b"parent", PartitionKey="p")
    kinesis.split_shard(StreamName="grow", ShardToSplit="shardId-000000000000",
                        NewStartingHashKey=str(HALF))
    shards = kinesis.list_shards(StreamName="grow")["Shards"]
    expect([s["ShardId"] for s in shards] ==
           ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"],
           shards)
    expect("EndingSequenceNumber" in shards[0]["SequenceNumberRange"], shards[0])
    expect(shards[1]["ParentShardId"] == "shardId-000000000000", shards[1])
    records, last = read_shard(kinesis, "grow", "shardId-000000000000")
    expect([r["Data"] for r in records] == [b"parent"], records)
    while "NextShardIterator" in last and last["NextShardIterator"]:
        last = kinesis.get_records(ShardIterator=last["NextShardIterator"])
    expect([c["ShardId"] for c in last["ChildShards"]] ==
           ["shardId-000000000001", "shardId-000000000002"], last)
    kinesis.put_record(StreamName="grow", Data=b"child", PartitionKey="p",
                       ExplicitHashKey=str(HALF))
    records, _ = read_shard(kinesis, "grow", "shardId-000000000002")
    expect([r["Data"] for r in records] == [b"child"], records)
    kinesis.merge_shards(StreamName="grow", ShardToMerge="shardId-000000000001",
                         AdjacentShardToMerge="shardId-000000000002")
    u = kinesis.update_shard_count(StreamName="grow", TargetShardCount=2,
                                   ScalingType="UNIFORM_SCALING")
    expect(u["CurrentShardCount"] == 1 and u["TargetShardCount"] == 2, u)
    open_shards = kinesis.list_shards(
        StreamName="grow", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    expect(len(open_shards) == 2, open_shards)


def tags_and_retention(kinesis, server_url):
    kinesis.create_stream(StreamName="tagged", ShardCount=1)
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"team": "red", "env": "t"})
    kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["env"])
    tags = kinesis.list_tags_for_stream(StreamName="tagged")
    expect(tags["Tags"] == [{"Key": "team", "Value": "red"}], tags)
    kinesis.increase_stream_retention_period(StreamName="tagged",
                                             RetentionPeriodHours=72)
    d = kinesis.describe_stream_summary(StreamName="tagged")
    expect(d["StreamDescriptionSummary"]["RetentionPeriodHours"] == 72, d)
    e = expect_error(kinesis.decrease_stream_retention_period,
                     "InvalidArgumentException", StreamName="tagged",
                     RetentionPeriodHours=12)
    expect("Minimum allowed retention period is 24 hours" in str(e), str(e))
    kinesis.delete_stream(StreamName="tagged")
    expect_error(kinesis.describe_stream, "ResourceNotFoundException",
                 StreamName="tagged")


def subscribe_to_shard(kinesis, server_url):
    kinesis.create_stream(StreamName="fanout", ShardCount=1)
    arn = kinesis.describe_stream_summary(
        StreamName="fanout")["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="efo")
    carn = consumer["Consumer"]["ConsumerARN"]
    expect(carn.startswith(arn + "/consumer/efo:"), carn)
    expect(kinesis.describe_stream_consumer(ConsumerARN=carn)[
        "ConsumerDescription"]["ConsumerStatus"] == "ACTIVE", carn)
    listed = kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
    expect([c["ConsumerName"] for c in listed] == ["efo"], listed)
    kinesis.put_record(StreamName="fanout", Data=b"before", PartitionKey="k")

    r = kinesis.subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000",
                                   StartingPosition={"Type": "TRIM_HORIZON"})
    stream = r["EventStream"]
    events = iter(stream)
    first = next(events)["SubscribeToShardEvent"]
    expect([rec["Data"] for rec in first["Records"]] == [b"before"], first)
    expect("ContinuationSequenceNumber" in first, first)
    expect(first["MillisBehindLatest"] == 0, first)
    # A record put now is pushed on the open stream.
    kinesis.put_record(StreamName="fanout", Data=b"pushed", PartitionKey="k")
    second = next(events)["SubscribeToShardEvent"]
    expect([rec["Data"] for rec in second["Records"]] == [b"pushed"], second)
    expect(second["ContinuationSequenceNumber"] ==
           second["Records"][0]["SequenceNumber"], second)
    # A second subscription within 5 s is refused.
    expect_error(kinesis.subscribe_to_shard, "ResourceInUseException",
                 ConsumerARN=carn, ShardId="shardId-000000000000",
                 StartingPosition={"Type": "LATEST"})
    # After 5 minutes of the server's clock the next push ends the stream.
    advance(server_url, 301)
    kinesis.put_record(StreamName="fanout", Data=b"late", PartitionKey="k")
    rest = [e["SubscribeToShardEvent"] for e in events]
    expect(all("Records" in e for e in rest), rest)
    stream.close()
    # Resubscribing from the continuation point picks up what followed.
    r = kinesis.subscribe_to_shard(
        ConsumerARN=carn, ShardId="shardId-000000000000",
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER",
                          "SequenceNumber": second["ContinuationSequenceNumber"]})
    again = next(iter(r["EventStream"]))["SubscribeToShardEvent"]
    expect([rec["Data"] for rec in again["Records"]] == [b"late"], again)
    r["EventStream"].close()
    kinesis.deregister_stream_consumer(ConsumerARN=carn)
    expect_error(kinesis.subscribe_to_shard, "ResourceNotFoundException",
                 ConsumerARN=carn, ShardId="shardId-000000000000",
                 StartingPosition={"Type": "LATEST"})


def errors(kinesis, server_url):
    try:
        kinesis.describe_stream(StreamName="missing")
        raise AssertionError("describe_stream of a missing stream succeeded")
    except kinesis.exceptions.ResourceNotFoundException as e:
        expect(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response)
        expect(e.response["Error"]["Message"] ==
               "Stream missing under account 000000000000 not found.", e.response)
    kinesis.create_stream(StreamName="errs", ShardCount=1)
    try:
        kinesis.create_stream(StreamName="errs", ShardCount=1)
        raise AssertionError("a second create_stream succeeded")
    except kinesis.exceptions.ResourceInUseException:
        pass
    e = expect_error(kinesis.put_record, "InvalidArgumentException",
                     StreamName="errs", Data=b"x", PartitionKey="k",
                     ExplicitHashKey=str(2 ** 128))
    expect("ExplicitHashKey" in str(e), str(e))
    e = expect_error(kinesis.put_record, "ValidationException",
                     StreamName="errs", Data=b"x" * (1024 * 1024 + 1),
                     PartitionKey="k")
    expect("1 validation error detected" in str(e), str(e))
    it = kinesis.get_shard_iterator(StreamName="errs", ShardId="shardId-000000000000",
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    advance(server_url, 301)
    try:
        kinesis.get_records(ShardIterator=it)
        raise AssertionError("an expired iterator was accepted")
    except kinesis.exceptions.ExpiredIteratorException as e:
        expect("Iterator expired" in str(e), str(e))
    expect_error(kinesis.get_records, "InvalidArgumentException",
                 ShardIterator="AAAAnotaniterator")
    expect_error(kinesis.get_shard_iterator, "ResourceNotFoundException",
                 StreamName="errs", ShardId="shardId-000000000009",
                 ShardIteratorType="LATEST")


SCENARIOS = [put_get_across_shards, reshard, tags_and_retention,
             subscribe_to_shard, errors]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    args = parser.parse_args()
    os.environ.update(dummy_credentials_env())
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__} ({sys.executable})")
    failed = 0
    with FerryServer(args.ferry, ["--manual-clock"]) as server:
        kinesis = boto3.client(
            "kinesis", endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 1},
                                          read_timeout=20))
        print(f"Kinesis protocol: {kinesis.meta.service_model.protocol}; "
              f"server {server.url}")
        for scenario in SCENARIOS:
            try:
                scenario(kinesis, server.url)
                print(f"ok   {scenario.__name__}")
            except Exception:  # report every scenario, then fail
                failed += 1
                print(f"FAIL {scenario.__name__}")
                traceback.print_exc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
