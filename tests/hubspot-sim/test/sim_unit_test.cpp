// Pure parts of the simulator: signatures, validation, search, rate limits.
#include <gtest/gtest.h>

#include "tests/hubspot-sim/json.h"
#include "tests/hubspot-sim/props.h"
#include "tests/hubspot-sim/rate_limiter.h"
#include "tests/hubspot-sim/search.h"
#include "tests/hubspot-sim/signatures.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

constexpr const char* kSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";

TEST(SimSignatures, V1GoldenVector) {
  const std::string body =
      R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}])";
  EXPECT_EQ(signature_v1(kSecret, body), "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
}

TEST(SimSignatures, V2GoldenVectors) {
  EXPECT_EQ(signature_v2(kSecret, "GET", "https://www.example.com/webhook_uri", ""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e");
  EXPECT_EQ(signature_v2(kSecret, "POST", "https://www.example.com/webhook_uri", R"({"example_field":"example_value"})"),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900");
}

TEST(SimSignatures, V3GoldenVector) {
  EXPECT_EQ(signature_v3(kSecret, "POST", "https://www.example.com/webhook_uri",
                         R"({"example_field":"example_value"})", 1700000000000),
            "rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=");
}

TEST(SimSignatures, V3ChangesWithEveryInput) {
  auto base = signature_v3(kSecret, "POST", "http://a/b", "x", 1);
  EXPECT_NE(base, signature_v3(kSecret, "POST", "http://a/b", "y", 1));
  EXPECT_NE(base, signature_v3(kSecret, "POST", "http://a/c", "x", 1));
  EXPECT_NE(base, signature_v3(kSecret, "POST", "http://a/b", "x", 2));
  EXPECT_NE(base, signature_v3("other", "POST", "http://a/b", "x", 1));
}

// The writer's fast path for strings with nothing to escape writes what
// RapidJSON's own writer does, byte for byte: escapes found in either part
// of the eight-at-a-time scan, or in the tail, fall back to RapidJSON.
TEST(SimJson, TheFastWriterWritesWhatRapidJsonWrites) {
  std::vector<std::string> samples = {"", "a", "firstname", "exactly8", "sixteen chars ok", "Zoë 😀 ünïcode",
                                      "del\x7f", std::string("nul\0byte", 8), "\x1f", "tab\there"};
  for (std::size_t at : {0, 3, 7, 8, 9, 15, 16, 20})
    for (char c : {'"', '\\', '\n', '\x01'}) {
      std::string v(21, 'x');
      v[at] = c;
      samples.push_back(v);
    }
  auto write = [&](auto& w) {
    w.StartObject();
    for (const auto& v : samples) {
      w.Key(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    w.Key("list");
    w.StartArray();
    for (const auto& v : samples) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w.EndArray();
    w.EndObject();
  };
  rapidjson::StringBuffer fast_out, plain_out;
  JsonWriter fast(fast_out);
  JsonWriter::Base plain(plain_out);
  write(fast);
  write(plain);
  EXPECT_EQ(std::string(fast_out.GetString(), fast_out.GetSize()), std::string(plain_out.GetString(), plain_out.GetSize()));
  const std::string out(fast_out.GetString(), fast_out.GetSize());
  EXPECT_NE(out.find(R"("xxx\"xxxxx)"), std::string::npos) << "escapes still escaped";
  EXPECT_NE(out.find(R"("nul\u0000byte")"), std::string::npos);
}

// Props keeps std::string's order whatever its first bytes, and takes values
// in any order with the last of equal keys counting.
TEST(SimProps, LookupsKeepStringOrderAndUnsortedInputKeepsTheLastValue) {
  Props p = Props::from_unsorted({{"lastname", "L"}, {"city", "Oslo"}, {"Zeta", "z"}, {"city", "Bergen"},
                                  {"\xC3\xA9t\xC3\xA9", "e"}, {"", "empty"}, {"cit", "c"}});
  std::vector<std::string> keys;
  for (const auto& [k, v] : p) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"", "Zeta", "cit", "city", "lastname", "\xC3\xA9t\xC3\xA9"}));
  EXPECT_EQ(p.find("city")->second, "Bergen");
  for (const auto& k : keys) EXPECT_NE(p.find(k), p.end()) << k;
  EXPECT_EQ(p.find("cityx"), p.end());
  EXPECT_EQ(p.find("\xC3\xA9"), p.end());
  p["b"] = "B";
  p["\xC3\xA9z"] = "after";
  EXPECT_EQ(std::prev(p.end())->first, "\xC3\xA9z") << "bytes above 0x7f sort last, as std::string has them";
  EXPECT_EQ(p.size(), 8u);
}

TEST(SimTime, FormatsAndParsesIso) {
  EXPECT_EQ(format_iso_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso_ms(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(parse_time_ms("2023-11-14T22:13:20.123Z"), 1700000000123);
  EXPECT_EQ(parse_time_ms("2023-11-14T23:13:20.123+01:00"), 1700000000123);
  EXPECT_EQ(parse_time_ms("1700000000123"), 1700000000123);
  EXPECT_EQ(parse_time_ms("2024-02-29"), 1709164800000);
  EXPECT_FALSE(parse_time_ms("yesterday"));
  EXPECT_FALSE(parse_time_ms("2024-13-01"));
}

PropertyDef def(const std::string& name, const std::string& type, const std::string& field = "text") {
  PropertyDef d;
  d.name = name;
  d.type = type;
  d.field_type = field;
  return d;
}

TEST(SimValidation, EmailsAreLowerCasedAndChecked) {
  std::string v = "Ann@Example.COM";
  EXPECT_FALSE(normalize_value(def("email", "string"), v));
  EXPECT_EQ(v, "ann@example.com");
  for (std::string bad : {"nope", "a@b", "a b@c.com", "@c.com", "a@@c.com"}) {
    auto p = normalize_value(def("email", "string"), bad);
    ASSERT_TRUE(p) << bad;
    EXPECT_EQ(p->code, "INVALID_EMAIL");
  }
}

TEST(SimValidation, NumbersDatesBooleansEnumerations) {
  std::string n = "12.5";
  EXPECT_FALSE(normalize_value(def("mrr", "number", "number"), n));
  std::string bad_n = "12abc";
  EXPECT_EQ(normalize_value(def("mrr", "number", "number"), bad_n)->code, "INVALID_INTEGER");
  std::string d = "1709164800000";
  EXPECT_FALSE(normalize_value(def("d", "date", "date"), d));
  EXPECT_EQ(d, "2024-02-29");
  std::string not_midnight = "1709164800001";
  EXPECT_EQ(normalize_value(def("d", "date", "date"), not_midnight)->code, "INVALID_DATE");
  std::string dt = "1700000000123";
  EXPECT_FALSE(normalize_value(def("dt", "datetime", "date"), dt));
  EXPECT_EQ(dt, "2023-11-14T22:13:20.123Z");
  std::string bad_dt = "soon";
  EXPECT_EQ(normalize_value(def("dt", "datetime", "date"), bad_dt)->code, "INVALID_DATETIME");
  std::string b = "TRUE";
  EXPECT_FALSE(normalize_value(def("b", "bool", "booleancheckbox"), b));
  EXPECT_EQ(b, "true");
  PropertyDef e = def("stage", "enumeration", "select");
  e.options = {{"Lead", "lead", 0, false}, {"Customer", "customer", 1, false}};
  std::string ok = "lead", bad = "Lead";
  EXPECT_FALSE(normalize_value(e, ok));
  EXPECT_EQ(normalize_value(e, bad)->code, "INVALID_OPTION");
  e.field_type = "checkbox";
  std::string multi = "lead;customer", multi_bad = "lead;x";
  EXPECT_FALSE(normalize_value(e, multi));
  EXPECT_EQ(normalize_value(e, multi_bad)->code, "INVALID_OPTION");
  std::string empty;
  EXPECT_FALSE(normalize_value(def("mrr", "number", "number"), empty)) << "\"\" clears, always valid";
}

// HubSpot's change of 2025 ("enhanced validations for non-string properties"):
// whitespace around a value, or around an item of a multi-select, is refused;
// a string property keeps it.
TEST(SimValidation, WhitespaceAroundAValueOfANonStringPropertyIsRefused) {
  PropertyDef e = def("stage", "enumeration", "select");
  e.options = {{"Lead", "lead", 0, false}, {"Customer", "customer", 1, false}};
  PropertyDef multi = e;
  multi.field_type = "checkbox";
  const std::vector<std::pair<PropertyDef, std::string>> refused = {
      {def("mrr", "number", "number"), " 12"},
      {def("mrr", "number", "number"), "12\n"},
      {def("b", "bool", "booleancheckbox"), "true "},
      {def("d", "date", "date"), "2024-02-29\t"},
      {def("dt", "datetime", "date"), "\xC2\xA0" "2024-02-29T00:00:00Z"},  // no-break space
      {e, "lead "},
      {e, "\xE2\x80\x8B" "lead"},  // zero-width space
      {e, "lead\xEF\xBB\xBF"},     // BOM
      {multi, "lead; customer"},
      {multi, " "}};
  for (const auto& [d, value] : refused) {
    std::string v = value;
    auto p = normalize_value(d, v);
    ASSERT_TRUE(p) << d.type << " [" << value << "]";
    EXPECT_EQ(p->code, "LEADING_TRAILING_WHITESPACE") << value;
    EXPECT_EQ(p->message, "\"" + value + "\" includes leading or trailing whitespace.");
  }
  std::string inner = "lead;customer", text = " Ann ", phone = " +33 1 ";
  EXPECT_FALSE(normalize_value(multi, inner));
  EXPECT_FALSE(normalize_value(def("firstname", "string"), text));
  EXPECT_EQ(text, " Ann ") << "a string property keeps its spaces";
  EXPECT_FALSE(normalize_value(def("phone", "phone_number", "phonenumber"), phone));
  std::string spaced_email = " ann@x.io";
  EXPECT_EQ(normalize_value(def("email", "string"), spaced_email)->code, "INVALID_EMAIL");
}

TEST(SimValidation, ErrorEmbedsPerPropertyJsonInMessage) {
  ApiError e = validation_error({{"foo", {"PROPERTY_DOESNT_EXIST", "Property \"foo\" does not exist"}}}, 62515);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.category, "VALIDATION_ERROR");
  EXPECT_NE(e.message.find("Property values were not valid: [{"), std::string::npos);
  EXPECT_NE(e.message.find("\"error\":\"PROPERTY_DOESNT_EXIST\""), std::string::npos);
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].code, "PROPERTY_DOESNT_EXIST");
}

class SimSearch : public ::testing::Test {
 protected:
  SimSearch() {
    type_.object_type_id = "0-1";
    type_.properties["email"] = def("email", "string");
    type_.properties["firstname"] = def("firstname", "string");
    type_.properties["mrr"] = def("mrr", "number", "number");
    type_.properties["lastmodifieddate"] = def("lastmodifieddate", "datetime", "date");
    type_.properties["hs_object_id"] = def("hs_object_id", "number", "number");
  }
  SearchQuery parse(const std::string& json) {
    rapidjson::Document d;
    d.Parse(json.c_str());
    return parse_search(d, json.size(), type_);
  }
  bool match(const std::string& json, const Props& p) { return search_matches(parse(json), type_, p); }
  ObjectType type_;
};

TEST_F(SimSearch, ComparisonOperatorsUsePropertyTypes) {
  Props p{{"mrr", "9.5"}, {"email", "Ann@Example.com"}, {"lastmodifieddate", "2024-01-01T00:00:00.000Z"}};
  auto f = [](const std::string& prop, const std::string& op, const std::string& value) {
    return R"({"filterGroups":[{"filters":[{"propertyName":")" + prop + R"(","operator":")" + op +
           R"(","value":")" + value + R"("}]}]})";
  };
  EXPECT_TRUE(match(f("mrr", "LT", "10"), p)) << "numeric, not lexical";
  EXPECT_FALSE(match(f("mrr", "GT", "10"), p));
  EXPECT_TRUE(match(f("mrr", "GTE", "9.5"), p));
  EXPECT_TRUE(match(f("mrr", "LTE", "9.5"), p));
  EXPECT_TRUE(match(f("email", "EQ", "ann@example.com"), p)) << "string EQ is case-insensitive";
  EXPECT_TRUE(match(f("email", "NEQ", "bob@example.com"), p));
  EXPECT_TRUE(match(f("lastmodifieddate", "GTE", "1704067200000"), p)) << "dates compare as epoch ms";
  EXPECT_FALSE(match(f("lastmodifieddate", "GT", "1704067200000"), p));
  EXPECT_TRUE(match(f("firstname", "NOT_HAS_PROPERTY", ""), p));
  EXPECT_FALSE(match(f("firstname", "HAS_PROPERTY", ""), p));
  EXPECT_FALSE(match(f("firstname", "EQ", ""), p));
}

TEST_F(SimSearch, BetweenInTokensAndGroups) {
  Props p{{"mrr", "15"}, {"firstname", "Mary Ann"}, {"email", "mary@x.org"}};
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"BETWEEN","value":"10","highValue":"20"}]}]})", p));
  EXPECT_FALSE(match(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"BETWEEN","value":"16","highValue":"20"}]}]})", p));
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"IN","values":["1","15"]}]}]})", p));
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"NOT_IN","values":["1","2"]}]}]})", p));
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"firstname","operator":"CONTAINS_TOKEN","value":"ann"}]}]})", p));
  EXPECT_FALSE(match(R"({"filterGroups":[{"filters":[{"propertyName":"firstname","operator":"CONTAINS_TOKEN","value":"an"}]}]})", p));
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"email","operator":"CONTAINS_TOKEN","value":"*@x.org"}]}]})", p));
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"firstname","operator":"NOT_CONTAINS_TOKEN","value":"bob"}]}]})", p));
  // groups are OR, filters inside a group are AND
  EXPECT_TRUE(match(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"EQ","value":"1"}]},{"filters":[{"propertyName":"mrr","operator":"EQ","value":"15"}]}]})", p));
  EXPECT_FALSE(match(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"EQ","value":"15"},{"propertyName":"mrr","operator":"EQ","value":"1"}]}]})", p));
}

TEST_F(SimSearch, CapsAreEnforcedLikeHubSpot) {
  auto expect_400 = [&](const std::string& json) {
    try {
      parse(json);
      ADD_FAILURE() << "accepted: " << json;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.http_status, 400);
      EXPECT_EQ(e.category, "VALIDATION_ERROR");
    }
  };
  expect_400(R"({"limit":201})");
  expect_400(R"({"after":"9900","limit":200})");
  expect_400(R"({"sorts":[{"propertyName":"mrr"},{"propertyName":"email"}]})");
  expect_400(R"({"filterGroups":[{"filters":[{"propertyName":"nope","operator":"EQ","value":"1"}]}]})");
  expect_400(R"({"filterGroups":[{"filters":[{"propertyName":"mrr","operator":"LIKE","value":"1"}]}]})");
  std::string f = R"({"propertyName":"mrr","operator":"EQ","value":"1"})";
  std::string seven = "[" + f;
  for (int i = 0; i < 6; ++i) seven += "," + f;
  seven += "]";
  expect_400(R"({"filterGroups":[{"filters":)" + seven + "}]}");
  std::string group = R"({"filters":[)" + f + "," + f + "," + f + "," + f + "]}";
  expect_400(R"({"filterGroups":[)" + group + "," + group + "," + group + "," + group + "," + group + "]}");  // 20 filters
  std::string six_groups = "[";
  for (int i = 0; i < 6; ++i) six_groups += (i ? "," : "") + std::string(R"({"filters":[)") + f + "]}";
  expect_400(R"({"filterGroups":)" + six_groups + "]}");
  expect_400(R"({"query":")" + std::string(3000, 'a') + R"("})");
  EXPECT_EQ(parse(R"({"after":"9800","limit":200})").after, 9800);
}

TEST_F(SimSearch, SortPutsMissingLastAndBreaksTiesById) {
  SearchQuery q = parse(R"({"sorts":[{"propertyName":"mrr","direction":"DESCENDING"}]})");
  Props a{{"mrr", "5"}}, b{{"mrr", "20"}}, none{};
  EXPECT_TRUE(search_less(q, type_, b, 2, a, 1));
  EXPECT_TRUE(search_less(q, type_, a, 1, none, 0));
  EXPECT_TRUE(search_less(q, type_, a, 1, a, 2));
}

TEST(SimRateLimiter, RollingTenSecondWindow) {
  RateLimiter l(100, 1000000, 5);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(l.check(1000 + i).allowed);
  auto refused = l.check(1200);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.policy, "TEN_SECONDLY_ROLLING");
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after_ms, 9800) << "the oldest request (t=1000) leaves at 11000";
  EXPECT_FALSE(l.check(10999).allowed) << "the first request is still inside the window";
  auto later = l.check(11000);
  EXPECT_TRUE(later.allowed) << "the first request left the rolling window";
}

TEST(SimRateLimiter, DailyAndSecondly) {
  RateLimiter l(1000, 3, 5);
  EXPECT_TRUE(l.check(0).allowed);
  EXPECT_TRUE(l.check(1).allowed);
  EXPECT_TRUE(l.check(2).allowed);
  auto d = l.check(3);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.policy, "DAILY");
  EXPECT_TRUE(l.check(86400000).allowed) << "a new UTC day";
  RateLimiter s(1000, 1000000, 5);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.check_search(100 + i).allowed);
  auto refused = s.check_search(500);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.policy, "SECONDLY");
  EXPECT_TRUE(s.check_search(1100).allowed);
}

}  // namespace
}  // namespace hubsync::sim
