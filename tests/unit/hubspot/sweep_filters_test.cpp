// A mapping's HubSpot filter as the search request carries it: ISO dates
// become epoch ms only on date and datetime properties.
#include <gtest/gtest.h>

#include "connectors/hubspot/sweep_filters.h"

namespace hubsync::hubspot {
namespace {

using mapping::FilterOp;

mapping::HubspotFilter make(FilterOp op, std::string value, std::string high = "", std::vector<std::string> values = {}) {
  mapping::HubspotFilter f;
  f.property = "renewal";
  f.op = op;
  f.value = std::move(value);
  f.high_value = std::move(high);
  f.values = std::move(values);
  return f;
}

TEST(SweepFilters, IsoValuesAreRecognisedAndEpochMillisAreNot) {
  EXPECT_TRUE(has_iso_time_value(make(FilterOp::gte, "2024-05-01")));
  EXPECT_TRUE(has_iso_time_value(make(FilterOp::between, "1714521600000", "2024-05-02T00:00:00Z")));
  EXPECT_TRUE(has_iso_time_value(make(FilterOp::in, "", "", {"x", "2024-05-01"})));
  EXPECT_FALSE(has_iso_time_value(make(FilterOp::gte, "1714521600000")));
  EXPECT_FALSE(has_iso_time_value(make(FilterOp::eq, "customer")));
  EXPECT_FALSE(has_iso_time_value(make(FilterOp::has_property, "")));
  EXPECT_FALSE(has_iso_time_value(make(FilterOp::eq, "2024-5-1")));
}

TEST(SweepFilters, DateAndDatetimePropertiesGetEpochMillis) {
  auto f = to_search_filter(make(FilterOp::between, "2024-05-01", "2024-05-01T12:30:00.250+02:00"), true);
  EXPECT_EQ(f.property, "renewal");
  EXPECT_EQ(f.op, "BETWEEN");
  EXPECT_EQ(f.value, "1714521600000");
  EXPECT_EQ(f.high_value, "1714559400250");
  auto in = to_search_filter(make(FilterOp::not_in, "", "", {"2024-05-01", "1714608000000"}), true);
  EXPECT_EQ(in.op, "NOT_IN");
  EXPECT_EQ(in.values, (std::vector<std::string>{"1714521600000", "1714608000000"}));
  EXPECT_EQ(to_search_filter(make(FilterOp::eq, "2024-02-30"), true).value, "2024-02-30")
      << "no such day: left for HubSpot to refuse";
}

TEST(SweepFilters, OtherPropertiesKeepTheirValuesAsWritten) {
  auto f = to_search_filter(make(FilterOp::eq, "2024-05-01"), false);
  EXPECT_EQ(f.value, "2024-05-01");
  EXPECT_EQ(to_search_filter(make(FilterOp::has_property, ""), false).op, "HAS_PROPERTY");
}

}  // namespace
}  // namespace hubsync::hubspot
