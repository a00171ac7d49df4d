#include <gtest/gtest.h>

#include "engine/model/record.h"
#include "engine/model/value.h"

namespace hubsync::model {
namespace {

TEST(Decimal, NormalisesWithoutLosingDigits) {
  struct Case { const char* in; std::string out; };
  for (auto c : {Case{"1.50", "1.5"}, Case{"001.500", "1.5"}, Case{"-0.00", "0"},
                 Case{"+12", "12"}, Case{".5", "0.5"}, Case{"5.", "5"},
                 Case{"12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"},
                 Case{" 7 ", "7"},
                 // Scientific notation, as HubSpot may hold a number and PostgreSQL prints a float.
                 Case{"1e5", "100000"}, Case{"1E2", "100"}, Case{"-1.5e-3", "-0.0015"}, Case{"2.5E+1", "25"},
                 Case{"1.25e1", "12.5"}, Case{"0e9", "0"}, Case{"-0.0e-3", "0"}, Case{"1.5e-324", "0." + std::string(323, '0') + "15"},
                 Case{"3e0", "3"}, Case{".5e1", "5"}}) {
    auto d = parse_decimal(c.in);
    ASSERT_TRUE(d.ok()) << c.in;
    EXPECT_EQ(d->text, c.out) << c.in;
  }
  for (auto in : {"", ".", "1.2.3", "abc", "--1", "1,5", "e5", "1e", "1e+", "1e5.5", "1e401", "1ee2", "1e 2"}) {
    auto d = parse_decimal(in);
    EXPECT_FALSE(d.ok()) << in;
    if (!d.ok()) {
      EXPECT_EQ(d.error().kind, ErrorKind::invalid_record);
    }
  }
}

TEST(Integer, ParsesAndRejects) {
  EXPECT_EQ(*parse_integer("42"), 42);
  EXPECT_EQ(*parse_integer("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(parse_integer("9223372036854775808").ok());
  EXPECT_FALSE(parse_integer("4.2").ok());
  EXPECT_FALSE(parse_integer("").ok());
}

TEST(DateTime, SameInstantInTwoZonesIsEqual) {
  auto a = parse_datetime("2024-03-01T12:00:00Z");
  auto b = parse_datetime("2024-03-01T14:00:00+02:00");
  auto c = parse_datetime("2024-03-01 07:00:00.000-05");
  auto d = parse_datetime("1709294400000");
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(*a, *d);
  EXPECT_EQ(format_datetime(*a), "2024-03-01T12:00:00.000Z");
}

TEST(DateTime, RejectsNonsense) {
  for (auto in : {"2024-13-01T00:00:00Z", "2024-02-30", "yesterday", "2024-01-01T25:00Z",
                  "2024-01-01T10:00:00Zjunk"})
    EXPECT_FALSE(parse_datetime(in).ok()) << in;
}

TEST(DateTime, BeforeEpochFormatsCorrectly) {
  auto t = parse_datetime("1969-12-31T23:59:59.999Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ms, -1);
  EXPECT_EQ(format_datetime(*t), "1969-12-31T23:59:59.999Z");
}

TEST(Date, IsoAndEpochMidnight) {
  auto a = parse_date("2024-02-29");
  auto b = parse_date("1709164800000");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(format_date(*a), "2024-02-29");
  EXPECT_FALSE(parse_date("1709164800001").ok());
  EXPECT_FALSE(parse_date("2023-02-29").ok());
}

TEST(Boolean, AcceptsCommonSpellings) {
  EXPECT_TRUE(*parse_boolean("TRUE"));
  EXPECT_TRUE(*parse_boolean("t"));
  EXPECT_FALSE(*parse_boolean("false"));
  EXPECT_FALSE(*parse_boolean("0"));
  EXPECT_FALSE(parse_boolean("maybe").ok());
}

TEST(Value, CanonicalAndEquality) {
  EXPECT_EQ(Value::list({"a", "b"}).canonical(), "a;b");
  EXPECT_EQ(Value::boolean(true).canonical(), "true");
  EXPECT_EQ(Value().canonical(), "");
  EXPECT_EQ(Value::decimal(*parse_decimal("1.50")), Value::decimal(*parse_decimal("1.5")));
  EXPECT_NE(Value::text("1"), Value::integer(1));
  EXPECT_TRUE(Value().is_null());
  EXPECT_EQ(split_list("a;b;;c").size(), 4u);
  EXPECT_TRUE(split_list("").empty());
}

TEST(RecordKey, EncodesAndDecodesCompositeKeys) {
  RecordKey single{{"42"}};
  EXPECT_EQ(single.encoded(), "42");
  RecordKey multi{{"a\"b", "x,y", "\n"}};
  auto back = RecordKey::decode(multi.encoded(), 3);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, multi);
  EXPECT_FALSE(RecordKey::decode("[\"a\"]", 2).has_value());
  EXPECT_FALSE(RecordKey::decode("junk", 2).has_value());
}

}  // namespace
}  // namespace hubsync::model
