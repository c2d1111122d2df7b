#!/usr/bin/env python3
"""AWS CLI smoke test against `ferry serve`.

usage: awscli_smoke_test.py --ferry PATH/TO/ferry [--aws PATH/TO/aws]

Runs `aws --endpoint-url URL sqs ...` create-queue, send-message,
receive-message, delete-message, get-queue-url of a missing queue (exit
status 254 and the NonExistentQueue code on stderr). Exits 0 on success, 1 on
failure, 77 (ctest skip) when no aws program is found.
"""

import argparse
import hashlib
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
                   "sqs", *argv]
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
            if check and r.returncode != 0:
                raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr}")
            return r

        url = json.loads(aws("create-queue", "--queue-name", "smoke").stdout)["QueueUrl"]
        assert url == server.url + "/000000000000/smoke", url
        sent = json.loads(aws("send-message", "--queue-url", url, "--message-body",
                              "hello from the cli",
                              "--message-attributes",
                              '{"k":{"DataType":"String","StringValue":"v"}}').stdout)
        body_md5 = hashlib.md5(b"hello from the cli").hexdigest()
        assert sent["MD5OfMessageBody"] == body_md5, sent
        got = json.loads(aws("receive-message", "--queue-url", url,
                             "--message-attribute-names", "All",
                             "--wait-time-seconds", "1").stdout)
        m = got["Messages"][0]
        assert m["Body"] == "hello from the cli", m
        assert m["MessageAttributes"]["k"]["StringValue"] == "v", m
        assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"], (m, sent)
        aws("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        listed = json.loads(aws("list-queues").stdout)["QueueUrls"]
        assert listed == [url], listed
        missing = aws("get-queue-url", "--queue-name", "nope", check=False)
        assert missing.returncode != 0, missing
        assert "NonExistentQueue" in missing.stderr, missing.stderr
        print("ok   aws sqs create-queue/send-message/receive-message/delete-message/"
              "list-queues/get-queue-url (error)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
