// PostgreSQL's text output of a one-dimensional array, read element by
// element: quoting, escapes, NULL, other lower bounds, and ';' inside an
// unquoted element (PostgreSQL does not quote it in a text[]; libpqxx 6's
// parser split there).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "connectors/postgres/sql.h"

namespace hubsync::postgres {
namespace {

using Items = std::vector<std::optional<std::string>>;

Items parsed(const std::string& text) {
  auto r = parse_text_array(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Items{};
}

TEST(TextArray, ReadsEachElementAsPostgresPrintsIt) {
  EXPECT_EQ(parsed("{}"), Items{});
  EXPECT_EQ(parsed("{a;b,vip}"), (Items{"a;b", "vip"}));
  EXPECT_EQ(parsed("{\"a,b\",\"x \\\"y\\\" \\\\z\",\"\"}"), (Items{"a,b", "x \"y\" \\z", ""}));
  EXPECT_EQ(parsed("{NULL,\"NULL\",null}"), (Items{std::nullopt, "NULL", "null"}));
  EXPECT_EQ(parsed("{\"{}\",é,🚀}"), (Items{"{}", "é", "🚀"}));
  EXPECT_EQ(parsed("[0:1]={a,b}"), (Items{"a", "b"}));
}

TEST(TextArray, RefusesWhatItCannotReadAsOneDimension) {
  for (const char* bad : {"{{a,b},{c,d}}", "a,b", "{a,b", "{\"a}", "{a}x", "[1:2]{a,b}"}) {
    auto r = parse_text_array(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, model::ErrorKind::invalid_record) << bad;
  }
  EXPECT_NE(parse_text_array("{{a}}").error().message.find("multi-dimensional"), std::string::npos);
}

}  // namespace
}  // namespace hubsync::postgres
