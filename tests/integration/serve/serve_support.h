#pragma once

// What the serve tests share: the two-way mapping they run and a poll.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <regex>
#include <string>
#include <thread>
#include <utility>

#include "tests/integration/push/push_harness.h"
#include "tests/support/process.h"

namespace hubsync::test {

inline constexpr const char* kServePeople = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

/// Polls `done` every `every` for up to `limit`; its last answer.
/// The whole text of a file (a config to edit).
inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20),
                       std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

/// One HTTP/1.1 request on loopback (`headers`: extra header lines, each
/// ending in CRLF); the status and the body.
inline std::pair<int, std::string> http_exchange(int port, const std::string& method, const std::string& path,
                                                 const std::string& headers, const std::string& body = "") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string length = body.empty() ? "" : "Content-Length: " + std::to_string(body.size()) + "\r\n";
  const std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + length +
                          headers + "\r\n" + body;
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  const auto at = out.find("\r\n\r\n");
  const int status = out.size() > 12 ? std::atoi(out.c_str() + 9) : 0;
  return {status, at == std::string::npos ? "" : out.substr(at + 4)};
}

/// GET on loopback; the status and the body.
inline std::pair<int, std::string> http_get(int port, const std::string& path, const std::string& headers = "") {
  return http_exchange(port, "GET", path, headers);
}

/// POST of a JSON body on loopback; the status and the body.
inline std::pair<int, std::string> http_post(int port, const std::string& path, const std::string& body,
                                             const std::string& headers) {
  return http_exchange(port, "POST", path, "Content-Type: application/json\r\n" + headers, body);
}

/// `hubsync serve` as a process on the two-way `people` mapping, with the
/// simulator's webhooks pointed at it (the sweep an hour away).
class ServeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    server_ = server;
    h_ = std::make_unique<PushHarness>(server, table_sql(), std::vector<std::string>{mapping_yaml()}, sim_options());
    std::filesystem::create_directories(h_->dir / "mappings");
    std::ofstream(h_->dir / "mappings" / "people.yaml") << mapping_yaml();
    config_ = h_->dir / "hubsync.yaml";
    std::string yaml = h_->config_yaml();
    yaml.replace(yaml.find("level: warn"), 11, "level: info");
    if (!hubspot_options().empty()) yaml.insert(yaml.find("portal_id: "), hubspot_options() + ", ");
    std::ofstream(config_) << yaml << webhook_yaml()
                           << "serve: {poll_s: 3600, sweep_every_s: 3600, reconcile_every_s: 7200, "
                              "inbox_every_ms: 100}\n";
    const std::string cmd = "'" HUBSYNC_BIN "' --config '" + config_.string() + "' migrate >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    log_ = (h_->dir / "serve.log").string();
    pid_ = spawn_hubsync(HUBSYNC_BIN, {"--config", config_.string(), "serve"}, log_);
    target_serve();
    sim::WebhookSubscription sub;
    sub.event_type = "contact.*";
    h_->sim.add_webhook_subscription(sub);
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      EXPECT_EQ(wait_for_exit(pid_, 30000), 0) << log_tail(log_);
    }
  }
  std::string pg(const std::string& sql) { return h_->db.scalar(sql); }

  // What a test derived from this one may change.
  virtual std::string table_sql() const {
    return "CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, name text)";
  }
  virtual std::string mapping_yaml() const { return kServePeople; }
  /// The simulator's options (quick_sim_options(): no rate limits, no search lag).
  virtual sim::SimulatorOptions sim_options() const { return quick_sim_options(); }
  /// Keys added to the config's hubspot section (e.g. "retry_for_s: 1").
  virtual std::string hubspot_options() const { return ""; }
  /// The config's webhook section (and any other section a test adds). By
  /// default the simulator signs with its OAuth client secret and there is
  /// no public_url: the URL it calls is the one the server sees.
  virtual std::string webhook_yaml() const {
    return std::string("webhook: {listen: '127.0.0.1:0', client_secret: '") + sim::kOAuthClientSecret + "'}\n";
  }

  // Points the simulator's deliveries at the port serve bound (the last
  // "listening on port" line of its log).
  void target_serve() {
    const std::regex port("listening on port ([0-9]+)");
    int found = 0;
    for (int i = 0; i < 200 && found == 0; ++i) {
      const std::string text = log_tail(log_, 400);
      for (auto it = std::sregex_iterator(text.begin(), text.end(), port); it != std::sregex_iterator(); ++it)
        found = std::stoi((*it)[1]);
      if (found == 0 || found == port_) {
        found = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    ASSERT_NE(found, 0) << log_tail(log_);
    port_ = found;
    h_->sim.set_webhook_target("http://127.0.0.1:" + std::to_string(port_) + "/webhooks/hubspot");
  }

  void restart() {
    kill(pid_, SIGTERM);
    ASSERT_EQ(wait_for_exit(pid_, 30000), 0) << log_tail(log_);
    pid_ = spawn_hubsync(HUBSYNC_BIN, {"--config", config_.string(), "serve"}, log_);
    target_serve();
  }

  std::string server_;
  std::unique_ptr<PushHarness> h_;
  std::filesystem::path config_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace hubsync::test
