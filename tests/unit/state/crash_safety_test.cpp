// A writer killed with SIGKILL mid-write leaves a store that opens cleanly
// and holds every write it reported committed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "engine/state/sqlite_state_store.h"
#include "tests/unit/state/state_test_util.h"

namespace hubsync::state {
namespace {

using testing::TempDir;

constexpr int kRecordsPerBatch = 100;  // one HubSpot batch

std::string key_of(int batch, int i) { return std::to_string(batch) + "-" + std::to_string(i); }

// Child: resumes after the last committed batch and commits batches forever,
// reporting each batch number on `out` only after its transaction
// committed. Never returns.
[[noreturn]] void write_forever(const std::string& path, int out) {
  auto opened = SqliteStateStore::open(testing::options_for(path, nullptr));
  if (!opened.ok()) ::_exit(2);
  SqliteStateStore& store = **opened;
  auto cp = store.get_checkpoint("customers", "batches");
  if (!cp.ok()) ::_exit(2);
  const int start = cp->has_value() ? std::stoi((*cp)->value) + 1 : 1;
  for (int b = start;; ++b) {
    BatchCommit batch;
    batch.mapping = "customers";
    for (int i = 0; i < kRecordsPerBatch; ++i) {
      batch.records.push_back(
          {key_of(b, i), "hs-" + key_of(b, i), {{"email", {key_of(b, i) + "@x.io", b, b}}}});
    }
    InboxEvent e;
    e.event_id = std::to_string(b);
    e.subscription_id = "s";
    e.raw_json = "{}";
    Status s = store.transaction([&]() -> Status {
      if (auto r = store.commit_batch(batch); !r) return r;
      if (auto r = store.append_inbox({e}); !r) return std::move(r).error();
      return store.set_checkpoint("customers", "batches", std::to_string(b));
    });
    if (!s.ok()) ::_exit(3);
    if (::write(out, &b, sizeof b) != static_cast<ssize_t>(sizeof b)) ::_exit(4);
  }
}

class CrashSafetyTest : public ::testing::TestWithParam<unsigned> {};

// Starts a writer, kills it with SIGKILL after it reported `kill_after` more
// batches, then checks the store.
void kill_and_check(const std::string& path, int kill_after) {

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    write_forever(path, fds[1]);
  }
  ::close(fds[1]);

  // Wait for the seeded number of reported batches, then kill at once: the
  // child is in the middle of its next transaction.
  int first_reported = 0;
  int last_reported = 0;
  int b = 0;
  while (first_reported == 0 || last_reported - first_reported + 1 < kill_after) {
    ASSERT_EQ(::read(fds[0], &b, sizeof b), static_cast<ssize_t>(sizeof b))
        << "child stopped writing";
    if (first_reported == 0) first_reported = b;
    last_reported = b;
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  // Batches reported between our last read and the kill count too.
  while (::read(fds[0], &b, sizeof b) == static_cast<ssize_t>(sizeof b)) last_reported = b;
  ::close(fds[0]);
  // The killed writer left its WAL behind: reopening has to recover from it.
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(path + "-wal", ec), 0u) << ec.message();

  auto reopened = SqliteStateStore::open(testing::options_for(path, nullptr));
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  SqliteStateStore& store = **reopened;
  ASSERT_TRUE(store.check_integrity().ok());

  auto cp = store.get_checkpoint("customers", "batches");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  const int committed = std::stoi((*cp)->value);
  // At most the one batch in flight may have committed without its report.
  EXPECT_GE(committed, last_reported);
  EXPECT_LE(committed, last_reported + 1);
  // Every committed batch is there in full; the next one not at all.
  for (int batch = 1; batch <= committed + 1; ++batch) {
    const bool expect = batch <= committed;
    for (int i : {0, kRecordsPerBatch / 2, kRecordsPerBatch - 1}) {
      auto link = store.find_link_by_pg_key("customers", key_of(batch, i));
      ASSERT_TRUE(link.ok());
      EXPECT_EQ(link->has_value(), expect) << "batch " << batch << " record " << i;
      auto synced = store.get_synced("customers", key_of(batch, i));
      ASSERT_TRUE(synced.ok());
      EXPECT_EQ(synced->size(), expect ? 1u : 0u) << "batch " << batch;
    }
  }
  EXPECT_EQ(*store.count_inbox_pending(), static_cast<std::size_t>(committed));
  // And the store keeps working after recovery.
  ASSERT_TRUE(store.set_checkpoint("customers", "after", "ok").ok());
}

TEST_P(CrashSafetyTest, KilledWriterLosesNoCommittedBatch) {
  TempDir dir;
  const std::string path = dir.file("state.db");
  std::mt19937 rng(GetParam());
  // Several crashes of the same file: each writer recovers its predecessor's
  // WAL, goes on writing, and dies in turn.
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(::testing::Message() << "seed " << GetParam() << " round " << round);
    kill_and_check(path, std::uniform_int_distribution<int>(1, 30)(rng));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CrashSafetyTest, ::testing::Values(1u, 2u, 3u, 4u, 5u));

}  // namespace
}  // namespace hubsync::state
