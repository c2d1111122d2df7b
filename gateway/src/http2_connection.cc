#include "http2_connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ferry::gateway_internal {

struct Http2Connection::Stream {
  int32_t id = 0;
  HttpRequest request;
  size_t header_bytes = 0;
  size_t max_body = 0;
  bool headers_too_large = false;
  bool request_complete = false;  // END_STREAM received
  bool dispatched = false;        // handed to the handler
  bool answered = false;          // a response was submitted
  bool refused = false;           // answered before the request was read
  bool head = false;              // a HEAD request: no response body
  // The body still to send: parts, an offset into the first, and whether
  // more may come (streamed bodies).
  std::deque<std::string> body_parts;
  size_t body_offset = 0;
  size_t body_backlog = 0;
  bool body_ended = false;
};

namespace {

bool IsConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" ||
         name == "proxy-connection" || name == "transfer-encoding" ||
         name == "upgrade" || name == "content-length" || name == "server" ||
         name == "content-type";
}

}  // namespace

// nghttp2's callbacks, as friends of Http2Connection.
struct Http2Callbacks {
  static Http2Connection* Self(void* user_data) {
    return static_cast<Http2Connection*>(user_data);
  }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame,
                            void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    Http2Connection* self = Self(user_data);
    auto stream = std::make_unique<Http2Connection::Stream>();
    stream->id = frame->hd.stream_id;
    self->streams_[stream->id] = std::move(stream);
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame,
                      const uint8_t* name_data, size_t name_len,
                      const uint8_t* value_data, size_t value_len, uint8_t,
                      void* user_data) {
    Http2Connection* self = Self(user_data);
    Http2Connection::Stream* stream = self->FindStream(frame->hd.stream_id);
    // Trailers (and headers of a stream already answered) are not kept.
    if (stream == nullptr || frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    stream->header_bytes += name_len + value_len + 32;
    if (stream->header_bytes > self->limits_.max_header_bytes) {
      stream->headers_too_large = true;
    }
    if (stream->headers_too_large) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_data), name_len);
    std::string value(reinterpret_cast<const char*>(value_data), value_len);
    HttpRequest& r = stream->request;
    if (name == ":method") {
      r.method = std::move(value);
    } else if (name == ":path") {
      r.target = std::move(value);
    } else if (name == ":authority") {
      r.headers.try_emplace("host", std::move(value));
    } else if (!name.empty() && name[0] == ':') {
      // :scheme, :protocol: nothing to keep.
    } else if (name == "host") {
      r.headers["host"] = std::move(value);
    } else {
      // nghttp2 has checked that names are lower case.
      r.headers[std::string(name)] = std::move(value);
    }
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame,
                         void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
      return 0;
    }
    Http2Connection* self = Self(user_data);
    Http2Connection::Stream* stream = self->FindStream(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS &&
        frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self->EndOfHeaders(*stream);
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      stream->request_complete = true;
      if (!stream->refused) self->Dispatch(*stream);
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id,
                         const uint8_t* data, size_t len, void* user_data) {
    Http2Connection* self = Self(user_data);
    Http2Connection::Stream* stream = self->FindStream(stream_id);
    if (stream == nullptr || stream->refused || stream->dispatched) return 0;
    if (len > stream->max_body - stream->request.body.size()) {
      self->Refuse(*stream, 413, "RequestEntityTooLarge",
                   absl::StrCat("The request body is larger than the limit of ",
                                stream->max_body, " bytes."));
      stream->request.body.clear();
      stream->request.body.shrink_to_fit();
      return 0;
    }
    stream->request.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int OnFrameSend(nghttp2_session* session, const nghttp2_frame* frame,
                         void* user_data) {
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
      return 0;
    }
    Http2Connection::Stream* stream =
        Self(user_data)->FindStream(frame->hd.stream_id);
    // A refused request's response is out: the client may stop sending.
    if (stream != nullptr && stream->refused && !stream->request_complete) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream->id,
                                NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t,
                           void* user_data) {
    Http2Connection* self = Self(user_data);
    if (self->streams_.erase(stream_id) > 0) {
      self->handler_->OnStreamClosed(stream_id);
    }
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf,
                          size_t length, uint32_t* data_flags,
                          nghttp2_data_source* source, void*) {
    auto* stream = static_cast<Http2Connection::Stream*>(source->ptr);
    size_t n = 0;
    while (n < length && !stream->body_parts.empty()) {
      std::string& part = stream->body_parts.front();
      const size_t k = std::min(length - n, part.size() - stream->body_offset);
      std::memcpy(buf + n, part.data() + stream->body_offset, k);
      n += k;
      stream->body_offset += k;
      stream->body_backlog -= k;
      if (stream->body_offset == part.size()) {
        stream->body_parts.pop_front();
        stream->body_offset = 0;
      }
    }
    if (stream->body_parts.empty()) {
      if (stream->body_ended) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
      } else if (n == 0) {
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    return static_cast<ssize_t>(n);
  }
};

Http2Connection::Http2Connection(Handler* handler, const Limits& limits)
    : handler_(handler), limits_(limits) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_option* option = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0 ||
      nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    failed_ = true;
    return;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      callbacks, &Http2Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks,
                                                   &Http2Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      callbacks, &Http2Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks, &Http2Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(
      callbacks, &Http2Callbacks::OnFrameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(
      callbacks, &Http2Callbacks::OnStreamClose);
  // Streams beyond the bound are refused by nghttp2 even before the client
  // has acknowledged our SETTINGS.
  nghttp2_option_set_max_settings(option, 64);
  const int rv =
      nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_option_del(option);
  if (rv != 0) {
    session_ = nullptr;
    failed_ = true;
    return;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
       static_cast<uint32_t>(limits_.stream_window_bytes)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<uint32_t>(limits_.max_header_bytes)},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                              std::size(settings)) != 0 ||
      nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                            limits_.connection_window_bytes) !=
          0) {
    failed_ = true;
  }
}

Http2Connection::~Http2Connection() {
  // Before streams_ goes: the session's data providers point into it.
  nghttp2_session_del(session_);
}

bool Http2Connection::Receive(std::string_view data) {
  if (failed_) return false;
  const ssize_t n = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(data.data()), data.size());
  if (n < 0) failed_ = true;
  return !failed_;
}

void Http2Connection::Output(std::string* out, size_t max) {
  if (session_ == nullptr) return;
  while (out->size() < max) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      failed_ = true;
      return;
    }
    if (n == 0) return;
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

bool Http2Connection::WantsRead() const {
  return session_ != nullptr && !failed_ &&
         nghttp2_session_want_read(session_) != 0;
}

bool Http2Connection::WantsWrite() const {
  return session_ != nullptr && nghttp2_session_want_write(session_) != 0;
}

Http2Connection::Stream* Http2Connection::FindStream(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2Connection::EndOfHeaders(Stream& stream) {
  stream.max_body = handler_->MaxBodyBytes(stream.request);
  stream.head = stream.request.method == "HEAD";
  if (stream.headers_too_large) {
    return Refuse(stream, 431, "RequestHeaderFieldsTooLarge",
                  "The request headers are too large.");
  }
  // A declared length over the bound is refused before any DATA arrives.
  // (nghttp2 checks that the DATA matches a content-length.)
  std::string_view length = stream.request.Header("content-length");
  uint64_t declared = 0;
  auto [end, ec] =
      std::from_chars(length.data(), length.data() + length.size(), declared);
  if (!length.empty() && ec == std::errc() &&
      end == length.data() + length.size() && declared > stream.max_body) {
    Refuse(stream, 413, "RequestEntityTooLarge",
           absl::StrCat("The request body is larger than the limit of ",
                        stream.max_body, " bytes."));
  }
}

void Http2Connection::Refuse(Stream& stream, int http_status,
                             std::string_view code, std::string_view message) {
  if (stream.refused || stream.dispatched) return;
  stream.refused = true;
  HttpRequest headers_only = stream.request;
  headers_only.body.clear();
  Respond(stream.id,
          handler_->Refused(headers_only, http_status, code, message));
}

void Http2Connection::Dispatch(Stream& stream) {
  if (stream.dispatched || stream.answered) return;
  if (going_away_ && stream.id > goaway_last_stream_) {
    // Started after our GOAWAY was queued but before it was sent.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id,
                              NGHTTP2_REFUSED_STREAM);
    return;
  }
  stream.dispatched = true;
  last_dispatched_ = std::max(last_dispatched_, stream.id);
  handler_->OnRequest(stream.id, std::move(stream.request));
}

bool Http2Connection::Respond(int32_t stream_id, HttpResponse response) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || stream->answered || session_ == nullptr) {
    return false;
  }
  stream->answered = true;
  const bool streamed = response.stream != nullptr;
  std::vector<std::pair<std::string, std::string>> h;
  h.emplace_back(":status", std::to_string(response.status));
  h.emplace_back("server", "ferry");
  if (!response.content_type.empty()) {
    h.emplace_back("content-type", std::move(response.content_type));
  }
  if (!streamed) {
    h.emplace_back("content-length", std::to_string(response.body.size()));
  }
  for (auto& [name, value] : response.headers) {
    std::string lower = absl::AsciiStrToLower(name);
    if (IsConnectionSpecific(lower)) continue;
    h.emplace_back(std::move(lower), std::move(value));
  }
  std::vector<nghttp2_nv> nva;
  nva.reserve(h.size());
  for (auto& [name, value] : h) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                   reinterpret_cast<uint8_t*>(value.data()), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  const bool with_body = streamed || (!response.body.empty() && !stream->head);
  if (!streamed && with_body) {
    stream->body_backlog = response.body.size();
    stream->body_parts.push_back(std::move(response.body));
  }
  stream->body_ended = !streamed;
  nghttp2_data_provider provider;
  provider.source.ptr = stream;
  provider.read_callback = &Http2Callbacks::ReadBody;
  if (nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(),
                              with_body ? &provider : nullptr) != 0) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id,
                              NGHTTP2_INTERNAL_ERROR);
    return false;
  }
  return true;
}

bool Http2Connection::AppendBody(int32_t stream_id, std::string bytes,
                                 bool end) {
  Stream* stream = FindStream(stream_id);
  if (stream == nullptr || !stream->answered || stream->body_ended) {
    return false;
  }
  stream->body_backlog += bytes.size();
  if (stream->body_backlog > limits_.max_streamed_backlog) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id,
                              NGHTTP2_CANCEL);
    return false;
  }
  if (!bytes.empty()) stream->body_parts.push_back(std::move(bytes));
  stream->body_ended = end;
  nghttp2_session_resume_data(session_, stream_id);
  return true;
}

void Http2Connection::GoAway() {
  if (session_ == nullptr || going_away_) return;
  going_away_ = true;
  goaway_last_stream_ = last_dispatched_;
  for (auto& [id, stream] : streams_) {
    if (!stream->dispatched && !stream->answered) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id,
                                NGHTTP2_REFUSED_STREAM);
    }
  }
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, goaway_last_stream_,
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

}  // namespace ferry::gateway_internal
