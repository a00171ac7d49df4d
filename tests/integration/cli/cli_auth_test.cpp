// `hubsync auth login` runs the OAuth authorization-code flow against the
// simulator (which consents at once and redirects to the loopback listener);
// `auth status` reports without printing a token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "tests/hubspot-sim/simulator.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string run(const std::string& cmd, int& code) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(CliAuth, LoginStoresTokensAndStatusNeverPrintsThem) {
  hubsync::sim::Simulator sim;
  sim.start();
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("hubsync-auth-" + std::to_string(rd()));
  fs::create_directories(dir);
  const int port = free_port();
  std::ofstream(dir / "hubsync.yaml")
      << "postgres: {dsn: 'host=/nonexistent'}\n"
      << "hubspot:\n  base_url: '" << sim.base_url() << "'\n  portal_id: 62515\n  auth: oauth\n"
      << "  client_id: " << hubsync::sim::kOAuthClientId << "\n  client_secret_env: SIM_SECRET\n"
      << "  redirect_uri: http://127.0.0.1:" << port << "/oauth/callback\n"
      << "  scopes: crm.objects.contacts.read crm.objects.contacts.write\n"
      << "state: {path: state.db}\nlog: {level: warn}\n";
  const std::string hubsync = std::string("SIM_SECRET=") + hubsync::sim::kOAuthClientSecret + " '" +
                              HUBSYNC_BIN + "' --config '" + (dir / "hubsync.yaml").string() + "' ";

  int code = 0;
  auto before = run(hubsync + "auth status", code);
  EXPECT_EQ(code, 1) << before;
  EXPECT_THAT(before, HasSubstr("not logged in"));

  // Start the login, read the authorize URL it prints, and "approve" it.
  FILE* login = popen((hubsync + "auth login --timeout 30 2>&1").c_str(), "r");
  ASSERT_NE(login, nullptr);
  std::string url, out;
  char line[4096];
  while (url.empty() && fgets(line, sizeof line, login)) {
    out += line;
    std::string l = line;
    auto at = l.find("http");
    if (at != std::string::npos && l.find("/oauth/authorize") != std::string::npos) {
      url = l.substr(at);
      while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
    }
  }
  ASSERT_FALSE(url.empty()) << out;
  int curl_code = 0;
  run("curl -s -L --max-time 20 '" + url + "' -o /dev/null", curl_code);
  EXPECT_EQ(curl_code, 0);
  while (fgets(line, sizeof line, login)) out += line;
  const int status = pclose(login);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << out;
  EXPECT_THAT(out, HasSubstr("logged in: portal 62515"));

  auto after = run(hubsync + "auth status", code);
  EXPECT_EQ(code, 0) << after;
  EXPECT_THAT(after, HasSubstr("refresh token: stored"));
  EXPECT_THAT(after, HasSubstr("crm.objects.contacts.read"));
  // The stored tokens must not appear in any output.
  int sqlite_code = 0;
  auto tokens = run("sqlite3 '" + (dir / "state.db").string() +
                        "' 'SELECT access_token || char(10) || refresh_token FROM oauth_tokens'",
                    sqlite_code);
  ASSERT_EQ(sqlite_code, 0) << tokens;
  std::size_t start = 0;
  int checked = 0;
  while (start < tokens.size()) {
    auto end = tokens.find('\n', start);
    std::string t = tokens.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (t.size() > 8) {
      EXPECT_THAT(after + out, ::testing::Not(HasSubstr(t)));
      ++checked;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  EXPECT_EQ(checked, 2);
  fs::remove_all(dir);
}

TEST(CliAuth, ForgedStateIsRefused) {
  hubsync::sim::Simulator sim;
  sim.start();
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("hubsync-auth-" + std::to_string(rd()));
  fs::create_directories(dir);
  const int port = free_port();
  std::ofstream(dir / "hubsync.yaml")
      << "postgres: {dsn: 'host=/nonexistent'}\n"
      << "hubspot: {base_url: '" << sim.base_url() << "', auth: oauth, client_id: x, client_secret: y,"
      << " redirect_uri: 'http://127.0.0.1:" << port << "/oauth/callback'}\n"
      << "state: {path: state.db}\nlog: {level: warn}\n";
  FILE* login = popen(("'" + std::string(HUBSYNC_BIN) + "' --config '" + (dir / "hubsync.yaml").string() +
                       "' auth login --timeout 20 2>&1").c_str(), "r");
  char line[4096];
  std::string out;
  while (fgets(line, sizeof line, login)) {
    out += line;
    if (out.find("waiting for the redirect") != std::string::npos) break;
  }
  int code = 0;
  run("curl -s --max-time 10 'http://127.0.0.1:" + std::to_string(port) +
          "/oauth/callback?code=stolen&state=forged' -o /dev/null", code);
  while (fgets(line, sizeof line, login)) out += line;
  const int status = pclose(login);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 1) << out;
  EXPECT_THAT(out, HasSubstr("state"));
  fs::remove_all(dir);
}

}  // namespace
