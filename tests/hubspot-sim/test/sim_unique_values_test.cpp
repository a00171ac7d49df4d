// The simulator's unique-value index (unique_values.h) against
// std::unordered_map under seeded random sets, overwrites and erases, with
// short and long keys and keys that collide on their home slot.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/hubspot-sim/model.h"
#include "tests/hubspot-sim/unique_values.h"

namespace hubsync::sim {
namespace {

TEST(SimUniqueValues, MatchesAHashMapUnderRandomChanges) {
  std::vector<Record> records(64);
  std::mt19937_64 rng(7);
  UniqueValues index;
  std::unordered_map<std::string, Record*> expected;
  auto key_of = [](std::uint64_t n) {
    std::string k = "c" + std::to_string(n) + "@example.com";
    return n % 3 == 0 ? k + std::string(40, 'x') : k;  // some keys too long for a slot
  };
  for (int step = 0; step < 200000; ++step) {
    std::string key = key_of(rng() % 3000);
    switch (rng() % 3) {
      case 0:
      case 1: {
        Record* r = &records[rng() % records.size()];
        index.set(key, r);
        expected[key] = r;
        break;
      }
      default:
        index.erase(key);
        expected.erase(key);
    }
    if (step % 1000 == 0) {
      ASSERT_EQ(index.size(), expected.size()) << "step " << step;
      for (std::uint64_t n = 0; n < 3000; ++n) {
        auto it = expected.find(key_of(n));
        ASSERT_EQ(index.find(key_of(n)), it == expected.end() ? nullptr : it->second) << "step " << step;
      }
    }
  }
  UniqueValues copy = index;
  for (const auto& [key, r] : expected) EXPECT_EQ(copy.find(key), r);
  EXPECT_EQ(copy.size(), expected.size());
  EXPECT_EQ(index.find(""), nullptr);
}

TEST(SimUniqueValues, EraseOfAnAbsentKeyChangesNothing) {
  Record r;
  UniqueValues index;
  index.erase("a@example.com");
  index.set("a@example.com", &r);
  index.erase("b@example.com");
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.find("a@example.com"), &r);
  index.erase("a@example.com");
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.find("a@example.com"), nullptr);
}

}  // namespace
}  // namespace hubsync::sim
