// ferry::HttpClient (ferry/http_client.h): URL parsing, requests against a
// loopback server (headers, keep-alive reuse, a server closing its idle
// connection, bounded answers), errors (refused, a server that never
// answers: the deadline fires), https against a self-signed server with
// verification off, refused with it on, accepted with the certificate as a
// trusted CA; and MakeHttpTransport.
#include "ferry/http_client.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "loopback_http_server.h"

namespace ferry {
namespace {

using gateway_testing::KeyAndCertificate;
using gateway_testing::LoopbackHttpServer;
using gateway_testing::SelfSignedCertificate;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::unique_ptr<HttpClient> NewClient(HttpClientOptions options = {}) {
  absl::StatusOr<std::unique_ptr<HttpClient>> c =
      HttpClient::Create(std::move(options));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(ParseHttpUrlTest, SchemeHostPortTarget) {
  absl::StatusOr<HttpUrl> u = ParseHttpUrl("http://example.com/hook?a=1&b=2");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/hook?a=1&b=2");
  EXPECT_EQ(u->HostHeader(), "example.com");

  u = ParseHttpUrl("HTTPS://Example.com:8443");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->HostHeader(), "Example.com:8443");

  u = ParseHttpUrl("https://h?x=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/?x=1");

  u = ParseHttpUrl("http://127.0.0.1:9/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9);
}

TEST(ParseHttpUrlTest, Ipv6LiteralsAndUserInfo) {
  absl::StatusOr<HttpUrl> u = ParseHttpUrl("http://[::1]:8080/p");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->HostHeader(), "[::1]:8080");
  u = ParseHttpUrl("https://[2001:db8::5]/");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "2001:db8::5");
  EXPECT_EQ(u->HostHeader(), "[2001:db8::5]");

  u = ParseHttpUrl("https://user:p%40ss@example.com/x");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->userinfo, "user:p@ss");
  EXPECT_EQ(u->host, "example.com");
}

TEST(ParseHttpUrlTest, Rejects) {
  for (const char* bad :
       {"", "example.com/x", "ftp://example.com/", "http://", "http:///x",
        "http://host:0/", "http://host:65536/", "http://host:12ab/",
        "http://[::1/", "http://[not-v6]/", "http://::1/", "http://h/a b",
        "http://h:80:81/", "http://[::1]x/"}) {
    absl::StatusOr<HttpUrl> u = ParseHttpUrl(bad);
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  std::unique_ptr<HttpClient> client = NewClient();
  EXPECT_EQ(client->Send({.url = "gopher://x/"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, PostsWithHeadersAndReusesTheConnection) {
  LoopbackHttpServer server;
  server.set_status(201);
  server.set_body("created");
  std::unique_ptr<HttpClient> client = NewClient();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> r =
        client->Send({.method = "POST",
                      .url = server.Url("/hook?n=1"),
                      .headers = {{"Content-Type", "text/plain"},
                                  {"x-amz-sns-message-type", "Notification"}},
                      .body = "hello"});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, "created");
  }
  ASSERT_THAT(server.requests(), SizeIs(3));
  const gateway_testing::RecordedPost p = server.requests()[0];
  EXPECT_EQ(p.method, "POST");
  EXPECT_EQ(p.target, "/hook?n=1");
  EXPECT_EQ(p.body, "hello");
  EXPECT_EQ(p.Header("host"), absl::StrCat("127.0.0.1:", server.port()));
  EXPECT_EQ(p.Header("content-length"), "5");
  EXPECT_EQ(p.Header("x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(server.connections(), 1);  // keep-alive
}

TEST(HttpClientTest, BasicAuthFromTheUrl) {
  LoopbackHttpServer server;
  std::unique_ptr<HttpClient> client = NewClient();
  const std::string url =
      absl::StrCat("http://user:secret@127.0.0.1:", server.port(), "/auth");
  ASSERT_TRUE(client->Send({.url = url}).ok());
  EXPECT_EQ(server.requests()[0].Header("authorization"),
            "Basic dXNlcjpzZWNyZXQ=");
}

TEST(HttpClientTest, ServerClosingAfterEachAnswerNeedsNewConnections) {
  LoopbackHttpServer server;
  server.set_close_after_answer(true);
  std::unique_ptr<HttpClient> client = NewClient();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> r = client->Send({.url = server.Url("/")});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClientTest, AReusedConnectionTheServerDroppedIsRetriedOnANewOne) {
  LoopbackHttpServer server;
  std::unique_ptr<HttpClient> client = NewClient();
  ASSERT_TRUE(client->Send({.url = server.Url("/1")}).ok());
  // The server now closes every connection on a request without answering:
  // the request on the kept connection fails before any answer, is sent
  // once more on a new connection, which fails too: an error after exactly
  // one retry.
  server.set_mode(LoopbackHttpServer::Mode::kClose);
  absl::StatusOr<HttpResponse> r = client->Send({.url = server.Url("/2")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_THAT(server.requests(), SizeIs(3));
}

TEST(HttpClientTest, LargeAnswersAreNotKept) {
  LoopbackHttpServer server;
  server.set_body(std::string(4096, 'b'));
  std::unique_ptr<HttpClient> client = NewClient({.max_response_bytes = 1000});
  absl::StatusOr<HttpResponse> r = client->Send({.url = server.Url("/big")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body_truncated);
  EXPECT_EQ(r->body, "");
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port = 0;
  {
    LoopbackHttpServer server;  // a port nobody listens on once it stops
    port = server.port();
  }
  std::unique_ptr<HttpClient> client = NewClient();
  absl::StatusOr<HttpResponse> r = client->Send(
      {.method = "POST", .url = absl::StrCat("http://127.0.0.1:", port, "/")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("connecting failed"));
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat("127.0.0.1:", port)));
}

// An I/O deadline, not a semantics test: the server accepts and never
// answers, and the client's 200 ms timeout must end the request.
TEST(HttpClientTest, DeadlineEndsARequestNobodyAnswers) {
  LoopbackHttpServer server;
  server.set_mode(LoopbackHttpServer::Mode::kHold);
  std::unique_ptr<HttpClient> client = NewClient();
  absl::StatusOr<HttpResponse> r =
      client->Send({.method = "POST",
                    .url = server.Url("/slow"),
                    .body = "x",
                    .timeout = absl::Milliseconds(200)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("no answer within 200ms"));
  EXPECT_THAT(r.status().message(), HasSubstr("reading the answer"));
  EXPECT_THAT(server.requests(), SizeIs(1));
}

TEST(HttpClientTest, HttpsWithVerificationOffAcceptsASelfSignedServer) {
  LoopbackHttpServer server(SelfSignedCertificate());
  std::unique_ptr<HttpClient> client = NewClient({.verify_peer = false});
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<HttpResponse> r = client->Send(
        {.method = "POST", .url = server.Url("/tls"), .body = "secret"});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_THAT(server.requests(), SizeIs(2));
  EXPECT_EQ(server.requests()[0].body, "secret");
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, HttpsVerificationRefusesASelfSignedServer) {
  LoopbackHttpServer server(SelfSignedCertificate());
  std::unique_ptr<HttpClient> client = NewClient();  // verify_peer by default
  absl::StatusOr<HttpResponse> r =
      client->Send({.method = "POST", .url = server.Url("/tls")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("TLS handshake failed"));
  EXPECT_THAT(r.status().message(), HasSubstr("self-signed certificate"));
  EXPECT_THAT(server.requests(), SizeIs(0));
}

TEST(HttpClientTest, HttpsVerifiesAgainstATrustedCaAndTheHostName) {
  KeyAndCertificate kc = SelfSignedCertificate();
  LoopbackHttpServer server(kc);
  std::unique_ptr<HttpClient> client = NewClient({.ca_pem = kc.cert_pem});
  absl::StatusOr<HttpResponse> r = client->Send({.url = server.Url("/ok")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  // By name (SNI, and the DNS name checked); a ::1 that localhost may
  // resolve to first refuses, and the next address is tried.
  r = client->Send(
      {.url = absl::StrCat("https://localhost:", server.port(), "/name")});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.requests()[1].Header("host"),
            absl::StrCat("localhost:", server.port()));

  EXPECT_EQ(HttpClient::Create({.ca_pem = "not a certificate"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, HttpsRefusesACertificateForAnotherName) {
  KeyAndCertificate kc = SelfSignedCertificate("DNS:other.example");
  LoopbackHttpServer server(kc);
  std::unique_ptr<HttpClient> client = NewClient({.ca_pem = kc.cert_pem});
  absl::StatusOr<HttpResponse> r = client->Send({.url = server.Url("/")});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("mismatch"));
  EXPECT_THAT(server.requests(), SizeIs(0));
}

TEST(HttpClientTest, TransportReturnsTheStatusOrNoAnswer) {
  LoopbackHttpServer server;
  server.set_status(503);
  absl::StatusOr<std::shared_ptr<HttpTransport>> t = MakeHttpTransport();
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<int> code =
      (*t)->Post({.url = server.Url("/sns"), .body = "{}"});
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 503);
  server.Stop();
  code = (*t)->Post({.url = server.Url("/sns"), .body = "{}"});
  EXPECT_EQ(code.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ferry
