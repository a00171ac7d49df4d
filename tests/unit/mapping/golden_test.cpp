// Runs the golden cases under tests/data/mapping/:
//   transforms/*.test  value conversions, one `field:` section after another
//   bad/*.yaml         invalid mappings; *.expected lists every finding
//   good/*.yaml        valid mappings; *.summary is the compiled summary
// Set HUBSYNC_UPDATE_GOLDEN=1 to rewrite .expected/.summary files (review the diff!).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/mapping/parser.h"
#include "tests/support/pg.h"

namespace hubsync::mapping {
namespace {

namespace fs = std::filesystem;

fs::path data_dir() { return fs::path(::hubsync::test::source_dir()) / "tests" / "data" / "mapping"; }

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool update_golden() {
  const char* u = std::getenv("HUBSYNC_UPDATE_GOLDEN");
  return u && std::string(u) == "1";
}

std::vector<fs::path> files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string::npos ? std::string::npos : at - start)));
    if (at == std::string::npos) break;
    start = at + sep.size();
  }
  return out;
}

// <empty> is "", '...' keeps surrounding spaces.
std::string decode(const std::string& s) {
  if (s == "<empty>") return "";
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') return s.substr(1, s.size() - 2);
  return s;
}

model::Value pg_value(const std::string& s) {
  if (s == "<null>") return model::Value::null();
  return model::Value::text(decode(s));
}

std::string show_pg(const model::Value& v) { return v.is_null() ? "<null>" : v.canonical(); }

std::string mapping_for(const std::string& field_yaml) {
  return "name: golden\n"
         "postgres: {table: public.golden, key: id}\n"
         "hubspot: {object: contacts, match: email}\n"
         "fields:\n"
         "  - {column: golden_email, property: email}\n"
         "  - " + field_yaml + "\n";
}

// Splits "lhs -> rhs" (or the arrow character).
bool arrow(const std::string& line, std::string& lhs, std::string& rhs) {
  for (const std::string a : {" -> ", " \xe2\x86\x92 "}) {
    auto at = line.find(a);
    if (at != std::string::npos) {
      lhs = trim(line.substr(0, at));
      rhs = trim(line.substr(at + a.size()));
      return true;
    }
  }
  return false;
}

std::string findings_text(const Findings& f) {
  std::string out;
  for (const auto& x : f) out += x.to_string() + "\n";
  return out;
}

void run_transform_file(const fs::path& path) {
  std::istringstream in(read(path));
  std::string line;
  int line_no = 0;
  std::optional<ParseResult> current;
  std::string field_yaml;
  const FieldMapping* field = nullptr;
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = path.filename().string() + ":" + std::to_string(line_no);
    SCOPED_TRACE(where + ": " + line);
    if (line.rfind("field:", 0) == 0) {
      field_yaml = trim(line.substr(6));
      current = parse_mapping(mapping_for(field_yaml), "golden.yaml");
      field = nullptr;
      if (current->ok()) field = &current->mapping->fields.back();
      continue;
    }
    ASSERT_TRUE(current.has_value()) << where << ": a case before any `field:` line";
    std::string lhs, rhs;
    if (line.rfind("invalid", 0) == 0) {
      // invalid -> substring: the field definition itself is rejected.
      ASSERT_TRUE(arrow(line, lhs, rhs)) << where;
      EXPECT_FALSE(current->ok()) << where << ": expected the field to be rejected";
      EXPECT_NE(findings_text(current->findings).find(rhs), std::string::npos)
          << where << ": no finding contains '" << rhs << "':\n" << findings_text(current->findings);
      continue;
    }
    ASSERT_TRUE(field) << where << ": the field did not compile:\n" << findings_text(current->findings);
    ASSERT_TRUE(arrow(line, lhs, rhs)) << where << ": expected `op input -> expected`";
    auto space = lhs.find(' ');
    std::string op = lhs.substr(0, space);
    std::string input = space == std::string::npos ? "" : trim(lhs.substr(space + 1));
    bool want_error = rhs.rfind("error:", 0) == 0;
    std::string want_msg = want_error ? trim(rhs.substr(6)) : "";
    std::string got;
    std::string err;
    if (op == "push" || op == "compare_pg") {
      auto parts = split(input, " | ");
      model::Fields row;
      for (std::size_t i = 0; i < field->columns.size(); ++i)
        row[field->columns[i]] = pg_value(i < parts.size() ? parts[i] : "<null>");
      if (op == "push") {
        auto r = field->push(row);
        if (r) {
          for (auto& s : *r) got += (got.empty() ? "" : " | ") + (s.empty() ? std::string("<empty>") : s);
        } else {
          err = r.error().message;
          EXPECT_EQ(r.error().kind, model::ErrorKind::invalid_record) << where;
        }
      } else {
        auto r = field->compare_from_postgres(row);
        if (r) got = *r; else err = r.error().message;
      }
    } else if (op == "pull" || op == "compare_hs") {
      auto parts = split(input, " | ");
      Properties props;
      for (std::size_t i = 0; i < field->properties.size() && i < parts.size(); ++i)
        props[field->properties[i]] = decode(parts[i]);
      if (op == "pull") {
        auto r = field->pull(props);
        if (r) {
          for (auto& v : *r) got += (got.empty() ? "" : " | ") + show_pg(v);
        } else {
          err = r.error().message;
          EXPECT_EQ(r.error().kind, model::ErrorKind::invalid_record) << where;
        }
      } else {
        auto r = field->compare_from_hubspot(props);
        if (r) got = *r; else err = r.error().message;
      }
    } else {
      FAIL() << where << ": unknown operation `" << op << "`";
    }
    if (want_error) {
      EXPECT_FALSE(err.empty()) << where << ": expected an error, got '" << got << "'";
      EXPECT_NE(err.find(want_msg), std::string::npos) << where << ": error '" << err << "'";
      EXPECT_NE(err.find("field " + field->id), std::string::npos) << where << ": error names no field";
    } else {
      EXPECT_TRUE(err.empty()) << where << ": unexpected error: " << err;
      std::string want = rhs == "<empty>" ? rhs : decode(rhs);
      EXPECT_EQ(got, want) << where;
    }
  }
}

TEST(MappingGolden, Transforms) {
  auto all = files(data_dir() / "transforms", ".test");
  ASSERT_FALSE(all.empty());
  for (const auto& p : all) {
    SCOPED_TRACE(p.filename().string());
    run_transform_file(p);
  }
}

std::string relative_findings(const Findings& f, const fs::path& path) {
  std::string out;
  for (auto x : f) {
    if (x.mark.file == path.string()) x.mark.file = path.filename().string();
    out += x.to_string() + "\n";
  }
  return out;
}

TEST(MappingGolden, BadMappings) {
  auto all = files(data_dir() / "bad", ".yaml");
  ASSERT_FALSE(all.empty());
  for (const auto& p : all) {
    SCOPED_TRACE(p.filename().string());
    auto r = load_mapping_file(p.string());
    EXPECT_FALSE(r.ok()) << p << " compiled but should not";
    std::string got = relative_findings(r.findings, p);
    auto expected_path = fs::path(p).replace_extension(".expected");
    if (update_golden()) {
      std::ofstream(expected_path, std::ios::binary) << got;
      continue;
    }
    EXPECT_EQ(got, read(expected_path)) << p;
  }
}

// The examples in mappings/ (used by the demo) compile, agree as a set, and
// match their summaries in tests/data/mapping/examples/.
TEST(MappingGolden, ExampleMappings) {
  auto all = files(data_dir().parent_path().parent_path().parent_path() / "mappings", ".yaml");
  ASSERT_GE(all.size(), 4u);
  std::vector<Mapping> mappings;
  for (const auto& p : all) {
    SCOPED_TRACE(p.filename().string());
    auto r = load_mapping_file(p.string());
    ASSERT_TRUE(r.ok()) << relative_findings(r.findings, p);
    for (const auto& f : r.findings) EXPECT_NE(f.severity, Severity::warning) << f.to_string();
    auto summary_path = data_dir() / "examples" / fs::path(p.filename()).replace_extension(".summary");
    if (update_golden()) {
      std::ofstream(summary_path, std::ios::binary) << r.mapping->summary();
    } else {
      EXPECT_EQ(r.mapping->summary(), read(summary_path));
    }
    mappings.push_back(std::move(*r.mapping));
  }
  auto set = validate_set(mappings);
  EXPECT_TRUE(set.empty()) << set.front().to_string();
}

// Inputs the fuzzer once found a crash or hang with: each must now give a
// finding with a message, quickly.
TEST(MappingGolden, FuzzRegressions) {
  for (const auto& p : files(data_dir() / "fuzz-regressions", ".yaml")) {
    SCOPED_TRACE(p.filename().string());
    auto r = load_mapping_file(p.string());
    if (r.ok()) continue;
    ASSERT_FALSE(r.findings.empty());
    for (const auto& f : r.findings) EXPECT_FALSE(f.message.empty());
  }
}

TEST(MappingGolden, GoodMappings) {
  auto all = files(data_dir() / "good", ".yaml");
  ASSERT_FALSE(all.empty());
  for (const auto& p : all) {
    SCOPED_TRACE(p.filename().string());
    auto r = load_mapping_file(p.string());
    ASSERT_TRUE(r.ok()) << relative_findings(r.findings, p);
    std::string got = r.mapping->summary();
    for (const auto& f : r.findings)
      if (f.severity != Severity::error) got += "# " + f.to_string().substr(p.string().size()) + "\n";
    auto summary_path = fs::path(p).replace_extension(".summary");
    if (update_golden()) {
      std::ofstream(summary_path, std::ios::binary) << got;
      continue;
    }
    EXPECT_EQ(got, read(summary_path)) << p;
  }
}

}  // namespace
}  // namespace hubsync::mapping
