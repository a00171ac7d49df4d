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
#include <string>
#include <vector>

#include "tests/hubspot-sim/simulator.h"
#include "tests/support/pg.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using hubsync::test::free_port;
using ::testing::HasSubstr;
using ::testing::Not;

std::string run(const std::string& cmd, int& code) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

struct Login {
  int code = -1;
  std::string out;
};

// Runs `auth login`, reads the authorize URL it prints and "approves" it in
// a browser (curl following the simulator's redirect to the listener).
// `consent_extra` is appended to the URL: what the user chose on the
// consent page (the simulator's `sim_portal_id`).
Login login_flow(const std::string& hubsync, const std::string& consent_extra = "") {
  Login res;
  FILE* login = popen((hubsync + "auth login --timeout 30 2>&1").c_str(), "r");
  if (!login) return res;
  std::string url;
  char line[4096];
  while (url.empty() && fgets(line, sizeof line, login)) {
    res.out += line;
    std::string l = line;
    auto at = l.find("http");
    if (at != std::string::npos && l.find("/oauth/authorize") != std::string::npos) {
      url = l.substr(at);
      while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
    }
  }
  EXPECT_FALSE(url.empty()) << res.out;
  int curl_code = 0;
  if (!url.empty()) run("curl -s -L --max-time 20 '" + url + consent_extra + "' -o /dev/null", curl_code);
  EXPECT_EQ(curl_code, 0);
  while (fgets(line, sizeof line, login)) res.out += line;
  const int status = pclose(login);
  res.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return res;
}

// The access and refresh tokens in a state file, one per line.
std::vector<std::string> stored_tokens(const fs::path& state) {
  int code = 0;
  auto text = run("sqlite3 '" + state.string() +
                      "' 'SELECT access_token || char(10) || refresh_token FROM oauth_tokens'",
                  code);
  EXPECT_EQ(code, 0) << text;
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    std::string t = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (t.size() > 8) out.push_back(t);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// A temp directory with a hubsync.yaml for OAuth against `sim`.
struct OAuthSetup {
  explicit OAuthSetup(const hubsync::sim::Simulator& sim, const std::string& extra_hubspot = "",
                      const std::string& log_level = "warn") {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("hubsync-auth-" + std::to_string(rd()));
    fs::create_directories(dir);
    const int port = free_port();
    std::ofstream(dir / "hubsync.yaml")
        << "postgres: {dsn_env: PG}\n"
        << "hubspot:\n  base_url: '" << sim.base_url() << "'\n  portal_id: 62515\n  auth: oauth\n"
        << "  client_id: " << hubsync::sim::kOAuthClientId << "\n  client_secret_env: SIM_SECRET\n"
        << "  redirect_uri: http://127.0.0.1:" << port << "/oauth/callback\n"
        << "  scopes: crm.objects.contacts.read crm.objects.contacts.write\n"
        << extra_hubspot << "state: {path: state.db}\nlog: {level: " << log_level << "}\n";
    hubsync = "PG='" + dsn + "' PGPASSWORD=" + pg_password + " SIM_SECRET=" +
              hubsync::sim::kOAuthClientSecret + " '" + HUBSYNC_BIN + "' --config '" +
              (dir / "hubsync.yaml").string() + "' ";
  }
  ~OAuthSetup() { fs::remove_all(dir); }

  const std::string dsn = "postgresql://app:dsnLEAK77@127.0.0.1:1/crm";
  const std::string pg_password = "pgpwLEAK77";
  fs::path dir;
  std::string hubsync;
};

TEST(CliAuth, LoginStoresTokensAndStatusNeverPrintsThem) {
  hubsync::sim::Simulator sim;
  sim.start();
  OAuthSetup setup(sim);
  int code = 0;
  auto before = run(setup.hubsync + "auth status", code);
  EXPECT_EQ(code, 1) << before;
  EXPECT_THAT(before, HasSubstr("not logged in"));

  auto login = login_flow(setup.hubsync);
  EXPECT_EQ(login.code, 0) << login.out;
  EXPECT_THAT(login.out, HasSubstr("logged in: portal 62515"));

  auto after = run(setup.hubsync + "auth status", code);
  EXPECT_EQ(code, 0) << after;
  EXPECT_THAT(after, HasSubstr("refresh token: stored"));
  EXPECT_THAT(after, HasSubstr("crm.objects.contacts.read"));
  // The stored tokens must not appear in any output.
  const auto tokens = stored_tokens(setup.dir / "state.db");
  EXPECT_EQ(tokens.size(), 2u);
  for (const auto& t : tokens) EXPECT_THAT(after + login.out, Not(HasSubstr(t)));
}

// Every secret hubsync knows, against everything the auth commands and
// config check print, with logging at its most verbose.
TEST(CliAuth, NoSecretInConfigCheckAuthLoginOrStatusAtTrace) {
  hubsync::sim::Simulator sim;
  sim.start();
  OAuthSetup setup(sim, "  refresh_token_env: SEED_REFRESH\n", "trace");
  const std::string seed_refresh = "seed-refresh-LEAK77";
  const std::string hubsync = "SEED_REFRESH=" + seed_refresh + " " + setup.hubsync + "--log-level trace ";
  int code = 0;
  auto check = run(hubsync + "config check", code);
  EXPECT_EQ(code, 0) << check;
  auto login = login_flow(hubsync);
  EXPECT_EQ(login.code, 0) << login.out;
  auto status = run(hubsync + "auth status", code);
  EXPECT_EQ(code, 0) << status;
  EXPECT_THAT(status, HasSubstr("HubSpot says:  hub 62515"));

  std::vector<std::string> secrets = {hubsync::sim::kOAuthClientSecret, "dsnLEAK77", "pgpwLEAK77", seed_refresh,
                                      "sim-access-", "sim-refresh-", "sim-code-"};
  for (const auto& t : stored_tokens(setup.dir / "state.db")) secrets.push_back(t);
  const std::string all = check + login.out + status;
  for (const auto& s : secrets) EXPECT_THAT(all, Not(HasSubstr(s))) << s;
}

TEST(CliAuth, LoginForAnotherPortalIsRefusedAndStoresNothing) {
  hubsync::sim::Simulator sim;
  sim.start();
  OAuthSetup setup(sim);
  // On the consent page the user picks portal 99999, not the configured one.
  auto login = login_flow(setup.hubsync, "&sim_portal_id=99999");
  EXPECT_EQ(login.code, 1) << login.out;
  EXPECT_THAT(login.out, HasSubstr("62515"));
  EXPECT_THAT(login.out, HasSubstr("99999"));
  EXPECT_THAT(login.out, Not(HasSubstr("logged in")));
  EXPECT_THAT(login.out, Not(HasSubstr("sim-access-")));
  EXPECT_THAT(login.out, Not(HasSubstr("sim-refresh-")));
  if (fs::exists(setup.dir / "state.db")) {
    EXPECT_TRUE(stored_tokens(setup.dir / "state.db").empty());
  }
  int code = 0;
  auto status = run(setup.hubsync + "auth status", code);
  EXPECT_EQ(code, 1) << status;
  EXPECT_THAT(status, HasSubstr("not logged in"));
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

// A refresh token revoked mid-operation (the app uninstalled, a security
// reset): the run stops with an error that names the cause and the fix;
// the captured changes wait; after `auth login` the next run sends them.
TEST(CliAuth, ARevokedRefreshTokenStopsTheRunNamingItAndALoginResumesWithoutLoss) {
  HUBSYNC_REQUIRE_PG(server);
  hubsync::test::TempDatabase db(server);
  db.exec("CREATE TABLE people (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, first_name text)");
  hubsync::sim::Simulator sim;
  sim.start();
  OAuthSetup setup(sim);
  fs::create_directories(setup.dir / "mappings");
  std::ofstream(setup.dir / "mappings" / "people.yaml")
      << "name: people\npostgres: {table: public.people, key: id}\nhubspot: {object: contacts, match: email}\n"
         "fields:\n  - {column: email, property: email}\n  - {column: first_name, property: firstname}\n";
  std::ofstream(setup.dir / "hubsync.yaml", std::ios::app) << "mappings: {dir: mappings}\n";
  const std::string hubsync = "PG='" + db.dsn() + "' SIM_SECRET=" + hubsync::sim::kOAuthClientSecret + " '" +
                              HUBSYNC_BIN + "' --config '" + (setup.dir / "hubsync.yaml").string() + "' ";
  ASSERT_EQ(login_flow(hubsync).code, 0);
  int code = 0;
  auto migrated = run(hubsync + "migrate", code);
  ASSERT_EQ(code, 0) << migrated;
  db.exec("INSERT INTO people (email, first_name) VALUES ('a@example.com', 'A'), ('b@example.com', 'B')");

  const auto tokens = stored_tokens(setup.dir / "state.db");
  ASSERT_EQ(tokens.size(), 2u);
  run("curl -s -X DELETE --max-time 10 '" + sim.base_url() + "/oauth/v1/refresh-tokens/" + tokens[1] + "' -o /dev/null",
      code);
  sim.expire_oauth_tokens();
  auto refused = run(hubsync + "run --once", code);
  EXPECT_NE(code, 0) << refused;
  EXPECT_THAT(refused, HasSubstr("refresh token"));
  EXPECT_THAT(refused, HasSubstr("auth login"));
  for (const auto& t : tokens) EXPECT_THAT(refused, Not(HasSubstr(t)));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'people'"), "2");
  EXPECT_TRUE(sim.counters().inputs_written.empty());

  ASSERT_EQ(login_flow(hubsync).code, 0);
  auto resumed = run(hubsync + "run --once", code);
  EXPECT_EQ(code, 0) << resumed;
  EXPECT_EQ(db.scalar("SELECT count(*) FROM hubsync.changelog WHERE mapping = 'people'"), "0");
  EXPECT_NE(sim.dump_json("contacts").find("b@example.com"), std::string::npos);
  fs::remove_all(setup.dir);
}

}  // namespace
