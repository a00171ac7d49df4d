#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/ratelimit/clock.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state::testing {

/// Time that only moves when the test says so.
class FakeClock final : public ratelimit::Clock {
 public:
  explicit FakeClock(std::int64_t wall_ms) : wall_(wall_ms) {}
  Duration monotonic() const override { return Duration(wall_.load()); }
  std::int64_t wall_ms() const override { return wall_.load(); }
  void sleep_for(Duration d) override { wall_ += d.count(); }
  void advance(std::int64_t ms) { wall_ += ms; }

 private:
  std::atomic<std::int64_t> wall_;
};

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                       "/hubsync-state-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline SqliteOptions options_for(const std::string& path, const ratelimit::Clock* clock) {
  SqliteOptions o;
  o.path = path;
  o.clock = clock;
  return o;
}

}  // namespace hubsync::state::testing
