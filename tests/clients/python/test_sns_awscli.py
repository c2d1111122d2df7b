#!/usr/bin/env python3
"""AWS CLI `aws sns` smoke test against `ferry serve`.

usage: test_sns_awscli.py --ferry PATH/TO/ferry [--aws PATH/TO/aws]

create-topic, subscribe a queue of the same server (created with `aws sqs`),
publish with a message attribute, read the envelope back with `aws sqs
receive-message`, list-subscriptions-by-topic, get-topic-attributes of a
missing topic (exit status 254 and the NotFound code on stderr),
delete-topic. Exits 0 on success, 1 on failure, 77 (ctest skip) when no aws
program is found.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import AwsCli, FerryServer, awscli_test_args  # noqa: E402


def main():
    args = awscli_test_args()
    if args is None:
        return 77
    with FerryServer(args.ferry) as server:
        aws = AwsCli(args.aws, server.url)
        out = aws.out

        topic = out("sns", "create-topic", "--name", "smoke")["TopicArn"]
        assert topic == "arn:aws:sns:us-east-1:000000000000:smoke", topic
        url = out("sqs", "create-queue", "--queue-name", "smoke-inbox")["QueueUrl"]
        queue_arn = out("sqs", "get-queue-attributes", "--queue-url", url,
                        "--attribute-names", "QueueArn")["Attributes"]["QueueArn"]
        sub = out("sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs",
                  "--notification-endpoint", queue_arn,
                  "--return-subscription-arn")["SubscriptionArn"]
        assert sub.startswith(topic + ":"), sub
        subs = out("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
        assert [s["SubscriptionArn"] for s in subs["Subscriptions"]] == [sub], subs
        sent = out("sns", "publish", "--topic-arn", topic, "--message",
                   "hello from the cli", "--message-attributes",
                   '{"k":{"DataType":"String","StringValue":"v"}}')
        got = out("sqs", "receive-message", "--queue-url", url,
                  "--wait-time-seconds", "1")
        envelope = json.loads(got["Messages"][0]["Body"])
        assert envelope["Message"] == "hello from the cli", envelope
        assert envelope["MessageId"] == sent["MessageId"], (envelope, sent)
        assert envelope["MessageAttributes"]["k"]["Value"] == "v", envelope
        topics = out("sns", "list-topics")["Topics"]
        assert topics == [{"TopicArn": topic}], topics

        missing = aws("sns", "get-topic-attributes", "--topic-arn",
                      "arn:aws:sns:us-east-1:000000000000:missing", check=False)
        assert missing.returncode == 254, (missing.returncode, missing.stderr)
        assert "NotFound" in missing.stderr, missing.stderr
        aws("sns", "delete-topic", "--topic-arn", topic)
        assert out("sns", "list-topics")["Topics"] == [], "deleted"
    print("ok   aws sns smoke")
    return 0


if __name__ == "__main__":
    sys.exit(main())
