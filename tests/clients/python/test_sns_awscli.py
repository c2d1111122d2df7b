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

import argparse
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
        def aws(service, *argv, check=True):
            cmd = [args.aws, "--endpoint-url", server.url, "--output", "json",
                   service, *argv]
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
            if check and r.returncode != 0:
                raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr}")
            return r

        def out(service, *argv):
            return json.loads(aws(service, *argv).stdout or "{}")

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
