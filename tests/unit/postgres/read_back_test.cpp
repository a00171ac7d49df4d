// Which columns a pull's write reads back (read_back_columns): the ones the
// write could leave holding other than what it sent, and no others, so a
// row of text costs no conversion. PullValues (integration) shows the
// values read back becoming the base.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/postgres/pg_try.h"
#include "engine/mapping/parser.h"

namespace hubsync::postgres {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

mapping::Mapping facts() {
  auto parsed = mapping::parse_mapping(R"(name: facts
postgres: {table: public.facts, key: id}
hubspot: {object: contacts, match: email}
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
  - {column: qty, property: qty, type: integer}
  - {column: active, property: active, type: boolean}
  - {column: score, property: score, type: decimal}
  - {column: seen_at, property: seen_at, type: datetime}
  - {column: meta, property: meta, type: json}
  - {column: code, property: code}
)",
                                       "facts.yaml");
  EXPECT_TRUE(parsed.mapping.has_value());
  return *parsed.mapping;
}

PgDatabase::Columns columns() {
  return {{"id", {"bigint", 'N', "int8"}},          {"email", {"text", 'S', "text"}},
          {"name", {"character varying(40)", 'S', "varchar"}}, {"qty", {"integer", 'N', "int4"}},
          {"active", {"boolean", 'B', "bool"}},     {"score", {"numeric(12,4)", 'N', "numeric"}},
          {"seen_at", {"timestamp with time zone", 'D', "timestamptz"}},
          {"meta", {"jsonb", 'U', "jsonb"}},        {"code", {"character(4)", 'S', "bpchar"}}};
}

TEST(ReadBack, OnlyColumnsThatCanStoreAValueOtherwiseAndAnInsertsDefaults) {
  const auto m = facts();
  const auto cols = columns();
  const std::vector<std::string> all = {"email", "name", "qty", "active", "score", "seen_at", "meta", "code"};
  EXPECT_THAT(read_back_columns(m, cols, all, false), ElementsAre("score", "seen_at", "meta", "code"));
  EXPECT_THAT(read_back_columns(m, cols, all, true), ElementsAre("id", "score", "seen_at", "meta", "code"))
      << "the key an insert leaves out takes its default too";
  EXPECT_THAT(read_back_columns(m, cols, {"email", "name"}, false), IsEmpty()) << "text stores what was sent";
  EXPECT_THAT(read_back_columns(m, cols, {"email", "name"}, true),
              ElementsAre("id", "qty", "active", "score", "seen_at", "meta", "code"))
      << "an insert's left-out columns hold their defaults";
}

}  // namespace
}  // namespace hubsync::postgres
