#include "tests/integration/webhook/webhook_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include <fmt/format.h>

#include "connectors/hubspot/webhook_codec.h"
#include "engine/ops/metrics.h"
#include "engine/webhook/signature.h"

namespace hubsync::webhook::test {

void CaptureSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t buf;
  formatter_->format(msg, buf);
  text_.append(buf.data(), buf.size());
}

Conn::Conn(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  timeval tv{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Conn::~Conn() {
  if (fd_ >= 0) ::close(fd_);
}

bool Conn::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

Reply Conn::read_reply() {
  std::string all;
  char buf[8192];
  for (;;) {
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF, reset or the 5 s receive timeout
    all.append(buf, static_cast<std::size_t>(n));
  }
  Reply r;
  const auto end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(all.substr(9, 3));
  r.head = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

bool Conn::closed_within(std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char c;
  const auto n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

std::string raw_request(std::string_view method, std::string_view target, std::string_view body,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string r = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, target);
  bool chunked = false;
  for (const auto& [k, v] : headers) {
    r += k + ": " + v + "\r\n";
    chunked = chunked || k == "Transfer-Encoding";
  }
  if (!chunked) r += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  r += "\r\n";
  r += body;
  return r;
}

Reply roundtrip(std::uint16_t port, std::string_view request) {
  Conn c(port);
  EXPECT_TRUE(c.ok()) << "cannot connect to 127.0.0.1:" << port;
  if (!c.ok()) return {};
  c.send(request);  // the server may answer before reading all of it
  return c.read_reply();
}

std::string events_body(int n, int first) {
  static constexpr const char* kTypes[] = {
      "contact.creation",  "company.propertyChange", "deal.deletion",        "ticket.merge",
      "contact.restore",   "object.associationChange", "contact.privacyDeletion",
      "object.creation"};
  std::string b = "[";
  for (int i = 0; i < n; ++i) {
    const std::string type = kTypes[(first + i) % 8];
    b += fmt::format(
        R"({}{{"eventId":{},"subscriptionId":77,"portalId":62515,"appId":1001,"occurredAt":{},)"
        R"("subscriptionType":"{}","attemptNumber":0,"objectId":{},"changeSource":"CRM_UI")",
        i ? "," : "", first + i, 1700000000000 + i, type, 5000 + first + i);
    if (type.rfind("object.", 0) == 0) b += R"(,"objectTypeId":"2-4711")";
    if (type.find("propertyChange") != std::string::npos)
      b += R"(,"propertyName":"city","propertyValue":"Oslo")";
    b += "}";
  }
  return b + "]";
}

std::vector<std::pair<std::string, std::string>> v3_headers(std::string_view body, std::int64_t ts_ms,
                                                            std::string_view query) {
  const std::string ts = std::to_string(ts_ms);
  const std::string uri = std::string(kPublicUrl) + std::string(query);
  return {{"X-HubSpot-Signature-v3", sign_v3(kSecret, "POST", uri, body, ts)},
          {"X-HubSpot-Request-Timestamp", ts}};
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ServerTest::SetUp() {
  auto o = state::testing::options_for(dir_.file("state.db"), nullptr);
  o.busy_timeout = std::chrono::milliseconds(100);
  auto s = state::SqliteStateStore::open(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  store_ = std::move(*s);
  sink_ = std::make_shared<CaptureSink>();
  log_ = std::make_shared<spdlog::logger>("webhook-it", sink_);
  log_->set_level(spdlog::level::debug);
}

void ServerTest::TearDown() {
  server_.reset();
  store_.reset();
}

ServerOptions ServerTest::options() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.path = kPath;
  o.public_url = kPublicUrl;
  o.secrets = [] { return std::vector<std::string>{kSecret}; };
  o.max_body_bytes = 64 * 1024;
  o.header_timeout = std::chrono::milliseconds(300);
  o.body_timeout = std::chrono::milliseconds(300);
  o.stop_grace = std::chrono::milliseconds(500);
  o.decoder = hubspot::decode_webhook_events;
  o.store = store_.get();
  o.logger = log_;
  return o;
}

std::uint16_t ServerTest::start(ServerOptions o) {
  server_.reset();
  auto s = Server::create(std::move(o));
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) return 0;
  server_ = std::move(*s);
  auto p = server_->start();
  EXPECT_TRUE(p.ok()) << p.error().message;
  port_ = p.ok() ? *p : 0;
  return port_;
}

Reply ServerTest::post_signed(std::string_view body, std::int64_t ts_ms) {
  return roundtrip(port_, raw_request("POST", kPath, body, v3_headers(body, ts_ms)));
}

Reply ServerTest::get(std::string_view target) { return roundtrip(port_, raw_request("GET", target, "")); }

std::size_t ServerTest::inbox() {
  auto n = store_->count_inbox_pending();
  EXPECT_TRUE(n.ok()) << n.error().message;
  return n.ok() ? *n : 0;
}

hubsync::test::PromText ServerTest::scrape() {
  const Reply r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.has_header("text/plain; version=0.0.4")) << r.head;
  auto parsed = hubsync::test::parse_prometheus_text(r.body);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return parsed;
}

double ServerTest::outcome(const char* o) {
  return scrape().value("hubsync_webhook_requests_total", {{"outcome", o}}).value_or(-1);
}

bool ServerTest::wait_open(double n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline) {
    auto p = hubsync::test::parse_prometheus_text(server_->metrics().render());
    if (p.value("hubsync_http_connections_open") == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace hubsync::webhook::test
