#include "connectors/hubspot/http_date.h"

#include <gtest/gtest.h>

namespace hubsync::hubspot {
namespace {

TEST(HttpDate, AnImfFixdateReadsAsMillisecondsSinceTheEpoch) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), 1835481599000);
  EXPECT_EQ(parse_http_date("Mon, 07 Dec 2026 18:19:16 GMT"), 1796667556000);
}

TEST(HttpDate, AnythingElseIsNoDate) {
  for (const char* bad : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Xyz 1994 08:49:37 GMT",
                          "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
                          "Sun, 06 Nov 1994 08:4x:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT "})
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
}

}  // namespace
}  // namespace hubsync::hubspot
