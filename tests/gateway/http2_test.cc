// HTTP/2 cleartext with prior knowledge on the gateway's port, driven by an
// nghttp2 client session over a real loopback socket: SQS JSON over h2c,
// concurrent streams on one connection, flow control with large bodies, the
// 413 refusal, HTTP/1.1 on the same port, faults, malformed input, and Stop
// draining a long poll in progress.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "gateway_fixture.h"
#include "gtest/gtest.h"
#include "http_test_client.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

using gateway_testing::Client;
using gateway_testing::GatewayFixture;
using gateway_testing::Json;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct H2Response {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool done = false;
  uint32_t reset_code = 0;  // RST_STREAM's error code, if reset
  bool reset = false;

  Json JsonBody() const { return Json::parse(body, nullptr, false); }
};

// A blocking HTTP/2 client (nghttp2's client session) on one connection.
class H2Client {
 public:
  explicit H2Client(uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    authority_ = absl::StrCat("127.0.0.1:", port);
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, &OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, &OnClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &OnFrame);
    nghttp2_session_client_new(&session_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~H2Client() { nghttp2_session_del(session_); }

  int32_t Submit(const std::string& method, const std::string& path,
                 std::vector<std::pair<std::string, std::string>> headers,
                 std::string body, bool with_length = true) {
    std::vector<std::pair<std::string, std::string>> h = {
        {":method", method},
        {":scheme", "http"},
        {":authority", authority_},
        {":path", path}};
    if (with_length && (!body.empty() || method == "POST")) {
      h.emplace_back("content-length", std::to_string(body.size()));
    }
    for (auto& kv : headers) h.push_back(std::move(kv));
    std::vector<nghttp2_nv> nva;
    for (auto& [k, v] : h) {
      nva.push_back({reinterpret_cast<uint8_t*>(k.data()),
                     reinterpret_cast<uint8_t*>(v.data()), k.size(), v.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    auto upload = std::make_unique<Upload>();
    upload->body = std::move(body);
    nghttp2_data_provider provider;
    provider.source.ptr = upload.get();
    provider.read_callback = &ReadUpload;
    int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(),
                                        nva.size(), &provider, this);
    EXPECT_GT(id, 0);
    uploads_[id] = std::move(upload);
    responses_[id];
    return id;
  }

  // Kinesis's JSON 1.1 protocol.
  int32_t SubmitKinesis(const std::string& op, const Json& body) {
    return Submit("POST", "/",
                  {{"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", "Kinesis_20131202." + op}},
                  body.dump());
  }
  H2Response CallKinesis(const std::string& op, const Json& body) {
    int32_t id = SubmitKinesis(op, body);
    EXPECT_TRUE(Wait({id}));
    return responses_[id];
  }

  // SQS's JSON protocol.
  int32_t SubmitJson(const std::string& op, const Json& body) {
    return Submit("POST", "/",
                  {{"content-type", "application/x-amz-json-1.0"},
                   {"x-amz-target", "AmazonSQS." + op}},
                  body.dump());
  }

  // Sends and receives until every stream in `ids` is done (or the
  // connection ended). False if the connection ended first.
  bool Wait(const std::vector<int32_t>& ids) {
    for (;;) {
      if (!Pump()) return AllDone(ids);
      if (AllDone(ids)) return true;
      if (!ReadOnce()) return AllDone(ids);
    }
  }

  H2Response Call(const std::string& op, const Json& body) {
    int32_t id = SubmitJson(op, body);
    EXPECT_TRUE(Wait({id}));
    return responses_[id];
  }

  // Sends and receives until `done()` holds; false if the connection ended
  // first.
  bool RunUntil(const std::function<bool()>& done) {
    for (;;) {
      if (!Pump()) return done();
      if (done()) return true;
      if (!ReadOnce()) return done();
    }
  }

  // The client cancels a stream (RST_STREAM CANCEL).
  void Cancel(int32_t id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    Pump();
  }

  // Reads until the server closes the connection; true if it did.
  bool WaitForClose() {
    for (;;) {
      Pump();
      if (!ReadOnce()) return closed_;
    }
  }

  // Sends the preface and SETTINGS (and whatever else is queued).
  void Flush() { Pump(); }

  void WriteRaw(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
  }

  H2Response& response(int32_t id) { return responses_[id]; }
  bool goaway_received() const { return goaway_received_; }
  int32_t goaway_last_stream() const { return goaway_last_stream_; }

 private:
  struct Upload {
    std::string body;
    size_t offset = 0;
  };

  bool AllDone(const std::vector<int32_t>& ids) {
    for (int32_t id : ids) {
      if (!responses_[id].done) return false;
    }
    return true;
  }

  // Writes what the session has to send. False once the socket failed.
  bool Pump() {
    for (;;) {
      const uint8_t* data;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) return !closed_;
      boost::system::error_code ec;
      asio::write(socket_, asio::buffer(data, n), ec);
      if (ec) {
        closed_ = true;
        return false;
      }
    }
  }

  bool ReadOnce() {
    if (closed_) return false;
    char buf[16384];
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    if (n > 0) {
      nghttp2_session_mem_recv(session_, reinterpret_cast<uint8_t*>(buf), n);
    }
    if (ec) {
      closed_ = true;
      return false;
    }
    return true;
  }

  static ssize_t ReadUpload(nghttp2_session*, int32_t, uint8_t* buf,
                            size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void*) {
    auto* u = static_cast<Upload*>(source->ptr);
    size_t n = std::min(length, u->body.size() - u->offset);
    std::memcpy(buf, u->body.data() + u->offset, n);
    u->offset += n;
    if (u->offset == u->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame,
                      const uint8_t* name, size_t namelen, const uint8_t* value,
                      size_t valuelen, uint8_t, void* user) {
    auto* self = static_cast<H2Client*>(user);
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    H2Response& r = self->responses_[frame->hd.stream_id];
    if (n == ":status") {
      r.status = std::stoi(v);
    } else {
      r.headers[n] = v;
    }
    return 0;
  }
  static int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data,
                    size_t len, void* user) {
    static_cast<H2Client*>(user)->responses_[id].body.append(
        reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    H2Response& r = static_cast<H2Client*>(user)->responses_[id];
    r.done = true;
    r.reset_code = code;
    return 0;
  }
  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Client*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self->goaway_received_ = true;
      self->goaway_last_stream_ = frame->goaway.last_stream_id;
    }
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
      self->responses_[frame->hd.stream_id].reset = true;
    }
    return 0;
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  std::string authority_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Upload>> uploads_;
  std::map<int32_t, H2Response> responses_;
  bool closed_ = false;
  bool goaway_received_ = false;
  int32_t goaway_last_stream_ = -1;
};

class Http2Test : public GatewayFixture {
 protected:
  void SetUp() override { StartGateway({.port = 0}); }

  std::string CreateQueueH2(H2Client& c, const std::string& name) {
    H2Response r = c.Call("CreateQueue", {{"QueueName", name}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody().value("QueueUrl", "");
  }
};

TEST_F(Http2Test, SqsJsonOverH2c) {
  H2Client c(port_);
  std::string url = CreateQueueH2(c, "h2q");
  // The queue URL is built from :authority.
  EXPECT_EQ(url, absl::StrCat("http://127.0.0.1:", port_, "/000000000000/h2q"));
  H2Response sent =
      c.Call("SendMessage", {{"QueueUrl", url}, {"MessageBody", "hello h2"}});
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(sent.headers["content-type"], "application/x-amz-json-1.0");
  EXPECT_EQ(sent.JsonBody().value("MD5OfMessageBody", "").size(), 32u);
  H2Response got = c.Call("ReceiveMessage", {{"QueueUrl", url}});
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.JsonBody()["Messages"][0]["Body"], "hello h2");
  EXPECT_EQ(got.JsonBody()["Messages"][0]["MD5OfBody"],
            sent.JsonBody()["MD5OfMessageBody"]);
  // Errors carry the JSON protocol's shape and headers, in lower case.
  H2Response missing = c.Call(
      "SendMessage", {{"QueueUrl", url + "-nope"}, {"MessageBody", "x"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.headers["x-amzn-query-error"],
            "AWS.SimpleQueueService.NonExistentQueue;Sender");
}

TEST_F(Http2Test, HealthAndMetricsOverH2c) {
  H2Client c(port_);
  int32_t health = c.Submit("GET", "/health", {}, "");
  int32_t metrics = c.Submit("GET", "/metrics", {}, "");
  ASSERT_TRUE(c.Wait({health, metrics}));
  EXPECT_EQ(c.response(health).status, 200);
  EXPECT_EQ(c.response(health).body, "{\"status\":\"ok\"}");
  EXPECT_EQ(c.response(metrics).status, 200);
}

TEST_F(Http2Test, ManyConcurrentStreamsOnOneConnection) {
  H2Client c(port_);
  std::string url = CreateQueueH2(c, "many");
  constexpr int kStreams = 150;  // beyond the 100 the server allows at once
  std::vector<int32_t> ids;
  for (int i = 0; i < kStreams; ++i) {
    ids.push_back(c.SubmitJson(
        "SendMessage",
        {{"QueueUrl", url}, {"MessageBody", absl::StrCat("m", i)}}));
  }
  ASSERT_TRUE(c.Wait(ids));
  std::set<std::string> message_ids;
  for (int32_t id : ids) {
    ASSERT_EQ(c.response(id).status, 200) << c.response(id).body;
    message_ids.insert(c.response(id).JsonBody().value("MessageId", ""));
  }
  EXPECT_EQ(message_ids.size(), static_cast<size_t>(kStreams));
  H2Response attrs = c.Call(
      "GetQueueAttributes",
      {{"QueueUrl", url}, {"AttributeNames", {"ApproximateNumberOfMessages"}}});
  EXPECT_EQ(attrs.JsonBody()["Attributes"]["ApproximateNumberOfMessages"],
            std::to_string(kStreams));
}

TEST_F(Http2Test, LargeBodiesPassFlowControl) {
  H2Client c(port_);
  std::string url = CreateQueueH2(c, "big");
  // 250 KiB message: within SQS's limit, beyond the initial windows.
  std::string big(250 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = 'a' + (i % 26);
  H2Response sent =
      c.Call("SendMessage", {{"QueueUrl", url}, {"MessageBody", big}});
  ASSERT_EQ(sent.status, 200) << sent.body;
  H2Response got = c.Call("ReceiveMessage", {{"QueueUrl", url}});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.JsonBody()["Messages"][0]["Body"], big);
  // A 3 MiB request is read whole (the service, not the transport, refuses
  // the message as too long).
  H2Response too_long =
      c.Call("SendMessage",
             {{"QueueUrl", url}, {"MessageBody", std::string(3 << 20, 'y')}});
  EXPECT_EQ(too_long.status, 400) << too_long.body;
  EXPECT_NE(too_long.status, 413);
}

TEST_F(Http2Test, OversizeBodyIsRefusedAndConnectionKeepsServing) {
  H2Client c(port_);
  std::string url = CreateQueueH2(c, "over");
  std::string body =
      Json{{"QueueUrl", url}, {"MessageBody", std::string(5 << 20, 'z')}}
          .dump();
  // Refused from its content-length, and without one as the DATA arrives.
  for (bool with_length : {true, false}) {
    int32_t big = c.Submit("POST", "/",
                           {{"content-type", "application/x-amz-json-1.0"},
                            {"x-amz-target", "AmazonSQS.SendMessage"}},
                           body, with_length);
    ASSERT_TRUE(c.Wait({big}));
    EXPECT_EQ(c.response(big).status, 413);
    EXPECT_NE(c.response(big).body.find("RequestEntityTooLarge"),
              std::string::npos)
        << c.response(big).body;
  }
  H2Response ok =
      c.Call("SendMessage", {{"QueueUrl", url}, {"MessageBody", "after"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(Http2Test, Http11StillServedOnTheSamePort) {
  H2Client h2(port_);
  std::string url = CreateQueueH2(h2, "both");
  Client h1(port_);
  gateway_testing::Response r =
      h1.Json10("SendMessage", {{"QueueUrl", url}, {"MessageBody", "via 1.1"}});
  EXPECT_EQ(r.status, 200) << r.body;
  H2Response got = h2.Call("ReceiveMessage", {{"QueueUrl", url}});
  EXPECT_EQ(got.JsonBody()["Messages"][0]["Body"], "via 1.1");
  // A request line that starts like the preface but is not it.
  Client odd(port_);
  gateway_testing::Response put =
      odd.Send(gateway_testing::http::verb::put, "/", {}, "");
  EXPECT_NE(put.status, 0);
}

TEST_F(Http2Test, InjectedDropClosesTheConnection) {
  H2Client c(port_);
  std::string url = CreateQueueH2(c, "drop");
  gateway_->InjectFault({.operation = "SendMessage", .drop_connection = true});
  int32_t id =
      c.SubmitJson("SendMessage", {{"QueueUrl", url}, {"MessageBody", "x"}});
  EXPECT_FALSE(c.Wait({id}) && c.response(id).status != 0);
  H2Client again(port_);
  H2Response ok =
      again.Call("SendMessage", {{"QueueUrl", url}, {"MessageBody", "y"}});
  EXPECT_EQ(ok.status, 200);
}

TEST_F(Http2Test, MalformedFramesEndTheConnectionNotTheServer) {
  {
    H2Client c(port_);
    c.Flush();
    // A DATA frame on stream 0 is a connection error.
    c.WriteRaw(std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10));
    EXPECT_TRUE(c.WaitForClose());
    EXPECT_TRUE(c.goaway_received());
  }
  {
    // Garbage after the preface.
    Client raw(port_);
    raw.WriteRaw(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                 std::string(64, '\xff'));
    raw.ReadToClose();
  }
  {
    // A preface cut short, then the client goes away.
    Client raw(port_);
    raw.WriteRaw("PRI * HTTP/2.0\r\n");
  }
  H2Client c(port_);
  int32_t id = c.Submit("GET", "/health", {}, "");
  ASSERT_TRUE(c.Wait({id}));
  EXPECT_EQ(c.response(id).status, 200);
}

TEST_F(Http2Test, StopDrainsALongPollInProgress) {
  H2Client c(port_);
  std::string url = CreateQueueH2(c, "stop");
  int32_t poll = c.SubmitJson("ReceiveMessage",
                              {{"QueueUrl", url}, {"WaitTimeSeconds", 20}});
  std::thread stopper([&] {
    ASSERT_TRUE(clock_.BlockUntilWaiters(1));
    gateway_->Stop();
  });
  EXPECT_TRUE(c.Wait({poll}));
  stopper.join();
  EXPECT_EQ(c.response(poll).status, 200);
  EXPECT_EQ(c.response(poll).body, "{}");
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_TRUE(c.goaway_received());
  EXPECT_EQ(c.goaway_last_stream(), poll);
}

// Occurrences of `needle` in `haystack`.
size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

class Http2KinesisTest : public Http2Test {
 protected:
  // A one-shard stream "s" and a consumer of it; returns the consumer's ARN.
  std::string StreamWithConsumer(H2Client& c) {
    EXPECT_EQ(
        c.CallKinesis("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}})
            .status,
        200);
    H2Response r = c.CallKinesis(
        "RegisterStreamConsumer",
        {{"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
         {"ConsumerName", "c"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody()["Consumer"].value("ConsumerARN", "");
  }
  void Put(H2Client& c, const std::string& base64) {
    H2Response r = c.CallKinesis(
        "PutRecord",
        {{"StreamName", "s"}, {"Data", base64}, {"PartitionKey", "k"}});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  int32_t Subscribe(H2Client& c, const std::string& consumer) {
    return c.SubmitKinesis("SubscribeToShard",
                           {{"ConsumerARN", consumer},
                            {"ShardId", "shardId-000000000000"},
                            {"StartingPosition", {{"Type", "TRIM_HORIZON"}}}});
  }
};

TEST_F(Http2KinesisTest, SubscribeToShardStreamsDataFramesBesideOtherCalls) {
  H2Client c(port_);
  const std::string consumer = StreamWithConsumer(c);
  Put(c, "b25l");  // "one"
  int32_t sub = Subscribe(c, consumer);
  const H2Response& events = c.response(sub);
  ASSERT_TRUE(c.RunUntil([&] {
    return events.done || Count(events.body, "SubscribeToShardEvent") >= 1;
  }));
  EXPECT_EQ(events.status, 200);
  EXPECT_EQ(c.response(sub).headers.at("content-type"),
            "application/vnd.amazon.eventstream");
  EXPECT_EQ(c.response(sub).headers.count("content-length"), 0u);
  EXPECT_EQ(Count(events.body, "initial-response"), 1u);
  EXPECT_EQ(Count(events.body, "b25l"), 1u);
  // Other calls on the same connection go on while the body streams; a
  // record written now arrives as a later event.
  Put(c, "dHdv");  // "two"
  ASSERT_TRUE(c.RunUntil([&] { return Count(events.body, "dHdv") == 1; }));
  EXPECT_FALSE(events.done);
  // Stop ends the body (END_STREAM), then GOAWAY and close.
  std::thread stopper([&] { gateway_->Stop(); });
  EXPECT_TRUE(c.Wait({sub}));
  EXPECT_FALSE(events.reset);
  EXPECT_TRUE(c.WaitForClose());
  stopper.join();
  EXPECT_TRUE(c.goaway_received());
}

TEST_F(Http2KinesisTest, CancelledSubscriptionIsStoppedAndCanBeRenewed) {
  H2Client c(port_);
  const std::string consumer = StreamWithConsumer(c);
  int32_t sub = Subscribe(c, consumer);
  ASSERT_TRUE(c.RunUntil(
      [&] { return Count(c.response(sub).body, "initial-response") == 1; }));
  c.Cancel(sub);
  // Writes after the client left are harmless; 5 s later a new subscription
  // takes over, on the same connection.
  for (int i = 0; i < 5; ++i) Put(c, "eA==");
  clock_.Advance(absl::Seconds(6));
  int32_t again = Subscribe(c, consumer);
  ASSERT_TRUE(c.RunUntil([&] {
    return c.response(again).done ||
           Count(c.response(again).body, "SubscribeToShardEvent") >= 1;
  }));
  EXPECT_EQ(c.response(again).status, 200) << c.response(again).body;
  EXPECT_EQ(Count(c.response(again).body, "eA=="), 5u);
}

}  // namespace
}  // namespace ferry
