#!/usr/bin/env python3
"""SQS scenarios with a real boto3 client against `ferry serve`.

usage: sqs_boto3_test.py --ferry PATH/TO/ferry

Debian 12's boto3 (botocore 1.29) speaks SQS's Query protocol; botocore
1.34.90 and later speak the JSON protocol. The script reports which one it
used. Exits 0 on success, 1 on a failed check, 77 when boto3 is missing (the
ctest skip code).

boto3 does not check MD5s itself, so the script recomputes MD5OfMessageBody
and MD5OfMessageAttributes the way the Java and .NET SDKs do and compares.
"""

import argparse
import hashlib
import os
import struct
import sys
import tempfile
import threading
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import FerryServer, dummy_credentials_env  # noqa: E402

try:
    import boto3
    import botocore
    from botocore.exceptions import ClientError
except ImportError:
    print("SKIP: boto3 is not installed for", sys.executable)
    sys.exit(77)


def md5_body(body):
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def md5_attributes(attributes):
    def lp(b):
        return struct.pack(">I", len(b)) + b

    buf = b""
    for name in sorted(attributes):
        value = attributes[name]
        buf += lp(name.encode()) + lp(value["DataType"].encode())
        if "StringValue" in value:
            buf += b"\x01" + lp(value["StringValue"].encode())
        else:
            buf += b"\x02" + lp(value["BinaryValue"])
    return hashlib.md5(buf).hexdigest()


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_error(fn, code, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        expect(got == code, f"expected error {code}, got {got}: {e}")
        return e
    raise AssertionError(f"expected error {code}, the call succeeded")


def lifecycle(sqs):
    url = sqs.create_queue(
        QueueName="life",
        Attributes={"VisibilityTimeout": "45", "DelaySeconds": "0"},
        tags={"team": "red"},
    )["QueueUrl"]
    expect(url.endswith("/000000000000/life"), url)
    expect(sqs.get_queue_url(QueueName="life")["QueueUrl"] == url, "get_queue_url")
    # Same attributes: the same queue; different ones: QueueAlreadyExists.
    expect(
        sqs.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "45"})[
            "QueueUrl"
        ]
        == url,
        "idempotent create",
    )
    expect_error(
        sqs.create_queue,
        "QueueAlreadyExists",
        QueueName="life",
        Attributes={"VisibilityTimeout": "46"},
    )
    sqs.create_queue(QueueName="life-2")
    listed = sqs.list_queues(QueueNamePrefix="life")["QueueUrls"]
    expect(len(listed) == 2 and url in listed, listed)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    expect(attrs["VisibilityTimeout"] == "45", attrs)
    expect(attrs["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:life", attrs)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "10"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    expect(attrs["Attributes"] == {"VisibilityTimeout": "10"}, attrs)
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    expect(sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}, "tags")
    sqs.add_permission(
        QueueUrl=url, Label="p1", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
    )
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    expect("p1" in policy["Attributes"]["Policy"], policy)
    sqs.remove_permission(QueueUrl=url, Label="p1")
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    expect("Messages" not in sqs.receive_message(QueueUrl=url), "purged")
    sqs.delete_queue(QueueUrl=url)
    e = expect_error(
        sqs.get_queue_url, "AWS.SimpleQueueService.NonExistentQueue", QueueName="life"
    )
    expect(isinstance(e, sqs.exceptions.QueueDoesNotExist), type(e))


def send_receive_delete(sqs):
    url = sqs.create_queue(QueueName="msgs")["QueueUrl"]
    body = 'text with "quotes", <xml> & a CR\r\nand unicode \u00e9\u4e2d'
    attributes = {
        "s": {"DataType": "String", "StringValue": "hello"},
        "n": {"DataType": "Number", "StringValue": "1493147359900"},
        "long": {"DataType": "Number.java.lang.Long", "StringValue": "7"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
        "png": {"DataType": "Binary.png", "BinaryValue": b"\x89PNG"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
    expect(sent["MD5OfMessageBody"] == md5_body(body), sent)
    expect(sent["MD5OfMessageAttributes"] == md5_attributes(attributes), sent)

    got = sqs.receive_message(
        QueueUrl=url,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
        VisibilityTimeout=30,
    )["Messages"]
    expect(len(got) == 1, got)
    m = got[0]
    expect(m["Body"] == body, repr(m["Body"]))
    expect(m["MessageId"] == sent["MessageId"], m)
    expect(m["MD5OfBody"] == md5_body(body), m)
    expect(m["MessageAttributes"] == attributes, m["MessageAttributes"])
    expect(m["MD5OfMessageAttributes"] == md5_attributes(attributes), m)
    expect(m["Attributes"]["ApproximateReceiveCount"] == "1", m["Attributes"])
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
    )
    # A filtered attribute set: the MD5 covers what was returned.
    again = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["s"])["Messages"][0]
    expect(again["MessageAttributes"] == {"s": attributes["s"]}, again)
    expect(again["MD5OfMessageAttributes"] == md5_attributes({"s": attributes["s"]}), again)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    expect_error(
        sqs.delete_message, "ReceiptHandleIsInvalid", QueueUrl=url, ReceiptHandle="junk"
    )

    entries = [
        {"Id": f"e{i}", "MessageBody": f"batch {i}",
         "MessageAttributes": {"i": {"DataType": "Number", "StringValue": str(i)}}}
        for i in range(10)
    ]
    batch = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    expect(len(batch["Successful"]) == 10 and not batch.get("Failed"), batch)
    for ok in batch["Successful"]:
        i = int(ok["Id"][1:])
        expect(ok["MD5OfMessageBody"] == md5_body(f"batch {i}"), ok)
        expect(ok["MD5OfMessageAttributes"] == md5_attributes(entries[i]["MessageAttributes"]), ok)
    received = []
    while len(received) < 10:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        expect(got, "batch messages")
        received += got
    expect(sorted(m["Body"] for m in received) == sorted(e["MessageBody"] for e in entries),
           received)
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": f"c{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 60}
                 for i, m in enumerate(received)],
    )
    expect(len(changed["Successful"]) == 10, changed)
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]}
                 for i, m in enumerate(received[:9])] + [{"Id": "bad", "ReceiptHandle": "junk"}],
    )
    expect(len(deleted["Successful"]) == 9, deleted)
    expect(deleted["Failed"][0]["Id"] == "bad", deleted)
    expect(deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid", deleted)
    expect_error(sqs.send_message_batch, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                 QueueUrl=url,
                 Entries=[{"Id": f"x{i}", "MessageBody": "m"} for i in range(11)])
    expect_error(sqs.receive_message, "InvalidParameterValue", QueueUrl=url,
                 MaxNumberOfMessages=11)


def fifo(sqs):
    url = sqs.create_queue(
        QueueName="orders.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    sequences = []
    for body in ["one", "two", "three", "one"]:
        r = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
        sequences.append(r["SequenceNumber"])
    # The repeated "one" is deduplicated: same message, same sequence number.
    expect(sequences[3] == sequences[0], sequences)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                              AttributeNames=["All"])["Messages"]
    expect([m["Body"] for m in got] == ["one", "two", "three"], got)
    expect(got[0]["Attributes"]["MessageGroupId"] == "g", got[0]["Attributes"])
    expect_error(sqs.send_message, "MissingParameter", QueueUrl=url, MessageBody="x")


def dead_letter(sqs):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    src = sqs.create_queue(
        QueueName="work",
        Attributes={"RedrivePolicy":
                    '{"deadLetterTargetArn":"%s","maxReceiveCount":"1"}' % dlq_arn},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=src, MessageBody="poison")
    first = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]
    expect(first[0]["Body"] == "poison", first)
    # Its second receive moves it to the dead-letter queue instead.
    expect("Messages" not in sqs.receive_message(QueueUrl=src), "moved")
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    expect(moved[0]["Body"] == "poison", moved)
    expect(moved[0]["Attributes"].get("DeadLetterQueueSourceArn", "").endswith(":work"),
           moved[0]["Attributes"])
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    expect(sources == [src], sources)
    if hasattr(sqs, "start_message_move_task"):  # botocore >= 1.31.33
        sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=moved[0]["ReceiptHandle"],
                                      VisibilityTimeout=0)
        task = sqs.start_message_move_task(SourceArn=dlq_arn)
        expect(task["TaskHandle"], task)
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        expect(tasks and tasks[0]["SourceArn"] == dlq_arn, tasks)


def long_poll(sqs):
    url = sqs.create_queue(QueueName="poll")["QueueUrl"]
    result = {}

    def poll():
        result["r"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)

    t = threading.Thread(target=poll)
    t.start()
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    t.join(timeout=15)
    expect(not t.is_alive(), "long poll returned")
    messages = result["r"].get("Messages")
    if messages is None:  # the send landed before the poll started waiting
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    expect(messages[0]["Body"] == "wake up", messages)
    # A poll with nothing to receive waits, then answers with no messages.
    expect("Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1),
           "empty long poll")


SCENARIOS = [lifecycle, send_receive_delete, fifo, dead_letter, long_poll]


def durable(ferry_binary):
    """`ferry serve --data-dir`: messages survive a restart (RocksDB builds)."""
    with tempfile.TemporaryDirectory() as data_dir:
        try:
            server = FerryServer(ferry_binary, ["--data-dir", data_dir]).__enter__()
        except RuntimeError:
            print("skip durable (this ferry has no RocksDB backend)")
            return False
        try:
            sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")
            url = sqs.create_queue(QueueName="durable")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="kept across restarts",
                             MessageAttributes={"a": {"DataType": "String",
                                                      "StringValue": "b"}})
        finally:
            server.stop()
        with FerryServer(ferry_binary, ["--data-dir", data_dir]) as server:
            sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")
            url = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
            got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])
            m = got["Messages"][0]
            expect(m["Body"] == "kept across restarts", m)
            expect(m["MD5OfMessageAttributes"] == md5_attributes(
                {"a": {"DataType": "String", "StringValue": "b"}}), m)


def signatures(ferry_binary):
    """`ferry serve --credential`: botocore's signatures verify, others fail."""
    key, secret = "AKIDFERRYTEST", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    with FerryServer(ferry_binary, ["--credential", f"{key}:{secret}:444455556666"]) as server:
        good = boto3.client("sqs", endpoint_url=server.url, region_name="eu-west-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)
        url = good.create_queue(QueueName="signed")["QueueUrl"]
        expect(url.endswith("/444455556666/signed"), url)
        good.send_message(QueueUrl=url, MessageBody="signed body with spaces & symbols")
        got = good.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        expect(got[0]["Body"] == "signed body with spaces & symbols", got)
        bad = boto3.client("sqs", endpoint_url=server.url, region_name="eu-west-1",
                           aws_access_key_id=key, aws_secret_access_key="wrong")
        expect_error(bad.list_queues, "SignatureDoesNotMatch")
        stranger = boto3.client("sqs", endpoint_url=server.url, region_name="eu-west-1",
                                aws_access_key_id="AKIDSTRANGER",
                                aws_secret_access_key=secret)
        expect_error(stranger.list_queues, "InvalidClientTokenId")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    args = parser.parse_args()
    os.environ.update(dummy_credentials_env())
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__} ({sys.executable})")
    failed = 0
    with FerryServer(args.ferry) as server:
        sqs = boto3.client("sqs", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        protocol = sqs.meta.service_model.protocol
        print(f"SQS protocol: {protocol}; server {server.url}")
        for scenario in SCENARIOS:
            try:
                scenario(sqs)
                print(f"ok   {scenario.__name__}")
            except Exception:  # report every scenario, then fail
                failed += 1
                print(f"FAIL {scenario.__name__}")
                traceback.print_exc()
    for scenario in (signatures, durable):
        try:
            if scenario(args.ferry) is not False:
                print(f"ok   {scenario.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {scenario.__name__}")
            traceback.print_exc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
