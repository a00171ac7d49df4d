#include "connectors/hubspot/http_date.h"

#include <array>
#include <charconv>

namespace hubsync::hubspot {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<int> digits(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view t) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
  if (t.size() != 29 || t.substr(3, 2) != ", " || t[7] != ' ' || t[11] != ' ' || t[16] != ' ' || t[19] != ':' ||
      t[22] != ':' || t.substr(25) != " GMT")
    return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (t.substr(8, 3) == kMonths[i]) month = i + 1;
  const auto day = digits(t.substr(5, 2)), year = digits(t.substr(12, 4));
  const auto h = digits(t.substr(17, 2)), m = digits(t.substr(20, 2)), s = digits(t.substr(23, 2));
  if (!month || !day || !year || !h || !m || !s || *day < 1 || *day > 31 || *h > 23 || *m > 59 || *s > 60)
    return std::nullopt;
  const std::int64_t days = days_from_civil(*year, month, static_cast<unsigned>(*day));
  return ((days * 24 + *h) * 60 + *m) * 60'000 + std::int64_t{*s} * 1000;
}

}  // namespace hubsync::hubspot
