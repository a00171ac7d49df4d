#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/result.h"

namespace hubsync::hubspot {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// The value of the first header named `name` (case-insensitive), or "".
std::string_view find_header(const Headers& headers, std::string_view name);

enum class HttpMethod { get, post, put, patch, del };
const char* to_string(HttpMethod m);

struct HttpRequest {
  HttpMethod method = HttpMethod::get;
  std::string url;       ///< absolute
  Headers headers;
  std::string body;
};

/// An HTTP exchange that completed: any status, 4xx and 5xx included (a
/// status is data, not an error).
struct HttpResponse {
  int status = 0;
  Headers headers;  ///< names as sent by the server
  std::string body;
  std::chrono::milliseconds elapsed{0};
};

/// Sends one HTTP request. Implementations are thread-safe: the client calls
/// send() from several worker threads at once. A failure to complete the
/// exchange (DNS, connect, TLS, reset, timeout) is returned as an Error of
/// kind transient (or fatal for a malformed URL or TLS verification failure)
/// with a message naming the cause and never containing header values.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// Performs the exchange; see the class comment for errors.
  virtual model::Result<HttpResponse> send(const HttpRequest& request) = 0;
};

}  // namespace hubsync::hubspot
