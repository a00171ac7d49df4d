// Malformed configuration files, many of them: every mutation of a full,
// valid config (bytes dropped, duplicated, replaced with YAML's special
// characters, lines swapped or cut) loads without crashing or throwing, and
// every problem it reports names the file and a position or a key. Seeded,
// so a failure reproduces; under the ASan preset it also checks memory.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "tests/support/pg.h"
#include "tests/unit/config/config_fixture.h"

namespace hubsync::config {
namespace {

using ConfigMutation = ConfigFixture;

std::string example_config() {
  std::ifstream in(test::source_dir() + "/deploy/hubsync.example.yaml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str() + "actions: {app_id: 1001, developer_api_key: 'k-123456', answer_within_ms: 3000}\n"
                   "serve: {health_auth: 'ops:pw-123456'}\n";
}

std::string mutate(std::string text, std::mt19937& rng) {
  static const std::string specials = ":-{}[]'\"#&*!|>%@`,? \t\n\\\x01\xff";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = rng() % text.size();
    switch (rng() % 5) {
      case 0: text.erase(at, 1 + rng() % 8); break;
      case 1: text.insert(at, 1, specials[rng() % specials.size()]); break;
      case 2: text[at] = specials[rng() % specials.size()]; break;
      case 3: text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 30)); break;
      default: text.resize(at); break;  // cut short
    }
  }
  return text;
}

TEST_F(ConfigMutation, NeverCrashesAndEveryProblemSaysWhere) {
  env_["HUBSPOT_TOKEN"] = "pat-123456";
  const std::string base = example_config();
  const std::string path = (dir_ / "hubsync.yaml").string();
  std::mt19937 rng(20261203);
  int invalid = 0;
  for (int i = 0; i < 1500; ++i) {
    const std::string text = mutate(base, rng);
    { std::ofstream(path, std::ios::trunc) << text; }
    LoadResult r;
    ASSERT_NO_THROW(r = load_config(path, env())) << "mutation " << i << ":\n" << text;
    if (!r.ok()) ++invalid;
    for (const auto& issue : r.issues) {
      EXPECT_EQ(issue.file, path) << issue.format();
      EXPECT_TRUE(issue.line > 0 || !issue.key.empty()) << "mutation " << i << ": " << issue.format();
      EXPECT_FALSE(issue.message.empty()) << issue.format();
      // Secrets the file holds are never quoted back.
      EXPECT_EQ(issue.format().find("pw-123456"), std::string::npos) << issue.format();
      EXPECT_EQ(issue.format().find("k-123456"), std::string::npos) << issue.format();
    }
  }
  EXPECT_GT(invalid, 300) << "the mutations barely broke anything: the test would prove little";
}

}  // namespace
}  // namespace hubsync::config
