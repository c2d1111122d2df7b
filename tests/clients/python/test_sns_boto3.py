#!/usr/bin/env python3
"""SNS scenarios with a real boto3 client against `ferry serve`.

usage: test_sns_boto3.py --ferry PATH/TO/ferry

boto3 speaks SNS's Query protocol (every botocore version). One server; the
SNS and SQS clients share it: topics, subscriptions of queues of the same
server, publish with attributes and a filter policy, the JSON envelope read
back through boto3's SQS client (and its signature checked with the signing
certificate when the `cryptography` module is there), raw delivery, a FIFO
topic to a FIFO queue, PublishBatch partial failures, platform applications,
paging and errors. Exits 0 on success, 1 on a failed check, 77 when boto3 is
missing (the ctest skip code).
"""

import argparse
import base64
import json
import os
import sys
import traceback
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ferry_server import FerryServer, dummy_credentials_env  # noqa: E402

try:
    import boto3
    import botocore
except ImportError:
    print("SKIP: boto3 is not installed for", sys.executable)
    sys.exit(77)
# The SQS scenarios' checks (that module's main only runs as a script).
from sqs_boto3_test import expect, expect_error  # noqa: E402


def make_queue(sqs, name, attributes=None):
    url = sqs.create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def receive_all(sqs, url, expected):
    got = []
    for _ in range(5):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                MessageAttributeNames=["All"],
                                AttributeNames=["All"], WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= expected:
            break
    return got


def topics(sns, sqs, server_url):
    arn = sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders & <Co>"},
                           Tags=[{"Key": "team", "Value": "red"}])["TopicArn"]
    expect(arn == "arn:aws:sns:us-east-1:000000000000:orders", arn)
    expect(sns.create_topic(Name="orders",
                            Attributes={"DisplayName": "Orders & <Co>"})["TopicArn"] == arn,
           "create_topic is idempotent")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    expect(attrs["DisplayName"] == "Orders & <Co>", attrs)
    expect(attrs["TopicArn"] == arn, attrs)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName",
                             AttributeValue="renamed")
    expect(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "renamed",
           "set_topic_attributes")
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    expect(tags == [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "red"}], tags)
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    expect(sns.list_tags_for_resource(ResourceArn=arn)["Tags"] ==
           [{"Key": "env", "Value": "test"}], "untag_resource")
    sns.add_permission(TopicArn=arn, Label="pub", AWSAccountId=["111122223333"],
                       ActionName=["Publish"])
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    expect(any(s.get("Sid") == "pub" for s in policy["Statement"]), policy)
    sns.remove_permission(TopicArn=arn, Label="pub")
    # Paging: 100 topics a page.
    for i in range(105):
        sns.create_topic(Name=f"page-{i:03d}")
    first = sns.list_topics()
    expect(len(first["Topics"]) == 100 and "NextToken" in first, len(first["Topics"]))
    all_topics = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate()
                  for t in page["Topics"]]
    expect(len(all_topics) == 106 and arn in all_topics, len(all_topics))
    for t in all_topics:
        if ":page-" in t:
            sns.delete_topic(TopicArn=t)
    sns.delete_topic(TopicArn=arn)
    expect(sns.list_topics()["Topics"] == [], "every topic deleted")
    expect_error(sns.get_topic_attributes, "NotFound", TopicArn=arn)
    try:
        sns.get_topic_attributes(TopicArn=arn)
    except sns.exceptions.NotFoundException as e:
        expect(e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response)
    e = expect_error(sns.get_topic_attributes, "InvalidParameter", TopicArn="randomstring")
    expect("An ARN must have at least 6 elements, not 1" in str(e), str(e))


def verify_signature(envelope, server_url):
    """Checks a v1/v2 signature with the certificate the envelope names."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        return False
    fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    text = "".join(f"{k}\n{envelope[k]}\n" for k in fields if k in envelope)
    cert_url = envelope["SigningCertURL"]
    # The configured URL may name another host; fetch the .pem from the server.
    path = cert_url.split("/", 3)[3] if cert_url.count("/") >= 3 else ""
    with urllib.request.urlopen(f"{server_url}/{path}", timeout=10) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    digest = hashes.SHA1() if envelope["SignatureVersion"] == "1" else hashes.SHA256()
    cert.public_key().verify(base64.b64decode(envelope["Signature"]), text.encode(),
                             padding.PKCS1v15(), digest)
    return True


def fan_out(sns, sqs, server_url):
    topic = sns.create_topic(Name="events")["TopicArn"]
    url, queue_arn = make_queue(sqs, "events-inbox")
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                        Attributes={"FilterPolicy": json.dumps({"color": ["red"],
                                                                "size": [{"numeric": [">", 3]}]})},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    expect(sub.startswith(topic + ":"), sub)
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    expect(subs == [{"SubscriptionArn": sub, "Owner": "000000000000", "Protocol": "sqs",
                     "Endpoint": queue_arn, "TopicArn": topic}], subs)
    expect(any(s["SubscriptionArn"] == sub for s in sns.list_subscriptions()["Subscriptions"]),
           "list_subscriptions")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    expect(json.loads(attrs["FilterPolicy"])["color"] == ["red"], attrs)

    sent = sns.publish(TopicArn=topic, Message='a red one: <&> "quoted"\r\nline two',
                       Subject="hello",
                       MessageAttributes={
                           "color": {"DataType": "String", "StringValue": "red"},
                           "size": {"DataType": "Number", "StringValue": "5"},
                           "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
                       })
    expect(len(sent["MessageId"]) == 36, sent)
    sns.publish(TopicArn=topic, Message="a blue one",
                MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"},
                                   "size": {"DataType": "Number", "StringValue": "5"}})
    sns.publish(TopicArn=topic, Message="a small red one",
                MessageAttributes={"color": {"DataType": "String", "StringValue": "red"},
                                   "size": {"DataType": "Number", "StringValue": "1"}})
    got = receive_all(sqs, url, 1)
    expect(len(got) == 1, [m["Body"] for m in got])
    envelope = json.loads(got[0]["Body"])
    expect(envelope["Type"] == "Notification", envelope)
    expect(envelope["MessageId"] == sent["MessageId"], envelope)
    expect(envelope["TopicArn"] == topic, envelope)
    expect(envelope["Subject"] == "hello", envelope)
    expect(envelope["Message"] == 'a red one: <&> "quoted"\r\nline two', envelope)
    expect(envelope["MessageAttributes"]["color"] == {"Type": "String", "Value": "red"},
           envelope)
    expect(envelope["MessageAttributes"]["blob"]["Value"] ==
           base64.b64encode(b"\x00\xff").decode(), envelope)
    for key in ("Timestamp", "SignatureVersion", "Signature", "SigningCertURL",
                "UnsubscribeURL"):
        expect(key in envelope, f"{key} in {envelope}")
    if verify_signature(envelope, server_url):
        print("     envelope signature verified with the signing certificate")

    # Raw delivery: the message itself, attributes as SQS message attributes.
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    sns.publish(TopicArn=topic, Message="raw & red",
                MessageAttributes={"color": {"DataType": "String", "StringValue": "red"},
                                   "size": {"DataType": "Number", "StringValue": "10"}})
    got = receive_all(sqs, url, 1)
    expect(len(got) == 1 and got[0]["Body"] == "raw & red", got)
    expect(got[0]["MessageAttributes"]["color"]["StringValue"] == "red", got[0])
    expect(got[0]["MessageAttributes"]["size"]["DataType"] == "Number", got[0])

    # PublishBatch: a bad entry fails alone.
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "ok1", "Message": "batch one",
         "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"},
                               "size": {"DataType": "Number", "StringValue": "4"}}},
        {"Id": "bad", "Message": ""},
        {"Id": "ok2", "Message": "batch two",
         "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"},
                               "size": {"DataType": "Number", "StringValue": "4"}}},
    ])
    expect(sorted(e["Id"] for e in r["Successful"]) == ["ok1", "ok2"], r)
    expect(len(r["Failed"]) == 1 and r["Failed"][0]["Id"] == "bad" and
           r["Failed"][0]["Code"] == "InvalidParameter" and r["Failed"][0]["SenderFault"],
           r["Failed"])
    got = receive_all(sqs, url, 2)
    expect(sorted(m["Body"] for m in got) == ["batch one", "batch two"],
           [m["Body"] for m in got])
    expect_error(sns.publish_batch, "BatchEntryIdsNotDistinct", TopicArn=topic,
                 PublishBatchRequestEntries=[{"Id": "a", "Message": "x"},
                                             {"Id": "a", "Message": "y"}])
    expect_error(sns.publish_batch, "TooManyEntriesInBatchRequest", TopicArn=topic,
                 PublishBatchRequestEntries=[{"Id": f"m{i}", "Message": "x"}
                                             for i in range(11)])

    sns.unsubscribe(SubscriptionArn=sub)
    expect(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == [],
           "unsubscribed")
    expect_error(sns.publish, "NotFound",
                 TopicArn="arn:aws:sns:us-east-1:000000000000:missing", Message="x")
    expect_error(sns.publish, "ValidationError", TopicArn=topic, Message="x",
                 MessageAttributes={"a": {"DataType": "", "StringValue": "v"}})


def fifo(sns, sqs, server_url):
    topic = sns.create_topic(Name="jobs.fifo",
                             Attributes={"FifoTopic": "true",
                                         "ContentBasedDeduplication": "true"})["TopicArn"]
    url, arn = make_queue(sqs, "jobs.fifo", {"FifoQueue": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    e = expect_error(sns.publish, "InvalidParameter", TopicArn=topic, Message="x")
    expect("MessageGroupId" in str(e), str(e))
    seqs = []
    for i in range(3):
        r = sns.publish(TopicArn=topic, Message=f"job {i}", MessageGroupId="g1")
        seqs.append(int(r["SequenceNumber"]))
    expect(seqs == sorted(seqs) and len(set(seqs)) == 3, seqs)
    # Content-based deduplication: the same body again is dropped.
    sns.publish(TopicArn=topic, Message="job 0", MessageGroupId="g1")
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "job 3", "MessageGroupId": "g1"},
        {"Id": "b", "Message": "job 4", "MessageGroupId": "g1",
         "MessageDeduplicationId": "d4"}])
    expect(all("SequenceNumber" in s for s in r["Successful"]), r)
    got = receive_all(sqs, url, 5)
    expect([m["Body"] for m in got] == [f"job {i}" for i in range(5)],
           [m["Body"] for m in got])
    expect(got[0]["Attributes"]["MessageGroupId"] == "g1", got[0]["Attributes"])


def platform(sns, sqs, server_url):
    app = sns.create_platform_application(
        Name="app", Platform="GCM",
        Attributes={"PlatformCredential": "key"})["PlatformApplicationArn"]
    expect(app == "arn:aws:sns:us-east-1:000000000000:app/GCM/app", app)
    apps = sns.list_platform_applications()["PlatformApplications"]
    expect([a["PlatformApplicationArn"] for a in apps] == [app], apps)
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="tok-1",
                                            CustomUserData="user 1")["EndpointArn"]
    expect(endpoint.startswith("arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/"),
           endpoint)
    eps = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    expect(len(eps) == 1 and eps[0]["Attributes"]["Token"] == "tok-1", eps)
    expect(sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"]["CustomUserData"]
           == "user 1", "get_endpoint_attributes")
    sns.publish(TargetArn=endpoint, Message="push")
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    expect_error(sns.publish, "EndpointDisabled", TargetArn=endpoint, Message="push")
    sns.set_platform_application_attributes(PlatformApplicationArn=app,
                                            Attributes={"SuccessFeedbackSampleRate": "50"})
    expect(sns.get_platform_application_attributes(PlatformApplicationArn=app)[
        "Attributes"].get("SuccessFeedbackSampleRate") == "50", "app attributes")
    sns.delete_endpoint(EndpointArn=endpoint)
    sns.delete_platform_application(PlatformApplicationArn=app)
    expect(sns.list_platform_applications()["PlatformApplications"] == [], "deleted")


SCENARIOS = [topics, fan_out, fifo, platform]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    args = parser.parse_args()
    os.environ.update(dummy_credentials_env())
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__} ({sys.executable})")
    failed = 0
    with FerryServer(args.ferry) as server:
        kw = dict(endpoint_url=server.url, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
        sns = boto3.client("sns", **kw)
        sqs = boto3.client("sqs", **kw)
        print(f"SNS protocol: {sns.meta.service_model.protocol}; server {server.url}")
        for scenario in SCENARIOS:
            try:
                scenario(sns, sqs, server.url)
                print(f"ok   {scenario.__name__}")
            except Exception:  # report every scenario, then fail
                failed += 1
                print(f"FAIL {scenario.__name__}")
                traceback.print_exc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
