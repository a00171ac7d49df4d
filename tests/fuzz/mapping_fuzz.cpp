// libFuzzer target over the mapping parser: any input must give either a
// compiled mapping or at least one error with a message; never a crash, a
// hang or an exception escaping.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/mapping/parser.h"

using namespace hubsync::mapping;

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
  (void)m.summary();
  hubsync::model::Fields row;
  for (const auto& c : m.postgres_columns()) row[c] = hubsync::model::Value::null();
  (void)m.to_hubspot(row, Scope::all);
  (void)m.to_postgres(Properties{}, Scope::all);
  (void)m.compare_from_hubspot(Properties{});
  (void)validate_set({m, m});
  return 0;
}
