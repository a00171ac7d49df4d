// What HubSpot refuses in a property value (mapping::property_value_problem):
// the one check a write action's values and the value_map checks share.
#include <gtest/gtest.h>

#include "engine/mapping/property_value.h"

namespace hubsync::mapping {
namespace {

const std::vector<PropertyOption> kTags = {{"vip", "VIP"}, {"beta", "Beta"}, {"partner", "Partner"}};

std::string problem(std::string_view type, std::string_view field_type, const std::string& value,
                    const std::vector<PropertyOption>& options = {}) {
  return property_value_problem(type, field_type, options, value);
}

TEST(PropertyValue, AMultiSelectTakesOnlyItsOptionsItemByItem) {
  EXPECT_EQ(problem("enumeration", "checkbox", "vip;beta", kTags), "");
  EXPECT_EQ(problem("enumeration", "checkbox", "vip;;beta", kTags), "");  // HubSpot drops the empty item
  EXPECT_EQ(problem("enumeration", "checkbox", "", kTags), "");           // clears the property
  EXPECT_EQ(problem("enumeration", "checkbox", "vip;gold", kTags),
            "'gold' is not one of its options (vip, beta, partner)");
  EXPECT_EQ(problem("enumeration", "checkbox", "beat", kTags),
            "'beat' is not one of its options (vip, beta, partner); did you mean 'beta'?");
  // A select's value is one option: a ';' in it is no separator.
  EXPECT_EQ(problem("enumeration", "select", "vip", kTags), "");
  EXPECT_NE(problem("enumeration", "select", "vip;beta", kTags), "");
  EXPECT_NE(problem("enumeration", "radio", "VIP", kTags), "") << "the option's value, not its label";
}

TEST(PropertyValue, ALongOptionListIsCutShort) {
  std::vector<PropertyOption> many;
  for (int i = 0; i < 14; ++i) many.push_back({"o" + std::to_string(i), ""});
  EXPECT_EQ(problem("enumeration", "select", "zzz", many),
            "'zzz' is not one of its options (o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, and 4 more)");
  EXPECT_EQ(problem("enumeration", "select", "anything", {}), "") << "no options known: nothing to check";
}

TEST(PropertyValue, NumbersBoolsDatesAndDatetimesAreCheckedByTheirType) {
  EXPECT_EQ(problem("number", "number", "-12.50"), "");
  EXPECT_EQ(problem("number", "number", "1.5e3"), "");
  EXPECT_EQ(problem("number", "number", "twelve"), "'twelve' is not a number");
  EXPECT_EQ(problem("number", "number", "nan"), "'nan' is not a number");
  EXPECT_EQ(problem("bool", "booleancheckbox", "TRUE"), "");
  EXPECT_EQ(problem("bool", "booleancheckbox", "maybe"), "'maybe' is not true or false");
  EXPECT_EQ(problem("bool", "booleancheckbox", "yes"), "'yes' is not true or false");
  EXPECT_EQ(problem("date", "date", "2024-02-29"), "");
  EXPECT_EQ(problem("date", "date", "1709164800000"), "");  // epoch ms at midnight UTC
  EXPECT_NE(problem("date", "date", "1709164800001"), "");
  EXPECT_NE(problem("date", "date", "29/02/2024"), "");
  EXPECT_EQ(problem("datetime", "date", "2024-02-29T10:30:00Z"), "");
  EXPECT_NE(problem("datetime", "date", "yesterday"), "");
  EXPECT_EQ(problem("string", "text", "anything at all"), "");
}

// HubSpot refuses these with LEADING_TRAILING_WHITESPACE (since 2025).
TEST(PropertyValue, WhitespaceAroundAValueIsRefusedForEveryTypeButStrings) {
  EXPECT_EQ(problem("number", "number", " 12"), "' 12' has whitespace around it, which HubSpot refuses in a number property");
  EXPECT_NE(problem("bool", "booleancheckbox", "true\n"), "");
  EXPECT_NE(problem("date", "date", "2024-02-29 "), "");
  EXPECT_NE(problem("datetime", "date", "\u00A0" "2024-02-29T10:30:00Z"), "");
  EXPECT_EQ(problem("enumeration", "select", "vip ", kTags),
            "'vip ' has whitespace around it, which HubSpot refuses in a enumeration property");
  EXPECT_NE(problem("enumeration", "select", "\u200B" "vip"), "") << "checked with no options known too";
  EXPECT_NE(problem("enumeration", "checkbox", "vip; beta", kTags), "") << "an item's spaces count";
  EXPECT_EQ(problem("enumeration", "checkbox", "vip;beta", kTags), "");
  EXPECT_EQ(problem("string", "text", " Ann "), "") << "a string keeps its spaces";
  EXPECT_EQ(problem("phone_number", "phonenumber", " +33 1 "), "");
}

TEST(PropertyValue, TooLongIsRefusedAndTheValueIsQuotedShort) {
  EXPECT_EQ(problem("string", "text", std::string(65'536, 'x')), "");
  EXPECT_EQ(problem("string", "text", std::string(65'537, 'x')), "the value is longer than HubSpot's 65,536 characters");
  const auto why = problem("number", "number", std::string(100, 'y'));
  EXPECT_EQ(why, "'" + std::string(64, 'y') + "...' is not a number");
}

}  // namespace
}  // namespace hubsync::mapping
