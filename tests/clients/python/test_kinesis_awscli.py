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

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import AwsCli, FerryServer, awscli_test_args  # noqa: E402


def main():
    args = awscli_test_args()
    if args is None:
        return 77
    with FerryServer(args.ferry) as server:
        aws = AwsCli(args.aws, server.url, "kinesis")
        out = aws.out

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
