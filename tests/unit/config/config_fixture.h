#pragma once

// A temporary folder per test for config files, and an environment the test
// controls (env_), for load_config().
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "engine/config/config.h"

namespace hubsync::config {

class ConfigFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("hubsync-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            info->test_suite_name() + "-" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  EnvLookup env() {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = env_.find(k);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  static std::string all_issues(const LoadResult& r) {
    std::string out;
    for (const auto& i : r.issues) out += i.format() + "\n";
    return out;
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

}  // namespace hubsync::config
