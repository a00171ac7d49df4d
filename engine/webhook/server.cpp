#include "engine/webhook/server.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/ops/logging.h"
#include "engine/ops/metrics.h"
#include "engine/webhook/http_server.h"
#include "engine/webhook/signature.h"

namespace hubsync::webhook {

namespace {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

std::optional<HostPort> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = s.substr(colon + 1);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v > 65535)
    return std::nullopt;
  return HostPort{host, static_cast<std::uint16_t>(v)};
}

Response plain(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

constexpr const char* kHealthz = "/healthz";
constexpr const char* kReadyz = "/readyz";
constexpr const char* kMetrics = "/metrics";
constexpr const char* kPage = "/";

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The health page: no script, no external asset; the browser refreshes it.
Response page_response(std::string html) {
  Response r = plain(200, std::move(html));
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

}  // namespace

ServerOptions options_from_config(const config::Config& c) {
  const auto& w = c.webhook;
  ServerOptions o;
  o.listen = w.listen;
  o.path = w.path;
  o.public_url = w.public_url;
  const std::string secret =
      w.client_secret.set() ? w.client_secret.value : c.hubspot.client_secret.value;
  if (!secret.empty()) o.secrets = [secret] { return std::vector<std::string>{secret}; };
  o.accept_v1_v2 = w.accept_v1_v2;
  o.max_skew_ms = w.max_skew_ms;
  o.max_body_bytes = static_cast<std::size_t>(w.max_body_bytes);
  o.max_events = static_cast<std::size_t>(w.max_events);
  o.portal_id = c.hubspot.portal_id;
  o.max_connections = static_cast<std::size_t>(w.max_connections);
  o.header_timeout = std::chrono::milliseconds(w.header_timeout_ms);
  o.body_timeout = std::chrono::milliseconds(w.body_timeout_ms);
  return o;
}

struct Server::Impl final : HttpHandler {
  ServerOptions opt;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<ops::Registry> own_metrics;
  ops::Registry* metrics = nullptr;
  std::unique_ptr<Receiver> receiver;
  std::unique_ptr<HttpServer> http;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::atomic<std::uint16_t> port{0};
  std::mutex stop_mu;
  bool stopped = false;

  std::string page_credentials;  // "Basic <base64(user:password)>", empty: none
  bool page_allowed = false;     // loopback listener or basic auth

  bool is_service_path(const std::string& p) const {
    return p == kHealthz || p == kReadyz || p == kMetrics || (p == kPage && opt.page);
  }

  Response page(const RequestHead& head) {
    if (!page_allowed)
      return plain(403, "the health page is served on a loopback listener, or with serve.health_auth set\n");
    if (!page_credentials.empty()) {
      const std::string* got = head.header("authorization");
      if (got == nullptr || !constant_time_equal(*got, page_credentials)) {
        auto r = plain(401, "authentication required\n");
        r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"hubsync\", charset=\"UTF-8\"");
        return r;
      }
    }
    try {
      return page_response(opt.page());
    } catch (const std::exception& e) {
      log->warn("health page failed: {}", e.what());
      return plain(500, "the health page could not be rendered\n");
    }
  }

  bool is_action_path(const std::string& p) const {
    return opt.actions && p.size() > opt.actions_path.size() + 1 &&
           p.compare(0, opt.actions_path.size(), opt.actions_path) == 0 && p[opt.actions_path.size()] == '/';
  }

  std::optional<Response> on_head(const RequestHead& head) override {
    if (is_action_path(head.path)) {
      if (head.method != "POST") {
        auto r = plain(405, "method not allowed\n");
        r.headers.emplace_back("Allow", "POST");
        return r;
      }
      if (draining.load()) return unavailable();
      return std::nullopt;
    }
    if (head.path == opt.path) {
      if (head.method != "POST") return receiver->refuse(head, Outcome::method);
      if (draining.load()) return receiver->refuse(head, Outcome::unavailable);
      return std::nullopt;
    }
    if (is_service_path(head.path)) {
      if (head.method != "GET") {
        auto r = plain(405, "method not allowed\n");
        r.headers.emplace_back("Allow", "GET");
        return r;
      }
      return std::nullopt;
    }
    return plain(404, "not found\n");
  }

  bool blocks(const RequestHead& head) const override { return is_action_path(head.path); }

  static Response unavailable() {
    auto r = plain(503, "stopping\n");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }

  Response on_request(const Request& req) override {
    const auto& path = req.head.path;
    if (is_action_path(path)) {
      in_flight.fetch_add(1);
      struct Done {
        std::atomic<int>& n;
        ~Done() { n.fetch_sub(1); }
      } done{in_flight};
      if (draining.load()) return unavailable();
      return opt.actions(req);
    }
    if (path == opt.path) {
      in_flight.fetch_add(1);
      struct Done {
        std::atomic<int>& n;
        ~Done() { n.fetch_sub(1); }
      } done{in_flight};
      if (draining.load()) return receiver->refuse(req.head, Outcome::unavailable);
      return receiver->handle(req);
    }
    if (path == kHealthz) return plain(200, "ok\n");
    if (path == kReadyz) return readyz();
    if (path == kPage) return page(req.head);
    Response r = plain(200, metrics->render());
    r.content_type = ops::Registry::kContentType;
    return r;
  }

  void on_abort(const RequestHead* head, AbortReason reason) override {
    if (head == nullptr || head->path != opt.path) return;
    switch (reason) {
      case AbortReason::body_too_large:
        receiver->record(*head, Outcome::too_large,
                         fmt::format("body over {} bytes", opt.max_body_bytes));
        break;
      case AbortReason::truncated:
        receiver->record(*head, Outcome::truncated, "peer closed before the whole body arrived");
        break;
      case AbortReason::body_timeout:
        receiver->record(*head, Outcome::body_timeout,
                         fmt::format("body not complete after {} ms", opt.body_timeout.count()));
        break;
      case AbortReason::bad_request:
        receiver->record(*head, Outcome::malformed, "unparsable HTTP body");
        break;
      default:
        break;
    }
  }

  Response readyz() {
    if (draining.load()) return plain(503, "draining\n");
    if (!opt.readiness) return plain(200, "ready\n");
    Readiness r;
    try {
      r = opt.readiness();
    } catch (const std::exception& e) {
      r = {false, std::string("readiness check failed: ") + e.what()};
    } catch (...) {
      r = {false, "readiness check failed"};
    }
    if (r.ready) return plain(200, "ready\n" + (r.detail.empty() ? "" : r.detail + "\n"));
    return plain(503, "not ready\n" + (r.detail.empty() ? "" : r.detail + "\n"));
  }
};

model::Result<std::unique_ptr<Server>> Server::create(ServerOptions o) {
  std::vector<std::string> problems;
  const auto hp = parse_listen(o.listen);
  if (!hp) problems.push_back("listen '" + o.listen + "' is not host:port");
  if (o.path.empty() || o.path.front() != '/' || o.path.find_first_of("?# ") != std::string::npos)
    problems.push_back("path '" + o.path + "' must start with '/' and hold no query");
  if (o.path == kHealthz || o.path == kReadyz || o.path == kMetrics)
    problems.push_back("path '" + o.path + "' is a service endpoint");
  if (o.actions && (o.actions_path.size() < 2 || o.actions_path.front() != '/' || o.actions_path == o.path))
    problems.push_back("actions path '" + o.actions_path + "' must start with '/' and differ from the webhook path");
  if (o.public_url.find_first_of("?#") != std::string::npos)
    problems.push_back("public_url must not hold a query: the request's own query is appended");
  if (!o.decoder) problems.push_back("no event decoder");
  if (o.store == nullptr) problems.push_back("no state store");
  if (!o.secrets) problems.push_back("no webhook secret (webhook.client_secret)");
  if (o.max_body_bytes == 0 || o.max_events == 0 || o.max_connections == 0 || o.io_threads < 1 ||
      (o.actions && o.action_threads < 1) ||
      o.header_timeout.count() <= 0 || o.body_timeout.count() <= 0)
    problems.push_back("limits, timeouts, io_threads and action_threads must be positive");
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    return model::make_error(model::ErrorKind::fatal, "webhook server: " + all);
  }

  auto impl = std::make_unique<Impl>();
  impl->log = o.logger ? o.logger : ops::logger("webhook");
  if (o.metrics == nullptr) {
    impl->own_metrics = std::make_unique<ops::Registry>();
    impl->metrics = impl->own_metrics.get();
  } else {
    impl->metrics = o.metrics;
  }
  ReceiverOptions ro;
  ro.public_url = o.public_url;
  ro.secrets = o.secrets;
  ro.accept_v1_v2 = o.accept_v1_v2;
  ro.max_skew_ms = o.max_skew_ms;
  ro.max_events = o.max_events;
  ro.portal_id = o.portal_id;
  ro.decoder = o.decoder;
  ro.store = o.store;
  ro.clock = o.clock;
  ro.log = impl->log;
  impl->receiver = std::make_unique<Receiver>(std::move(ro), *impl->metrics);

  HttpServerOptions ho;
  ho.host = hp->host;
  ho.port = hp->port;
  ho.max_body_bytes = o.max_body_bytes;
  ho.header_timeout = o.header_timeout;
  ho.body_timeout = o.body_timeout;
  ho.max_connections = o.max_connections;
  ho.io_threads = o.io_threads;
  ho.worker_threads = o.actions ? o.action_threads : 0;
  if (!o.page_auth.empty()) impl->page_credentials = "Basic " + base64(o.page_auth);
  impl->page_allowed = is_loopback(hp->host) || !o.page_auth.empty();
  impl->opt = std::move(o);
  impl->http = std::make_unique<HttpServer>(ho, *impl, impl->log, impl->metrics);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

model::Result<std::uint16_t> Server::start() {
  auto& d = *impl_;
  const auto secrets = d.opt.secrets();
  const bool any = std::any_of(secrets.begin(), secrets.end(), [](const auto& s) { return !s.empty(); });
  if (!any) {
    return model::make_error(model::ErrorKind::fatal,
                             "webhook server: the secret provider gave no secret: no webhook could be verified");
  }
  auto port = d.http->start();
  if (!port) return std::move(port).error();
  d.port = *port;
  if (d.opt.public_url.empty() && d.opt.webhooks_on) {
    d.log->warn("webhook public_url not set: signatures are checked against http://<Host header><target>, "
                "which is wrong behind a proxy or path rewrite");
  }
  d.log->info("webhook server listening listen={} port={} path={} public_url={} accept_v1_v2={} "
              "max_connections={} io_threads={}",
              d.opt.listen, *port, d.opt.path, d.opt.public_url.empty() ? "unset" : "set",
              d.opt.accept_v1_v2, d.opt.max_connections, d.opt.io_threads);
  return *port;
}

void Server::begin_drain() {
  if (!impl_->draining.exchange(true)) impl_->log->info("webhook server draining: webhooks answered 503");
}

void Server::stop() {
  auto& d = *impl_;
  {
    std::lock_guard lock(d.stop_mu);
    if (d.stopped) return;
    d.stopped = true;
  }
  begin_drain();
  d.http->stop_accepting();
  const auto deadline = std::chrono::steady_clock::now() + d.opt.stop_grace;
  while (d.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (d.in_flight.load() > 0)
    d.log->warn("webhook server stopping with requests in flight n={} (HubSpot retries them)",
                d.in_flight.load());
  d.http->stop();
  d.log->info("webhook server stopped");
}

bool Server::draining() const { return impl_->draining.load(); }
std::uint16_t Server::port() const { return impl_->port.load(); }
ops::Registry& Server::metrics() { return *impl_->metrics; }

}  // namespace hubsync::webhook
