#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engine/mapping/parser.h"
#include "tests/support/pg.h"

namespace hubsync::mapping::test {

inline std::string source_dir() { return ::hubsync::test::source_dir(); }

/// Loads mappings/<name>.yaml (the shipped examples); fails the test if invalid.
inline Mapping example(const std::string& name) {
  auto r = load_mapping_file(source_dir() + "/mappings/" + name + ".yaml");
  if (!r.ok()) {
    std::string all;
    for (const auto& f : r.findings) all += f.to_string() + "\n";
    ADD_FAILURE() << all;
    return Mapping{};
  }
  return std::move(*r.mapping);
}

inline Mapping compile(const std::string& yaml) {
  auto r = parse_mapping(yaml, "test.yaml");
  if (!r.ok()) {
    std::string all;
    for (const auto& f : r.findings) all += f.to_string() + "\n";
    ADD_FAILURE() << all;
    return Mapping{};
  }
  return std::move(*r.mapping);
}

inline std::string text(const Findings& findings) {
  std::string all;
  for (const auto& f : findings) all += f.to_string() + "\n";
  return all;
}

}  // namespace hubsync::mapping::test
