#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tests/hubspot-sim/model.h"

namespace hubsync::sim {

/// "2024-01-02T03:04:05.678Z" for epoch milliseconds.
std::string format_iso_ms(std::int64_t ms);
/// The same text in a buffer of its own: no allocation, for the writers
/// of JSON that format a few times per object.
struct IsoMs {
  char text[40];
  std::size_t size = 0;
  std::string_view view() const { return {text, size}; }
};
IsoMs iso_ms(std::int64_t ms);
/// "2024-01-02" for epoch milliseconds.
std::string format_date(std::int64_t ms);
/// Parses epoch-ms digits, "YYYY-MM-DD", or ISO-8601 date-time (Z or ±hh:mm).
std::optional<std::int64_t> parse_time_ms(const std::string& s);
/// Parses a decimal number as HubSpot accepts it ("17", "-1.5", "1e3").
std::optional<double> parse_number(const std::string& s);
bool is_valid_email(const std::string& s);
std::string to_lower(std::string s);

/// One property value problem, with HubSpot's error code (INVALID_EMAIL…).
struct ValueProblem {
  std::string code;
  std::string message;
};

/// Checks `value` against `def` and returns the value HubSpot would store
/// (emails lower-cased, datetimes as ISO, dates as YYYY-MM-DD, booleans
/// lower-cased). `""` always clears and is valid. Pure and thread-safe.
std::optional<ValueProblem> normalize_value(const PropertyDef& def, std::string& value);

/// Renders HubSpot's VALIDATION_ERROR for the given problems (each with the
/// property name): the message embeds the per-property JSON as HubSpot does.
struct NamedProblem {
  std::string property;
  ValueProblem problem;
};
ApiError validation_error(const std::vector<NamedProblem>& problems, std::int64_t portal_id);

}  // namespace hubsync::sim
