#!/usr/bin/env python3
"""The `ferry` verbs: `ferry sqs` and `ferry admin` against `ferry serve
--manual-clock`; `ferry sns`, `ferry kinesis` (tail included) and `ferry stats`
against a running server and against a data directory (RocksDB).

usage: ferry_cli_test.py --ferry PATH/TO/ferry

Exits 0 on success, 1 on a failed check. Needs only python3.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

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

            created = out("sqs", "create-queue", "--queue-name", "jobs",
                          "--attribute", "VisibilityTimeout=10")
            assert created["QueueUrl"] == f"{server.url}/000000000000/jobs", created
            names = [u.rsplit("/", 1)[1] for u in out("sqs", "list-queues")["QueueUrls"]]
            assert sorted(names) == ["configured", "jobs"], names
            table = run("sqs", "list-queues", "--output", "table").stdout.splitlines()
            assert table[0].split() == ["Name", "QueueUrl"], table
            assert len(table) == 3, table

            sent = out("sqs", "send-message", "--queue-name", "jobs",
                       "--message-body", "hello")
            assert len(sent["MD5OfMessageBody"]) == 32, sent
            stats = out("sqs", "stats")["Queues"]
            jobs = [q for q in stats if q["Name"] == "jobs"][0]
            assert jobs == {"Name": "jobs", "Visible": 1, "NotVisible": 0,
                            "Delayed": 0}, jobs

            got = out("sqs", "receive-message", "--queue-name", "jobs")
            assert got["Messages"][0]["Body"] == "hello", got
            # In flight for 10 s of the manual clock.
            assert "Messages" not in out("sqs", "receive-message", "--queue-name", "jobs")
            clock = out("admin", "clock-advance", "10")
            assert clock["manual"] is True, clock
            got = out("sqs", "receive-message", "--queue-name", "jobs", "--delete")
            assert got["Messages"][0]["Body"] == "hello", got
            jobs = [q for q in out("sqs", "stats")["Queues"] if q["Name"] == "jobs"][0]
            assert jobs["Visible"] == 0 and jobs["NotVisible"] == 0, jobs

            out("sqs", "send-message", "--queue-name", "jobs", "--message-body", "x")
            out("sqs", "purge-queue", "--queue-name", "jobs")
            assert "Messages" not in out("sqs", "receive-message", "--queue-name", "jobs")

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

            missing = run("sqs", "delete-queue", "--queue-name", "nope", code=1)
            assert "QueueDoesNotExist" in missing.stderr, missing.stderr
            run("sqs", "bogus-verb", code=2)
            run("sqs", "send-message", "--queue-name", "jobs", code=2)

            out("admin", "reset")
            names = [u.rsplit("/", 1)[1] for u in out("sqs", "list-queues")["QueueUrls"]]
            assert names == ["configured"], names
            out("sqs", "delete-queue", "--queue-name", "configured")

            # SNS and Kinesis over the wire.
            sns_and_kinesis(lambda *a, code=0: run(*a, code=code))

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
        sns_and_kinesis(local, local_queues=False)
        # What was written is there when the directory is opened again.
        stats = json.loads(local("stats").stdout)
        assert [s["StreamName"] for s in stats["Streams"]] == ["clicks"], stats
        assert stats["Streams"][0]["OpenShards"] == 2, stats
        assert len(stats["Topics"]) == 1, stats
        run_both = local("kinesis", "list-streams", "--endpoint-url",
                         "http://127.0.0.1:1", code=2)
        assert "not both" in run_both.stderr, run_both.stderr
    print("ferry CLI verbs: 1 passed, 0 failed")
    return 0


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
