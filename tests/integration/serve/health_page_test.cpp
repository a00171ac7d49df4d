// The sync-health page of a running `serve`, opened in a real headless
// browser (Debian's chromium): it renders, shows the figures `status --json`
// shows, and the browser reports no console error (the page has no script;
// a Content-Security-Policy violation would be one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tests/integration/serve/serve_support.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

class HealthPage : public ServeFixture {};

// Headless chromium on `url`: the DOM it built (stdout), its log (stderr,
// console messages included) and a screenshot.
struct Browser {
  int code = 0;
  std::string dom, log;
};

Browser open_in_chromium(const std::string& url, const fs::path& dir, const std::string& extra) {
  const fs::path out = dir / "dom.html", err = dir / "chromium.log";
  const std::string cmd = "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
                          "--user-data-dir='" + (dir / "profile").string() + "' --enable-logging=stderr --v=0 " + extra +
                          " '" + url + "' >'" + out.string() + "' 2>'" + err.string() + "'";
  Browser b;
  b.code = std::system(("timeout 60 " + cmd).c_str());
  std::ifstream d(out), e(err);
  b.dom.assign(std::istreambuf_iterator<char>(d), {});
  b.log.assign(std::istreambuf_iterator<char>(e), {});
  return b;
}

// The figure a row of the page shows: <tr data-mapping=M data-direction=D> ... data-field="F">value<
std::string page_figure(const std::string& dom, const std::string& direction, const std::string& field) {
  const auto row = dom.find("data-direction=\"" + direction + "\"");
  if (row == std::string::npos) return "(no row)";
  const auto end = dom.find("</tr>", row);
  const std::string tr = dom.substr(row, end - row);
  std::smatch m;
  if (!std::regex_search(tr, m, std::regex("data-field=\"" + field + "\">([^<]*)<"))) return "(no " + field + ")";
  return m[1];
}

TEST_F(HealthPage, RendersInChromiumWithTheFiguresStatusShowsAndNoConsoleError) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "chromium is not installed (deploy/install-deps.sh installs it)";
    GTEST_SKIP() << "chromium is not installed: run deploy/install-deps.sh";
  }
  // A row each way, and one HubSpot refuses (a dead letter).
  h_->db.exec("INSERT INTO people (email, name) VALUES ('page-pg@x.io', 'P'), ('not-an-email', 'Bad')");
  h_->sim.ui_create("contacts", {{"email", "page-ui@x.io"}, {"firstname", "U"}});
  ASSERT_TRUE(eventually([&] { return pg("SELECT count(*) FROM people WHERE email = 'page-ui@x.io'") == "1"; }, 30s))
      << log_tail(log_);
  // Until the figures are published with both writes counted.
  ASSERT_TRUE(eventually([&] {
    const auto body = http_get(port_, "/").second;
    return page_figure(body, "to_hubspot", "dead_letters") == "1" && page_figure(body, "to_hubspot", "hour") != "0" &&
           page_figure(body, "to_postgres", "hour") != "0";
  }, 30s)) << http_get(port_, "/").second;

  const fs::path dir = h_->dir / "browser";
  fs::create_directories(dir);
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/";
  const Browser page = open_in_chromium(url, dir, "--dump-dom --virtual-time-budget=3000");
  ASSERT_EQ(page.code, 0) << page.log;
  EXPECT_THAT(page.dom, HasSubstr("<h1>hubsync: sync health</h1>"));
  EXPECT_THAT(page.log, Not(HasSubstr(":CONSOLE"))) << "the browser reported a console message:\n" << page.log;

  // The same figures as `status --json`, direction by direction.
  auto status = run_command("('" HUBSYNC_BIN "' --config '" + config_.string() + "' status --json --offline 2>/dev/null)");
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(status.out.c_str()).HasParseError()) << status.out;
  int rows = 0;
  for (const auto& m : doc["mappings"].GetArray())
    for (const auto& d : m["directions"].GetArray()) {
      const std::string dir_name = d["direction"].GetString();
      ++rows;
      EXPECT_EQ(page_figure(page.dom, dir_name, "backlog"), std::to_string(d["backlog"].GetInt64())) << dir_name;
      EXPECT_EQ(page_figure(page.dom, dir_name, "dead_letters"), std::to_string(d["dead_letters"].GetInt64()))
          << dir_name;
      EXPECT_EQ(page_figure(page.dom, dir_name, "held"),
                d["held_deletes"].IsNull() ? "0" : std::to_string(d["held_deletes"]["count"].GetInt64()))
          << dir_name;
    }
  EXPECT_EQ(rows, 2);
  // The dead letter's reason, the refused row's key; the chart; the budget.
  EXPECT_THAT(page.dom, HasSubstr("INVALID_EMAIL"));
  EXPECT_THAT(page.dom, HasSubstr("<svg"));
  EXPECT_THAT(page.dom, testing::ContainsRegex("burst <span data-field=\"burst\">[0-9]+ of [0-9]+"));
  // No secret of the configuration reaches the page.
  EXPECT_THAT(page.dom, Not(HasSubstr(sim::kHubsyncToken)));
  EXPECT_THAT(page.dom, Not(HasSubstr(sim::kOAuthClientSecret)));

  const fs::path shot = dir / "health.png";
  const Browser drawn = open_in_chromium(url, dir, "--screenshot='" + shot.string() + "' --window-size=1280,900");
  ASSERT_EQ(drawn.code, 0) << drawn.log;
  ASSERT_TRUE(fs::exists(shot)) << drawn.log;
  EXPECT_GT(fs::file_size(shot), 10'000u);  // a drawn page, not a blank one
  std::ifstream png(shot, std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  EXPECT_EQ(magic, "\x89PNG\r\n\x1a\n");
}

}  // namespace
}  // namespace hubsync::test
