#!/usr/bin/env python3
"""AWS CLI `aws kinesis` smoke test against `ferry serve`.

usage: test_kinesis_awscli.py --ferry PATH/TO/ferry [--aws PATH/TO/aws]

create-stream, wait stream-exists, put-record (raw data), get-shard-iterator
and get-records (Data comes back base64, the arrival time as the CLI prints
timestamps), list-shards, describe-stream-summary of a missing stream (exit
status 254 with CLI v2, 255 with v1, and ResourceNotFoundException on
stderr), delete-stream. Exits 0
on success, 1 on failure, 77 (ctest skip) when no aws program is found.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import FerryServer, dummy_credentials_env  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--aws", default=shutil.which("aws"))
    args = parser.parse_args()
    if not args.aws or not os.path.exists(args.aws):
        print("SKIP: no aws program")
        return 77
    env = dummy_credentials_env()
    version = subprocess.run([args.aws, "--version"], capture_output=True, text=True,
                             env=env).stdout.strip()
    print(version)
    with FerryServer(args.ferry) as server:
        def aws(*argv, check=True):
            cmd = [args.aws, "--endpoint-url", server.url, "--output", "json",
                   "kinesis", *argv]
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
            if check and r.returncode != 0:
                raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr}")
            return r

        def out(*argv):
            return json.loads(aws(*argv).stdout or "{}")

        aws("create-stream", "--stream-name", "cli", "--shard-count", "2")
        aws("wait", "stream-exists", "--stream-name", "cli")
        put = out("put-record", "--stream-name", "cli", "--partition-key", "k",
                  "--data", base64.b64encode(b"hello from the cli").decode())
        assert put["SequenceNumber"].isdigit() and len(put["SequenceNumber"]) == 56, put
        shard = put["ShardId"]
        it = out("get-shard-iterator", "--stream-name", "cli", "--shard-id", shard,
                 "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
        got = out("get-records", "--shard-iterator", it)
        assert len(got["Records"]) == 1, got
        record = got["Records"][0]
        data = base64.b64decode(record["Data"])
        # CLI v2 decodes --data from base64; v1 sends the text as it is.
        if data != b"hello from the cli":
            data = base64.b64decode(data)
        assert data == b"hello from the cli", record
        assert record["PartitionKey"] == "k", record
        assert "ApproximateArrivalTimestamp" in record, record
        shards = out("list-shards", "--stream-name", "cli")["Shards"]
        assert [s["ShardId"] for s in shards] == [
            "shardId-000000000000", "shardId-000000000001"], shards
        summary = out("describe-stream-summary", "--stream-name", "cli")
        assert summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", summary

        missing = aws("describe-stream-summary", "--stream-name", "missing",
                      check=False)
        # 254 (CLI v2) or 255 (CLI v1): a service error.
        assert missing.returncode in (254, 255), (missing.returncode, missing.stderr)
        assert "ResourceNotFoundException" in missing.stderr, missing.stderr
        aws("delete-stream", "--stream-name", "cli")
        assert out("list-streams")["StreamNames"] == [], "deleted"
    print("ok   aws kinesis smoke")
    return 0


if __name__ == "__main__":
    sys.exit(main())
