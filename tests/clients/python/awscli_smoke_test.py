#!/usr/bin/env python3
"""AWS CLI smoke test against `ferry serve`.

usage: awscli_smoke_test.py --ferry PATH/TO/ferry [--aws PATH/TO/aws]

Runs `aws --endpoint-url URL sqs ...` create-queue, send-message,
receive-message, delete-message, get-queue-url of a missing queue (exit
status 254 and the NonExistentQueue code on stderr). Exits 0 on success, 1 on
failure, 77 (ctest skip) when no aws program is found.
"""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import AwsCli, FerryServer, awscli_test_args  # noqa: E402


def main():
    args = awscli_test_args()
    if args is None:
        return 77
    with FerryServer(args.ferry) as server:
        aws = AwsCli(args.aws, server.url, "sqs")
        url = aws.out("create-queue", "--queue-name", "smoke")["QueueUrl"]
        assert url == server.url + "/000000000000/smoke", url
        sent = aws.out("send-message", "--queue-url", url, "--message-body",
                       "hello from the cli", "--message-attributes",
                       '{"k":{"DataType":"String","StringValue":"v"}}')
        body_md5 = hashlib.md5(b"hello from the cli").hexdigest()
        assert sent["MD5OfMessageBody"] == body_md5, sent
        got = aws.out("receive-message", "--queue-url", url,
                      "--message-attribute-names", "All", "--wait-time-seconds", "1")
        m = got["Messages"][0]
        assert m["Body"] == "hello from the cli", m
        assert m["MessageAttributes"]["k"]["StringValue"] == "v", m
        assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"], (m, sent)
        aws("delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
        listed = aws.out("list-queues")["QueueUrls"]
        assert listed == [url], listed
        missing = aws("get-queue-url", "--queue-name", "nope", check=False)
        assert missing.returncode != 0, missing
        assert "NonExistentQueue" in missing.stderr, missing.stderr
        print("ok   aws sqs create-queue/send-message/receive-message/delete-message/"
              "list-queues/get-queue-url (error)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
