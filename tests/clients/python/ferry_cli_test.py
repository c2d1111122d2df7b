#!/usr/bin/env python3
"""The `ferry` verbs: `ferry admin` against `ferry serve --manual-clock`;
`ferry sqs`, `ferry sns`, `ferry kinesis` (tail included) and `ferry stats`
against a running server and against a data directory (RocksDB); `ferry
kinesis tail` across a split and a merge (a shard's parents read before it),
over the wire, followed while they happen, and on a data directory.

usage: ferry_cli_test.py --ferry PATH/TO/ferry

Exits 0 on success, 1 on a failed check. Needs only python3.
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import FerryServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    ferry = parser.parse_args().ferry

    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "queues.json")
        with open(config, "w") as f:
            json.dump({"queues": [{"name": "configured"}]}, f)
        with FerryServer(ferry, ["--manual-clock", "--config", config]) as server:

            def run(*args, code=0):
                p = subprocess.run(
                    [ferry, *args, "--endpoint-url", server.url],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
                if p.returncode != code:
                    raise AssertionError(
                        f"ferry {' '.join(args)}: exit {p.returncode}, expected "
                        f"{code}\nstdout: {p.stdout}\nstderr: {p.stderr}"
                    )
                return p

            def out(*args):
                return json.loads(run(*args).stdout)

            def advance(seconds):
                clock = out("admin", "clock-advance", str(seconds))
                assert clock["manual"] is True, clock

            sqs_verbs(run, ["configured"], advance)
            assert out("sqs", "list-queues")["QueueUrls"] == [
                f"{server.url}/000000000000/configured"]

            out("admin", "fault-add", "--operation", "ListQueues",
                "--error", "ServiceUnavailable", "--times", "1")
            assert len(out("admin", "faults")["faults"]) == 1
            failed = run("sqs", "list-queues", code=1)
            assert "HTTP 503 ServiceUnavailable" in failed.stderr, failed.stderr
            out("admin", "fault-add", "--error", "InternalFailure", "--times", "-1")
            out("admin", "faults-clear")
            out("sqs", "list-queues")

            ops = [r["operation"] for r in out("admin", "requests")["requests"]]
            assert ops[:2] == ["CreateQueue", "ListQueues"], ops

            out("admin", "reset")
            names = [u.rsplit("/", 1)[1] for u in out("sqs", "list-queues")["QueueUrls"]]
            assert names == ["configured"], names
            out("sqs", "delete-queue", "--queue-name", "configured")

            # SNS and Kinesis over the wire.
            sns_and_kinesis(lambda *a, code=0: run(*a, code=code))

            # `kinesis tail` across a split and a merge: written first, then
            # read; and followed while they happen.
            def call(op, body):
                return kinesis_call(server.url, op, body)

            total = reshard_stream(call, "resharded")
            check_generations(run("kinesis", "tail", "--stream-name", "resharded",
                                  "--from", "TRIM_HORIZON", "--max-records",
                                  str(total)).stdout, total)
            call("CreateStream", {"StreamName": "followed", "ShardCount": 1})
            wait_active(call, "followed")
            tail = subprocess.Popen(
                [ferry, "kinesis", "tail", "--stream-name", "followed", "--from",
                 "TRIM_HORIZON", "--max-records", str(total),
                 "--poll-interval-ms", "20", "--endpoint-url", server.url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                reshard_stream(call, "followed", create=False)
                followed, errors = tail.communicate(timeout=60)
            finally:
                if tail.poll() is None:
                    tail.kill()
                    tail.communicate()
            assert tail.returncode == 0, errors
            check_generations(followed, total)

        # The same verbs on a data directory (no server).
        data_dir = os.path.join(tmp, "data")

        def local(*args, code=0):
            p = subprocess.run(
                [ferry, *args, "--data-dir", data_dir],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if p.returncode != code:
                raise AssertionError(
                    f"ferry {' '.join(args)} --data-dir: exit {p.returncode}, "
                    f"expected {code}\nstdout: {p.stdout}\nstderr: {p.stderr}"
                )
            return p

        local("kinesis", "list-streams")  # creates the data directory
        sqs_verbs(local, [])
        sns_and_kinesis(local)
        # What was written is there when the directory is opened again.
        stats = json.loads(local("stats").stdout)
        assert [s["StreamName"] for s in stats["Streams"]] == ["clicks"], stats
        assert stats["Streams"][0]["OpenShards"] == 2, stats
        assert len(stats["Topics"]) == 1, stats
        assert [q["Name"] for q in stats["Queues"]] == ["fanout"], stats
        run_both = local("kinesis", "list-streams", "--endpoint-url",
                         "http://127.0.0.1:1", code=2)
        assert "not both" in run_both.stderr, run_both.stderr

        # A data directory resharded by `ferry serve --data-dir`, tailed
        # through the native API.
        resharded = os.path.join(tmp, "resharded")
        with FerryServer(ferry, ["--data-dir", resharded]) as server:
            total = reshard_stream(
                lambda op, body: kinesis_call(server.url, op, body), "resharded")
        tail = subprocess.run(
            [ferry, "kinesis", "tail", "--stream-name", "resharded", "--from",
             "TRIM_HORIZON", "--max-records", str(total), "--data-dir", resharded],
            capture_output=True, text=True, timeout=60)
        assert tail.returncode == 0, tail.stderr
        check_generations(tail.stdout, total)
    print("ferry CLI verbs: 1 passed, 0 failed")
    return 0


def sqs_verbs(run, queues_before, advance_clock=None):
    """`ferry sqs` through `run`; `queues_before`: the queues there already.
    `advance_clock(seconds)` moves the server's manual clock (None: there is
    none)."""

    def out(*args):
        return json.loads(run(*args).stdout)

    def names(*args):
        return sorted(u.rsplit("/", 1)[1]
                      for u in out("sqs", "list-queues", *args)["QueueUrls"])

    def counts(name):
        stats = out("sqs", "stats")["Queues"]
        return [q for q in stats if q["Name"] == name][0]

    created = out("sqs", "create-queue", "--queue-name", "jobs",
                  "--attribute", "VisibilityTimeout=10")
    assert created["QueueUrl"].endswith("/000000000000/jobs"), created
    assert names() == sorted(queues_before + ["jobs"])
    table = run("sqs", "list-queues", "--output", "table").stdout.splitlines()
    assert table[0].split() == ["Name", "QueueUrl"], table
    assert len(table) == len(queues_before) + 2, table
    assert names("--prefix", "jo") == ["jobs"]

    sent = out("sqs", "send-message", "--queue-name", "jobs", "--message-body",
               "hello", "--message-attribute", "kind=greeting")
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest(), sent
    assert len(sent["MD5OfMessageAttributes"]) == 32, sent
    assert counts("jobs") == {"Name": "jobs", "Visible": 1, "InFlight": 0,
                              "Delayed": 0}
    got = out("sqs", "receive-message", "--queue-name", "jobs")
    m = got["Messages"][0]
    assert m["Body"] == "hello" and m["MessageId"] == sent["MessageId"], got
    assert m["MessageAttributes"] == {
        "kind": {"DataType": "String", "StringValue": "greeting"}}, m
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"], m
    assert m["Attributes"]["ApproximateReceiveCount"] == "1", m
    # In flight for 10 s (across processes on a data directory too).
    assert "Messages" not in out("sqs", "receive-message", "--queue-name", "jobs")
    assert counts("jobs")["InFlight"] == 1
    if advance_clock is not None:
        advance_clock(10)
        got = out("sqs", "receive-message", "--queue-name", "jobs", "--delete")
        assert got["Messages"][0]["Body"] == "hello", got
        assert counts("jobs")["InFlight"] == 0

    out("sqs", "send-message", "--queue-name", "jobs", "--message-body", "later",
        "--delay-seconds", "60")
    out("sqs", "send-message", "--queue-name", "jobs", "--message-body", "x")
    c = counts("jobs")
    assert (c["Visible"], c["Delayed"]) == (1, 1), c
    table = run("sqs", "stats", "--output", "table").stdout.splitlines()
    assert table[0].split() == ["Name", "Visible", "InFlight", "Delayed"], table
    out("sqs", "purge-queue", "--queue-name", "jobs")
    assert counts("jobs") == {"Name": "jobs", "Visible": 0, "InFlight": 0,
                              "Delayed": 0}
    assert "Messages" not in out("sqs", "receive-message", "--queue-name", "jobs")

    fifo = out("sqs", "create-queue", "--queue-name", "jobs.fifo", "--attribute",
               "FifoQueue=true")
    assert fifo["QueueUrl"].endswith("/jobs.fifo"), fifo
    sent = out("sqs", "send-message", "--queue-name", "jobs.fifo",
               "--message-body", "first", "--message-group-id", "g",
               "--message-deduplication-id", "d1")
    assert sent["SequenceNumber"].isdigit(), sent
    got = out("sqs", "receive-message", "--queue-name", "jobs.fifo",
              "--max-number-of-messages", "10", "--delete")
    assert [m["Body"] for m in got["Messages"]] == ["first"], got
    assert got["Messages"][0]["Attributes"]["MessageGroupId"] == "g", got
    no_group = run("sqs", "send-message", "--queue-name", "jobs.fifo",
                   "--message-body", "x", code=1)
    assert "MessageGroupId" in no_group.stderr, no_group.stderr

    missing = run("sqs", "delete-queue", "--queue-name", "nope", code=1)
    assert "QueueDoesNotExist" in missing.stderr, missing.stderr
    run("sqs", "bogus-verb", code=2)
    run("sqs", "send-message", "--queue-name", "jobs", code=2)
    run("sqs", "send-message", "--queue-name", "jobs", "--message-body", "b",
        "--message-attribute", "novalue", code=2)
    run("sqs", "receive-message", "--queue-name", "jobs",
        "--max-number-of-messages", "many", code=2)
    for name in ("jobs", "jobs.fifo"):
        out("sqs", "delete-queue", "--queue-name", name)
    assert names() == sorted(queues_before)


def kinesis_call(url, op, body):
    """One Kinesis JSON 1.1 request (unsigned) to a server at `url`."""
    request = urllib.request.Request(
        url + "/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": f"Kinesis_20131202.{op}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def wait_active(call, stream):
    for _ in range(500):
        summary = call("DescribeStreamSummary", {"StreamName": stream})
        if summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.01)
    raise AssertionError(f"stream {stream} is not ACTIVE")


def put_generation(call, stream, generation, n):
    """n records with Data "g<generation> <i>" (PutRecords, 500 at a time)."""
    for start in range(0, n, 500):
        records = [{"PartitionKey": f"key-{i}",
                    "Data": base64.b64encode(f"g{generation} {i}".encode()).decode()}
                   for i in range(start, min(n, start + 500))]
        r = call("PutRecords", {"StreamName": stream, "Records": records})
        assert r.get("FailedRecordCount", 0) == 0, r


def reshard_stream(call, stream, create=True):
    """A one-shard stream with 1200 records (generation 0, more than one
    GetRecords of the tail reads), split in two, 1200 records more (1: about
    600 a child), the two children merged, 50 records (2). Returns how many
    records were written."""
    if create:
        call("CreateStream", {"StreamName": stream, "ShardCount": 1})
        wait_active(call, stream)
    put_generation(call, stream, 0, 1200)
    call("SplitShard", {"StreamName": stream,
                        "ShardToSplit": "shardId-000000000000",
                        "NewStartingHashKey": str(2**127)})
    wait_active(call, stream)
    put_generation(call, stream, 1, 1200)
    call("MergeShards", {"StreamName": stream,
                         "ShardToMerge": "shardId-000000000001",
                         "AdjacentShardToMerge": "shardId-000000000002"})
    wait_active(call, stream)
    put_generation(call, stream, 2, 50)
    shards = call("ListShards", {"StreamName": stream})["Shards"]
    merged = [s for s in shards if s["ShardId"] == "shardId-000000000003"]
    assert merged and merged[0]["ParentShardId"] == "shardId-000000000001", shards
    assert merged[0]["AdjacentParentShardId"] == "shardId-000000000002", shards
    return 2450


def check_generations(output, total):
    """Every record printed once, each shard's parents before it: the
    generations (0 parent, 1 its children, 2 their merge) never go back."""
    rows = [json.loads(line) for line in output.splitlines()]
    assert len(rows) == total, (len(rows), total)
    data = [r["Data"] for r in rows]
    assert len(set(data)) == total, "a record printed twice"
    generations = [int(d.split()[0][1:]) for d in data]
    back = [i for i in range(1, total) if generations[i] < generations[i - 1]]
    assert not back, (f"a child's record before its parent's: {rows[back[0] - 1]} "
                      f"then {rows[back[0]]}")
    by_shard = {}
    for r in rows:
        by_shard.setdefault(r["ShardId"], []).append(int(r["SequenceNumber"]))
    for shard, seqs in by_shard.items():
        assert seqs == sorted(seqs), shard
    assert sorted(by_shard) == [f"shardId-00000000000{i}" for i in range(4)], \
        sorted(by_shard)


def sns_and_kinesis(run, local_queues=True):
    """`ferry sns`, `ferry kinesis` and `ferry stats` through `run`."""

    def out(*args):
        return json.loads(run(*args).stdout)

    topic = out("sns", "create-topic", "--name", "events")["TopicArn"]
    assert topic == "arn:aws:sns:us-east-1:000000000000:events", topic
    listed = out("sns", "list-topics")["Topics"]
    assert {"TopicArn": topic} in listed, listed
    table = run("sns", "list-topics", "--output", "table").stdout.splitlines()
    assert table[0].split() == ["TopicArn"], table
    if local_queues:
        out("sqs", "create-queue", "--queue-name", "fanout")
        sub = out("sns", "subscribe", "--topic-name", "events", "--protocol",
                  "sqs", "--notification-endpoint", "fanout", "--attribute",
                  "RawMessageDelivery=true", "--attribute",
                  'FilterPolicy={"kind": ["order"]}')
        assert sub["SubscriptionArn"].startswith(topic + ":"), sub
    published = out("sns", "publish", "--topic-name", "events", "--message",
                    "an <order> & more", "--message-attribute", "kind=order")
    assert len(published["MessageId"]) == 36, published
    out("sns", "publish", "--topic-arn", topic, "--message", "a refund",
        "--message-attribute", "kind=refund", "--subject", "s")
    if local_queues:
        got = out("sqs", "receive-message", "--queue-name", "fanout",
                  "--max-number-of-messages", "10")
        assert [m["Body"] for m in got["Messages"]] == ["an <order> & more"], got
    missing = run("sns", "publish", "--topic-arn",
                  "arn:aws:sns:us-east-1:000000000000:nope", "--message", "x",
                  code=1)
    assert "NotFound" in missing.stderr, missing.stderr
    run("sns", "publish", "--message", "x", code=2)

    out("kinesis", "create-stream", "--stream-name", "clicks", "--shard-count", "2")
    assert out("kinesis", "list-streams")["StreamNames"] == ["clicks"]
    described = out("kinesis", "describe-stream", "--stream-name", "clicks")
    shards = described["StreamDescription"]["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000",
                                              "shardId-000000000001"], shards
    put = [out("kinesis", "put-record", "--stream-name", "clicks",
               "--partition-key", f"user-{i}", "--data", f"click {i}")
           for i in range(6)]
    assert all(p["ShardId"].startswith("shardId-") for p in put), put
    records = out("kinesis", "get-records", "--stream-name", "clicks")["Records"]
    assert sorted(r["Data"] for r in records) == [f"click {i}" for i in range(6)], records
    # Per shard, in sequence order.
    for shard in {r["ShardId"] for r in records}:
        seqs = [int(r["SequenceNumber"]) for r in records if r["ShardId"] == shard]
        assert seqs == sorted(seqs), seqs
    tail = run("kinesis", "tail", "--stream-name", "clicks", "--from",
               "TRIM_HORIZON", "--max-records", "4").stdout.splitlines()
    assert len(tail) == 4, tail
    assert all(json.loads(line)["Data"].startswith("click ") for line in tail), tail
    table = run("kinesis", "get-records", "--stream-name", "clicks",
                "--output", "table").stdout.splitlines()
    assert table[0].split() == ["ShardId", "SequenceNumber", "PartitionKey",
                                "Data"], table
    assert len(table) == 7, table
    none = run("kinesis", "describe-stream", "--stream-name", "nope", code=1)
    assert "ResourceNotFoundException" in none.stderr, none.stderr
    run("kinesis", "put-record", "--stream-name", "clicks", code=2)
    run("kinesis", "tail", "--stream-name", "clicks", "--from", "NOW", code=2)

    stats = out("stats")
    assert stats["Streams"] == [{"StreamName": "clicks", "Status": "ACTIVE",
                                 "OpenShards": 2, "RetentionHours": 24}], stats
    assert {"TopicArn": topic,
            "Subscriptions": 1 if local_queues else 0} in stats["Topics"], stats
    if local_queues:
        fanout = [q for q in stats["Queues"] if q["Name"] == "fanout"][0]
        assert fanout == {"Name": "fanout", "Visible": 0, "InFlight": 1,
                          "Delayed": 0}, fanout
    table = run("stats", "--output", "table").stdout.splitlines()
    assert table[0].split() == ["Kind", "Name", "Detail"], table


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAILED: {e}")
        print("ferry CLI verbs: 0 passed, 1 failed")
        sys.exit(1)
