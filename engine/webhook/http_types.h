#pragma once

// Plain HTTP request/response values passed between the Beast server
// (http_server.cpp, the only file that sees Beast) and its handlers.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubsync::webhook {

/// A request's header block, available before its body is read.
struct RequestHead {
  std::string method;  ///< as sent, e.g. "POST"
  std::string target;  ///< the request-target as sent (path and query), undecoded
  std::string path;    ///< target up to `?`, undecoded
  std::string query;   ///< from `?` on, `?` included; empty when the target has none
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased, in order
  std::optional<std::uint64_t> content_length;
  std::string remote;  ///< peer "address:port", for logs
  /// When the header block was complete (steady clock).
  std::chrono::steady_clock::time_point received_at{};

  /// The first value of header `lower_name` (lower-case), or nullptr.
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return &v;
    return nullptr;
  }
};

struct Request {
  RequestHead head;
  std::string body;  ///< the raw bytes as received (de-chunked)
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  ///< close the connection after this response
};

/// Why a request or connection ended without a handler's answer.
enum class AbortReason {
  header_timeout,    ///< the header block did not arrive in time (slowloris)
  body_timeout,      ///< the body did not arrive in time
  truncated,         ///< the peer closed before the whole body arrived
  header_too_large,  ///< answered 431
  body_too_large,    ///< answered 413 (Content-Length, or a chunked body, over the limit)
  bad_request,       ///< unparsable HTTP; answered 400
  over_capacity,     ///< too many open connections; answered 503
};
const char* to_string(AbortReason r);

/// What the server calls; implementations must be thread-safe (several io
/// threads call them at once) and must not block for long: they run on an
/// io thread.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  /// The header block of a request is read. Return a response to answer at
  /// once without reading the body (the connection is then closed), or
  /// nullopt to read the body and call on_request.
  virtual std::optional<Response> on_head(const RequestHead& head) = 0;
  /// The whole request is read (body within the server's limit).
  virtual Response on_request(const Request& request) = 0;
  /// Whether on_request may block for this request (it waits on other
  /// work): then the server calls it on one of its worker threads
  /// (HttpServerOptions::worker_threads), so that the io threads go on
  /// answering every other request meanwhile. Called on an io thread.
  virtual bool blocks(const RequestHead& /*head*/) const { return false; }
  /// A request ended without on_request (`head` is null when its header
  /// block never completed), or a connection was refused.
  virtual void on_abort(const RequestHead* head, AbortReason reason) = 0;
};

}  // namespace hubsync::webhook
