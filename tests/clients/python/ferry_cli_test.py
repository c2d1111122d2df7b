#!/usr/bin/env python3
"""The `ferry sqs` and `ferry admin` verbs against `ferry serve --manual-clock`.

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
    print("ferry CLI verbs: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAILED: {e}")
        print("ferry CLI verbs: 0 passed, 1 failed")
        sys.exit(1)
