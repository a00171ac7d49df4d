#include "connectors/hubspot/curl_transport.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <mutex>

namespace hubsync::hubspot {

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<Headers*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  headers->emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  return size * n;
}

model::Error transport_error(CURLcode code, const char* detail) {
  model::ErrorKind kind = model::ErrorKind::transient;
  std::string reason = "reset";
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: reason = "timeout"; break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: reason = "connect"; break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      kind = model::ErrorKind::fatal;
      reason = "config";
      break;
    default: break;
  }
  model::Error e = model::make_error(
      kind, std::string("transport: curl_code=") + std::to_string(static_cast<int>(code)) + " " +
                curl_easy_strerror(code) + (detail && *detail ? std::string(" (") + detail + ")" : ""));
  e.code = reason;
  return e;
}

}  // namespace

struct CurlTransport::Handle {
  CURL* easy = nullptr;
  Handle() : easy(curl_easy_init()) {}
  ~Handle() {
    if (easy) curl_easy_cleanup(easy);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

CurlTransport::CurlTransport(CurlOptions options) : options_(std::move(options)) {
  global_init_once();
  if (!options_.verify_tls) {
    auto log = options_.log ? options_.log : spdlog::default_logger();
    log->warn("TLS certificate verification is OFF (CurlOptions::verify_tls=false): anyone on the network "
              "path can impersonate HubSpot and read the bearer token");
  }
}

CurlTransport::~CurlTransport() = default;

std::unique_ptr<CurlTransport::Handle> CurlTransport::borrow() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  return std::make_unique<Handle>();
}

void CurlTransport::give_back(std::unique_ptr<Handle> h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(h));
}

model::Result<HttpResponse> CurlTransport::send(const HttpRequest& req) {
  auto handle = borrow();
  CURL* c = handle->easy;
  if (!c) return model::make_error(model::ErrorKind::fatal, "transport: curl_easy_init failed");
  // reset keeps the handle's live connections and caches: that is the reuse.
  curl_easy_reset(c);

  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  Slist headers;
  for (const auto& [k, v] : req.headers) {
    auto* l = curl_slist_append(headers.get(), (k + ": " + v).c_str());
    if (!l) return model::make_error(model::ErrorKind::fatal, "transport: out of memory");
    (void)headers.release();
    headers.reset(l);
  }
  if (auto* l = curl_slist_append(headers.get(), "Expect:")) {
    (void)headers.release();
    headers.reset(l);
  }

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);

  switch (req.method) {
    case HttpMethod::get: curl_easy_setopt(c, CURLOPT_HTTPGET, 1L); break;
    case HttpMethod::post:
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      break;
    default: curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, to_string(req.method)); break;
  }
  if (req.method != HttpMethod::get && (req.method == HttpMethod::post || !req.body.empty())) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }

  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    auto err = transport_error(rc, errbuf);
    give_back(std::move(handle));
    return err;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  double total = 0;
  curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
  resp.status = static_cast<int>(status);
  resp.elapsed = std::chrono::milliseconds(static_cast<std::int64_t>(total * 1000));
  give_back(std::move(handle));
  return resp;
}

}  // namespace hubsync::hubspot
