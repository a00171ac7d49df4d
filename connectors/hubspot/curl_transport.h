#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/hubspot/http_transport.h"

namespace spdlog {
class logger;
}

namespace hubsync::hubspot {

using namespace std::chrono_literals;

struct CurlOptions {
  std::chrono::milliseconds connect_timeout = 10'000ms;
  std::chrono::milliseconds total_timeout = 60'000ms;
  bool verify_tls = true;        ///< never off in production: turning it off is warned about
  std::string ca_file;           ///< empty: the system store
  std::string user_agent = "hubsync/0.1";
  std::size_t max_idle_handles = 16;  ///< handles kept for connection reuse
  std::shared_ptr<spdlog::logger> log;  ///< for the warning above; null: spdlog's default logger
};

/// HttpTransport over libcurl easy handles. Each send() borrows a handle from
/// a pool (created on demand), so N threads have N requests in flight; a
/// returned handle keeps its connection alive for the next request (HTTP/1.1
/// keep-alive, HTTP/2 over TLS when the server offers it). gzip/deflate
/// accepted; proxies from the usual environment variables (libcurl's
/// default). curl_global_init runs once per process. Constructing one with
/// verify_tls off logs a warning naming it. Thread-safe.
class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  model::Result<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Handle;
  std::unique_ptr<Handle> borrow();
  void give_back(std::unique_ptr<Handle> h);

  CurlOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace hubsync::hubspot
