// kill -9 the real `hubsync run --once` at random moments of a two-way
// mapping's initial load while people edit *other* fields in HubSpot and
// Postgres keeps changing: after recovery no HubSpot edit has been
// overwritten by an old Postgres value, every Postgres change landed, and
// there is no duplicate (issue 9, item 8).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "tests/integration/push/push_harness.h"
#include "tests/support/people.h"

namespace hubsync::test {
namespace {

constexpr int kRows = 20000;
constexpr int kKills = 8;
const std::string kSql = people_table_sql("bigint");
constexpr const char* kMapping = kPeopleMapping;

pid_t spawn(const std::string& config, const std::string& log) {
  return spawn_hubsync(HUBSYNC_BIN, {"--config", config, "run", "--once"}, log);
}

int wait_for(pid_t pid, int ms) { return wait_for_exit(pid, ms); }

// A person editing first names in the HubSpot UI, one contact at a time,
// remembering the last value each contact got.
class UiEditor {
 public:
  UiEditor(PushHarness& h, std::uint64_t seed) : h_(h), rng_(seed) {}
  void start() { thread_ = std::thread([this] { loop(); }); }
  void stop() {
    stop_ = true;
    thread_.join();
  }
  std::map<std::string, std::string> edits() {
    std::lock_guard lock(mu_);
    return edits_;
  }
  int count() const { return count_; }

 private:
  void loop() {
    std::vector<std::pair<std::string, std::string>> contacts;  // id, email
    int n = 0;
    while (!stop_) {
      if (n++ % 50 == 0) {
        contacts.clear();
        for (const auto& o : h_.dump("contacts"))
          if (!o.archived) contacts.emplace_back(o.id, o.props.count("email") ? o.props.at("email") : "");
      }
      if (!contacts.empty()) {
        const auto& [id, email] = contacts[rng_() % contacts.size()];
        const std::string value = "UI" + std::to_string(count_.load());
        h_.sim.ui_edit("contacts", id, {{"firstname", value}});
        std::lock_guard lock(mu_);
        edits_[email] = value;
        ++count_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  }
  PushHarness& h_;
  std::mt19937_64 rng_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};
  std::mutex mu_;
  std::map<std::string, std::string> edits_;
};

void trial(std::uint64_t seed) {
  HUBSYNC_REQUIRE_PG(server);
  sim::SimulatorOptions so;
  so.tier = 250;
  so.latency_min_ms = 100;
  so.latency_max_ms = 300;
  PushHarness h(server, kSql, {kMapping}, so);
  h.db.exec("INSERT INTO people SELECT g, 'p' || g || '@example.com', 'F' || g, 'C' || (g % 97) "
            "FROM generate_series(1, " + std::to_string(kRows) + ") g");
  h.migrate();
  std::filesystem::create_directories(h.dir / "mappings");
  std::ofstream(h.dir / "mappings" / "people.yaml") << kMapping;
  const std::string config = (h.dir / "hubsync.yaml").string();
  std::ofstream(config) << h.config_yaml();
  const std::string log = (h.dir / "hubsync.log").string();

  UiEditor editor(h, seed);
  editor.start();
  std::mt19937_64 rng(seed);
  std::vector<int> kill_points;
  int code = -1, pg_edits = 0;
  // Killed at random moments while it loads; then left to finish.
  for (int attempt = 0; attempt < kKills && code != 0; ++attempt) {
    pid_t pid = spawn(config, log);
    const int kill_after = 400 + static_cast<int>(rng() % 2500);
    // Postgres changes cities meanwhile (captured, pushed by this or a later run).
    for (int i = 0; i < 20; ++i, ++pg_edits)
      h.db.exec("UPDATE people SET city = 'PG" + std::to_string(pg_edits) + "' WHERE id = " +
                std::to_string(1 + rng() % kRows));
    code = wait_for(pid, kill_after);
    if (code == -1) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      kill_points.push_back(kill_after);
    } else {
      ASSERT_EQ(code, 0) << "hubsync failed; see " << log;
    }
  }
  pid_t last = spawn(config, log);
  code = wait_for(last, 180000);
  editor.stop();
  ASSERT_EQ(code, 0) << "see " << log;
  // Catch up with what the editors did while it finished.
  pid_t catch_up = spawn(config, log);
  ASSERT_EQ(wait_for(catch_up, 120000), 0) << "see " << log;
  EXPECT_GE(kill_points.size(), 2u) << "the load finished too fast to be interrupted";

  auto live = h.live_by("contacts", "email");  // throws on a duplicate email
  ASSERT_EQ(live.size(), static_cast<std::size_t>(kRows));
  const auto edits = editor.edits();
  int overwritten = 0, kept = 0;
  for (const auto& [email, value] : edits) {
    const std::string now = live.at(email).props["firstname"];
    if (now == value) ++kept;
    else ++overwritten;
    EXPECT_EQ(now, value) << email << ": a HubSpot edit was overwritten";
  }
  // Every Postgres city landed.
  const std::string cities = h.db.scalar(
      "SELECT string_agg(email || '=' || city, ',' ORDER BY id) FROM people WHERE city LIKE 'PG%'");
  std::size_t start = 0, checked = 0;
  while (start < cities.size()) {
    auto end = cities.find(',', start);
    if (end == std::string::npos) end = cities.size();
    const std::string pair = cities.substr(start, end - start);
    const auto eq = pair.find('=');
    EXPECT_EQ(live.at(pair.substr(0, eq)).props["city"], pair.substr(eq + 1)) << pair;
    ++checked;
    start = end + 1;
  }
  std::string points;
  for (int p : kill_points) points += std::to_string(p) + "ms ";
  std::cerr << "seed " << seed << ": " << kill_points.size() << " kill -9 at " << points << "; "
            << edits.size() << " contacts edited in HubSpot (" << editor.count() << " edits), "
            << kept << " kept, " << overwritten << " overwritten; " << checked
            << " Postgres city changes checked\n";
}

TEST(PushCrashEdits, KilledDuringATwoWayLoadNeverOverwritesHubSpotEdits) { trial(11); }

TEST(PushCrashEdits, OtherKillPointsToo) { trial(424242); }

}  // namespace
}  // namespace hubsync::test
