// libFuzzer target over the mapping parser: any input must give either a
// compiled mapping or at least one error with a message; never a crash, a
// hang or an exception escaping.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/mapping/parser.h"

using namespace hubsync::mapping;

namespace {

// Values to convert: a few awkward ones and the first lines of the input.
std::vector<std::string> sample_values(const std::string& text) {
  std::vector<std::string> out = {"", "0", "-1.50", "true", "2026-03-12", "1773309600000",
                                  "2026-03-12T10:00:00.123+02:00", "a;b", "{\"a\": [1, 2]}", "Ada Lovelace"};
  std::size_t start = 0;
  for (int i = 0; i < 6 && start < text.size(); ++i) {
    auto end = text.find('\n', start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// For every field: conversions never crash; for a field that passed the
// round-trip proof, a HubSpot value that pulls and pushes back compares
// equal to itself (no ping-pong between the sides).
void check_fields(const Mapping& m, const std::string& text) {
  for (const auto& value : sample_values(text)) {
    for (const auto& f : m.fields) {
      hubsync::model::Fields row;
      for (const auto& c : f.columns) row[c] = hubsync::model::Value::text(value);
      (void)f.push(row);
      (void)f.compare_from_postgres(row);
      Properties props;
      for (const auto& p : f.properties) props[p] = value;
      auto pulled = f.pull(props);
      if (!pulled || f.direction != Direction::both) continue;
      hubsync::model::Fields back;
      for (std::size_t i = 0; i < f.columns.size(); ++i) back[f.columns[i]] = (*pulled)[i];
      auto from_pg = f.compare_from_postgres(back);
      auto from_hs = f.compare_from_hubspot(props);
      if (!from_pg || !from_hs || *from_pg != *from_hs) {
        std::fprintf(stderr, "field %s: HubSpot '%s' pulls and pushes back as '%s', compares as '%s'\n",
                     f.id.c_str(), value.c_str(), from_pg ? from_pg->c_str() : from_pg.error().message.c_str(),
                     from_hs ? from_hs->c_str() : "?");
        std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16 * 1024) return 0;  // mapping files are small; keep iterations fast
  const std::string text(reinterpret_cast<const char*>(data), size);
  ParseResult r = parse_mapping(text, "fuzz.yaml");
  if (!r.ok()) {
    bool has_error = false;
    for (const auto& f : r.findings) {
      if (f.message.empty()) {
        std::fprintf(stderr, "finding without a message\n");
        std::abort();
      }
      has_error = has_error || f.severity == Severity::error;
    }
    if (!has_error) {
      std::fprintf(stderr, "failed parse without an error finding\n");
      std::abort();
    }
    return 0;
  }
  // A compiled mapping must be usable: summarise it and convert an empty row
  // and an empty object both ways.
  const Mapping& m = *r.mapping;
  check_fields(m, text);
  (void)m.summary();
  hubsync::model::Fields row;
  for (const auto& c : m.postgres_columns()) row[c] = hubsync::model::Value::null();
  (void)m.to_hubspot(row, Scope::all);
  (void)m.to_postgres(Properties{}, Scope::all);
  (void)m.compare_from_hubspot(Properties{});
  (void)validate_set({m, m});
  return 0;
}
