// SNS http/https delivery for real: a gateway over a manual-clock broker
// whose SNS sends through ferry's HTTP client (MakeHttpTransport), and a
// loopback HTTP(S) server as the subscribed endpoint. Subscribe → the
// endpoint gets a SubscriptionConfirmation POST with AWS's headers → the
// test GETs the SubscribeURL (or calls ConfirmSubscription) over the gateway
// → Publish → the endpoint gets a Notification whose signature verifies with
// the certificate the gateway serves. Failures (5xx, a connection closed
// without an answer, refused) are retried when the manual clock passes the
// delivery policy's delays, then dead-lettered; unconfirmed subscriptions
// receive nothing; raw delivery; UnsubscribeConfirmation; https with and
// without certificate verification.
//
// The broker's executor is the inline one: a POST happens inside the request
// (or RunMaintenance call) that causes it, so the endpoint has it recorded
// when that call returns. Reference: sns.md §1.6, §3.1-§3.6.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ferry/http_client.h"
#include "ferry/sns.h"
#include "ferry/topic.h"
#include "gateway_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http_test_client.h"
#include "loopback_http_server.h"

namespace ferry {
namespace {

using gateway_testing::Client;
using gateway_testing::Json;
using gateway_testing::LoopbackHttpServer;
using gateway_testing::RecordedPost;
using gateway_testing::Response;
using gateway_testing::UrlEncode;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace http = boost::beast::http;

constexpr char kRegionPrefix[] = "arn:aws:sqs:us-east-1:000000000000:";

std::string Between(const std::string& s, const std::string& tag) {
  size_t a = s.find("<" + tag + ">");
  size_t b = s.find("</" + tag + ">");
  if (a == std::string::npos || b == std::string::npos) return "";
  a += tag.size() + 2;
  return s.substr(a, b - a);
}

// The path and query of an https://sns.<region>.amazonaws.com/... URL.
std::string PathOf(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string Base64Decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// Verifies an envelope's Signature (sns.md §3.6) with `cert_pem`, as an SNS
// subscriber does.
bool SignatureVerifies(const Json& env, const std::string& cert_pem) {
  std::vector<std::string> fields;
  if (env["Type"] == "Notification") {
    fields = {"Message", "MessageId"};
    if (env.contains("Subject")) fields.push_back("Subject");
    for (const char* f : {"Timestamp", "TopicArn", "Type"}) fields.push_back(f);
  } else {
    fields = {"Message", "MessageId", "SubscribeURL", "Timestamp",
              "Token",   "TopicArn",  "Type"};
  }
  std::string canonical;
  for (const std::string& f : fields) {
    absl::StrAppend(&canonical, f, "\n", env[f].get<std::string>(), "\n");
  }
  const std::string sig = Base64Decode(env["Signature"]);
  BIO* bio =
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = env["SignatureVersion"] == "2" ? EVP_sha256() : EVP_sha1();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, X509_get0_pubkey(cert)) ==
          1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()),
                       sig.size(),
                       reinterpret_cast<const unsigned char*>(canonical.data()),
                       canonical.size()) == 1;
  EVP_MD_CTX_free(ctx);
  X509_free(cert);
  return ok;
}

class SnsHttpDeliveryTest : public gateway_testing::GatewayFixture {
 protected:
  void SetUp() override {
    StartGateway({});
    UseTransport({});
    client_ = std::make_unique<Client>(port_);
    topic_ = CreateTopic("t");
  }

  void UseTransport(HttpClientOptions options) {
    absl::StatusOr<std::shared_ptr<HttpTransport>> t =
        MakeHttpTransport(std::move(options));
    ASSERT_TRUE(t.ok()) << t.status();
    broker_->sns().SetHttpTransport(*t);
  }

  Response Sns(const std::string& form) {
    return client_->Query(absl::StrCat(form, "&Version=2010-03-31"));
  }
  std::string CreateTopic(const std::string& name) {
    Response r = Sns("Action=CreateTopic&Name=" + name);
    EXPECT_EQ(r.status, 200) << r.body;
    return Between(r.body, "TopicArn");
  }
  // Subscribe; `attributes` are (name, value) pairs. Returns the response's
  // SubscriptionArn ("pending confirmation" for http/https).
  std::string Subscribe(
      const std::string& protocol, const std::string& endpoint,
      const std::vector<std::pair<std::string, std::string>>& attributes = {}) {
    std::string form =
        absl::StrCat("Action=Subscribe&TopicArn=", UrlEncode(topic_),
                     "&Protocol=", protocol, "&Endpoint=", UrlEncode(endpoint));
    int i = 1;
    for (const auto& [k, v] : attributes) {
      absl::StrAppend(&form, "&Attributes.entry.", i, ".key=", UrlEncode(k),
                      "&Attributes.entry.", i, ".value=", UrlEncode(v));
      ++i;
    }
    Response r = Sns(form);
    EXPECT_EQ(r.status, 200) << r.body;
    return Between(r.body, "SubscriptionArn");
  }
  Response Publish(const std::string& message, const std::string& extra = "") {
    Response r = Sns(absl::StrCat("Action=Publish&TopicArn=", UrlEncode(topic_),
                                  "&Message=", UrlEncode(message), extra));
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  }
  // Subscribes `server`'s /hook and confirms it with the SubscribeURL the
  // confirmation carried; returns the subscription ARN.
  std::string SubscribeConfirmed(
      LoopbackHttpServer& server,
      const std::vector<std::pair<std::string, std::string>>& attributes = {}) {
    EXPECT_EQ(Subscribe("http", server.Url("/hook"), attributes),
              "pending confirmation");
    std::vector<RecordedPost> posts = server.requests();
    EXPECT_THAT(posts, SizeIs(1));
    if (posts.empty()) return "";
    Json c = Json::parse(posts.back().body);
    Response r =
        client_->Send(http::verb::get, PathOf(c["SubscribeURL"]), {}, "");
    EXPECT_EQ(r.status, 200) << r.body;
    server.ClearRequests();
    return Between(r.body, "SubscriptionArn");
  }
  void AdvanceAndRunRetries(int seconds) {
    clock_.Advance(absl::Seconds(seconds));
    ASSERT_TRUE(broker_->RunMaintenance().ok());
  }
  std::vector<Json> ReceiveAll(const std::string& queue_url) {
    Response r =
        client_->Json10("ReceiveMessage", {{"QueueUrl", queue_url},
                                           {"MaxNumberOfMessages", 10},
                                           {"MessageAttributeNames", {"All"}}});
    std::vector<Json> out;
    Json j = r.JsonBody();
    if (j.contains("Messages")) {
      for (const Json& m : j["Messages"]) out.push_back(m);
    }
    return out;
  }
  TopicStats Stats() { return *broker_->GetTopic("t")->Stats(); }

  std::unique_ptr<Client> client_;
  std::string topic_;
};

TEST_F(SnsHttpDeliveryTest, ConfirmThroughTheSubscribeUrlThenReceiveSigned) {
  LoopbackHttpServer endpoint;
  EXPECT_EQ(Subscribe("http", endpoint.Url("/hook?src=sns")),
            "pending confirmation");
  std::vector<RecordedPost> posts = endpoint.requests();
  ASSERT_THAT(posts, SizeIs(1));
  const RecordedPost& c = posts[0];
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.target, "/hook?src=sns");
  EXPECT_EQ(c.Header("x-amz-sns-message-type"), "SubscriptionConfirmation");
  EXPECT_EQ(c.Header("x-amz-sns-topic-arn"), topic_);
  EXPECT_EQ(c.Header("x-amz-sns-subscription-arn"), "<absent>");
  EXPECT_EQ(c.Header("content-type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(c.Header("user-agent"), "Amazon Simple Notification Service Agent");
  EXPECT_EQ(c.Header("host"), absl::StrCat("127.0.0.1:", endpoint.port()));
  Json conf = Json::parse(c.body);
  EXPECT_EQ(conf["Type"], "SubscriptionConfirmation");
  EXPECT_EQ(c.Header("x-amz-sns-message-id"), conf["MessageId"]);
  EXPECT_EQ(conf["TopicArn"], topic_);
  EXPECT_THAT(conf["SubscribeURL"].get<std::string>(),
              HasSubstr("?Action=ConfirmSubscription&TopicArn="));

  // The signing certificate, where SigningCertURL points, from the gateway.
  Response cert =
      client_->Send(http::verb::get, PathOf(conf["SigningCertURL"]), {}, "");
  ASSERT_EQ(cert.status, 200);
  EXPECT_TRUE(SignatureVerifies(conf, cert.body));

  // Unconfirmed: nothing is delivered.
  endpoint.ClearRequests();
  Publish("too early");
  EXPECT_THAT(endpoint.requests(), IsEmpty());

  // The endpoint confirms by GETting the SubscribeURL over the gateway.
  Response confirmed =
      client_->Send(http::verb::get, PathOf(conf["SubscribeURL"]), {}, "");
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_THAT(confirmed.body, HasSubstr("<ConfirmSubscriptionResponse"));
  const std::string sub = Between(confirmed.body, "SubscriptionArn");
  EXPECT_THAT(sub, HasSubstr(topic_ + ":"));

  Publish("hello, endpoint", "&Subject=greeting");
  posts = endpoint.requests();
  ASSERT_THAT(posts, SizeIs(1));
  const RecordedPost& n = posts[0];
  EXPECT_EQ(n.Header("x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(n.Header("x-amz-sns-subscription-arn"), sub);
  EXPECT_EQ(n.Header("x-amz-sns-topic-arn"), topic_);
  EXPECT_EQ(n.Header("content-type"), "text/plain; charset=UTF-8");
  Json env = Json::parse(n.body);
  EXPECT_EQ(env["Type"], "Notification");
  EXPECT_EQ(env["Message"], "hello, endpoint");
  EXPECT_EQ(env["Subject"], "greeting");
  EXPECT_EQ(n.Header("x-amz-sns-message-id"), env["MessageId"]);
  EXPECT_EQ(env["SignatureVersion"], "1");
  EXPECT_TRUE(SignatureVerifies(env, cert.body));
  // A tampered message does not verify.
  Json tampered = env;
  tampered["Message"] = "hello, someone else";
  EXPECT_FALSE(SignatureVerifies(tampered, cert.body));
  // The UnsubscribeURL works over the gateway too (checked below).
  EXPECT_THAT(env["UnsubscribeURL"].get<std::string>(),
              HasSubstr("?Action=Unsubscribe&SubscriptionArn="));

  // SignatureVersion 2: SHA256withRSA.
  ASSERT_EQ(
      Sns(absl::StrCat("Action=SetTopicAttributes&TopicArn=", UrlEncode(topic_),
                       "&AttributeName=SignatureVersion&AttributeValue=2"))
          .status,
      200);
  endpoint.ClearRequests();
  Publish("v2");
  posts = endpoint.requests();
  ASSERT_THAT(posts, SizeIs(1));
  Json env2 = Json::parse(posts[0].body);
  EXPECT_EQ(env2["SignatureVersion"], "2");
  EXPECT_TRUE(SignatureVerifies(env2, cert.body));

  // Unsubscribing through the UnsubscribeURL POSTs an
  // UnsubscribeConfirmation; later publishes reach nobody.
  endpoint.ClearRequests();
  Response un =
      client_->Send(http::verb::get, PathOf(env["UnsubscribeURL"]), {}, "");
  EXPECT_EQ(un.status, 200) << un.body;
  posts = endpoint.requests();
  ASSERT_THAT(posts, SizeIs(1));
  EXPECT_EQ(posts[0].Header("x-amz-sns-message-type"),
            "UnsubscribeConfirmation");
  EXPECT_TRUE(SignatureVerifies(Json::parse(posts[0].body), cert.body));
  endpoint.ClearRequests();
  Publish("after unsubscribe");
  EXPECT_THAT(endpoint.requests(), IsEmpty());
}

TEST_F(SnsHttpDeliveryTest, ConfirmSubscriptionWithTheToken) {
  LoopbackHttpServer endpoint;
  Subscribe("http", endpoint.Url("/hook"));
  ASSERT_THAT(endpoint.requests(), SizeIs(1));
  Json conf = Json::parse(endpoint.requests()[0].body);
  endpoint.ClearRequests();
  Response r = Sns(
      absl::StrCat("Action=ConfirmSubscription&TopicArn=", UrlEncode(topic_),
                   "&Token=", UrlEncode(conf["Token"])));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Between(r.body, "SubscriptionArn").empty());
  Publish("confirmed by token");
  ASSERT_THAT(endpoint.requests(), SizeIs(1));
  EXPECT_EQ(Json::parse(endpoint.requests()[0].body)["Message"],
            "confirmed by token");
}

TEST_F(SnsHttpDeliveryTest, RawMessageDelivery) {
  LoopbackHttpServer endpoint;
  SubscribeConfirmed(endpoint, {{"RawMessageDelivery", "true"}});
  Publish(R"({"order":42})",
          "&MessageAttributes.entry.1.Name=k"
          "&MessageAttributes.entry.1.Value.DataType=String"
          "&MessageAttributes.entry.1.Value.StringValue=v");
  std::vector<RecordedPost> posts = endpoint.requests();
  ASSERT_THAT(posts, SizeIs(1));
  EXPECT_EQ(posts[0].body, R"({"order":42})");
  EXPECT_EQ(posts[0].Header("x-amz-sns-rawdelivery"), "true");
  EXPECT_EQ(posts[0].Header("x-amz-sns-message-type"), "Notification");
}

TEST_F(SnsHttpDeliveryTest, ServerErrorsAreRetriedOnTheClockThenDeadLettered) {
  LoopbackHttpServer endpoint;
  const std::string dlq = CreateQueueJson(*client_, "dlq");
  SubscribeConfirmed(
      endpoint, {{"RedrivePolicy", absl::StrCat(R"({"deadLetterTargetArn":")",
                                                kRegionPrefix, R"(dlq"})")}});
  endpoint.set_status(503);
  Publish("unlucky");
  ASSERT_THAT(endpoint.requests(), SizeIs(1));
  const std::string message_id =
      endpoint.requests()[0].Header("x-amz-sns-message-id");
  // AWS's default http policy: 3 retries, 20 s apart.
  for (int retry = 1; retry <= 3; ++retry) {
    AdvanceAndRunRetries(19);
    EXPECT_THAT(endpoint.requests(), SizeIs(retry)) << "retry " << retry;
    AdvanceAndRunRetries(1);
    ASSERT_THAT(endpoint.requests(), SizeIs(retry + 1)) << "retry " << retry;
    // Every try carries the same message id (receivers deduplicate by it).
    EXPECT_EQ(endpoint.requests().back().Header("x-amz-sns-message-id"),
              message_id);
    if (retry < 3) {
      EXPECT_THAT(ReceiveAll(dlq), IsEmpty());
    }
  }
  EXPECT_EQ(Stats().failed, 4);
  // Retries exhausted: the subscription's dead-letter queue has what the
  // endpoint would have got.
  std::vector<Json> dead = ReceiveAll(dlq);
  ASSERT_THAT(dead, SizeIs(1));
  Json env = Json::parse(dead[0]["Body"].get<std::string>());
  EXPECT_EQ(env["Message"], "unlucky");
  EXPECT_EQ(env["MessageId"], message_id);
  AdvanceAndRunRetries(600);
  EXPECT_THAT(endpoint.requests(), SizeIs(4));
}

TEST_F(SnsHttpDeliveryTest, NoAnswerIsAFailureRetriedUntilItSucceeds) {
  LoopbackHttpServer endpoint;
  SubscribeConfirmed(
      endpoint,
      {{"DeliveryPolicy",
        R"({"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":5,"maxDelayTarget":5}})"}});
  // The endpoint takes the request and closes the connection unanswered.
  endpoint.set_mode(LoopbackHttpServer::Mode::kClose);
  Publish("second time lucky");
  const size_t first_tries = endpoint.requests().size();
  EXPECT_GE(first_tries, 1u);
  EXPECT_EQ(Stats().failed, 1);
  endpoint.set_mode(LoopbackHttpServer::Mode::kAnswer);
  AdvanceAndRunRetries(4);
  EXPECT_THAT(endpoint.requests(), SizeIs(first_tries));
  AdvanceAndRunRetries(1);
  std::vector<RecordedPost> posts = endpoint.requests();
  ASSERT_THAT(posts, SizeIs(first_tries + 1));
  EXPECT_EQ(Json::parse(posts.back().body)["Message"], "second time lucky");
  // Delivered: nothing more comes.
  AdvanceAndRunRetries(60);
  EXPECT_THAT(endpoint.requests(), SizeIs(first_tries + 1));
  EXPECT_EQ(Stats().failed, 1);
}

TEST_F(SnsHttpDeliveryTest, RefusedConnectionsAreRetriedThenDeadLettered) {
  auto endpoint = std::make_unique<LoopbackHttpServer>();
  const std::string dlq = CreateQueueJson(*client_, "dead");
  SubscribeConfirmed(
      *endpoint,
      {{"DeliveryPolicy",
        R"({"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":10,"maxDelayTarget":10}})"},
       {"RedrivePolicy", absl::StrCat(R"({"deadLetterTargetArn":")",
                                      kRegionPrefix, R"(dead"})")}});
  endpoint->Stop();  // nobody listens on the port now
  Publish("nobody home");
  EXPECT_EQ(Stats().failed, 1);
  AdvanceAndRunRetries(10);
  EXPECT_EQ(Stats().failed, 2);
  EXPECT_THAT(ReceiveAll(dlq), IsEmpty());
  AdvanceAndRunRetries(10);
  EXPECT_EQ(Stats().failed, 3);
  std::vector<Json> dead = ReceiveAll(dlq);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_EQ(Json::parse(dead[0]["Body"].get<std::string>())["Message"],
            "nobody home");
  EXPECT_EQ(Stats().dead_lettered, 1);
}

TEST_F(SnsHttpDeliveryTest, HttpsEndpointWithVerificationOff) {
  LoopbackHttpServer endpoint(gateway_testing::SelfSignedCertificate());
  UseTransport({.verify_peer = false});
  EXPECT_EQ(Subscribe("https", endpoint.Url("/secure")),
            "pending confirmation");
  ASSERT_THAT(endpoint.requests(), SizeIs(1));
  Json conf = Json::parse(endpoint.requests()[0].body);
  EXPECT_EQ(conf["Type"], "SubscriptionConfirmation");
  ASSERT_EQ(client_->Send(http::verb::get, PathOf(conf["SubscribeURL"]), {}, "")
                .status,
            200);
  endpoint.ClearRequests();
  Publish("over tls");
  ASSERT_THAT(endpoint.requests(), SizeIs(1));
  EXPECT_EQ(Json::parse(endpoint.requests()[0].body)["Message"], "over tls");
}

TEST_F(SnsHttpDeliveryTest, HttpsVerificationRefusesASelfSignedEndpoint) {
  LoopbackHttpServer endpoint(gateway_testing::SelfSignedCertificate());
  // The default transport verifies certificates: the confirmation never
  // reaches the endpoint (the handshake fails), and is retried.
  EXPECT_EQ(Subscribe("https", endpoint.Url("/secure")),
            "pending confirmation");
  EXPECT_THAT(endpoint.requests(), IsEmpty());
  EXPECT_EQ(endpoint.connections(), 1);
  AdvanceAndRunRetries(20);
  EXPECT_THAT(endpoint.requests(), IsEmpty());
  EXPECT_EQ(endpoint.connections(), 2);
}

}  // namespace
}  // namespace ferry
