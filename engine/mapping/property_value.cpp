#include "engine/mapping/property_value.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/model/suggest.h"
#include "engine/model/value.h"

namespace hubsync::mapping {

namespace {

constexpr std::size_t kMaxLength = 65'536;
constexpr std::size_t kOptionsShown = 10;

std::string value_shown(const std::string& s) {
  return "'" + s.substr(0, 64) + (s.size() > 64 ? "...'" : "'");
}

bool is_number(const std::string& s) {
  if (model::parse_decimal(s)) return true;
  // Scientific notation ("1.5e3"), which HubSpot also reads as a number.
  if (s.empty() || s.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}

bool has_outer_space(std::string_view s) { return model::trim_space(s).size() != s.size(); }

// Since 2025 HubSpot refuses (LEADING_TRAILING_WHITESPACE) whitespace around
// the value of any property but a string, and around a multi-select's item.
bool spaced(std::string_view type, std::string_view field_type, const std::string& value) {
  if (type == "string" || type == "phone_number") return false;
  if (field_type != "checkbox") return has_outer_space(value);
  const auto items = model::split_list(value);
  return std::any_of(items.begin(), items.end(), [](const std::string& i) { return has_outer_space(i); });
}

bool is_bool(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s == "true" || s == "false";
}

// The first item of `value` that is no option's value, and why.
std::string option_problem(std::string_view field_type, const std::vector<PropertyOption>& options,
                           const std::string& value) {
  std::vector<std::string> items = field_type == "checkbox" ? model::split_list(value) : std::vector{value};
  std::vector<std::string> values;
  for (const auto& o : options) values.push_back(o.value);
  for (const auto& item : items) {
    if (item.empty() && field_type == "checkbox") continue;  // "a;;b": HubSpot drops the empty item
    if (std::find(values.begin(), values.end(), item) != values.end()) continue;
    std::string listed;
    for (std::size_t i = 0; i < values.size() && i < kOptionsShown; ++i) listed += (i ? ", " : "") + values[i];
    if (values.size() > kOptionsShown) listed += ", and " + std::to_string(values.size() - kOptionsShown) + " more";
    const std::string close = model::closest_match(item, values);
    return value_shown(item) + " is not one of its options (" + listed + ")" +
           (close.empty() ? "" : "; did you mean '" + close + "'?");
  }
  return {};
}

}  // namespace

std::string property_value_problem(std::string_view type, std::string_view field_type,
                                   const std::vector<PropertyOption>& options, const std::string& value) {
  if (value.empty()) return {};
  if (value.size() > kMaxLength) return "the value is longer than HubSpot's 65,536 characters";
  if (spaced(type, field_type, value))
    return value_shown(value) + " has whitespace around it, which HubSpot refuses in a " + std::string(type) +
           " property";
  if (type == "number" && !is_number(value)) return value_shown(value) + " is not a number";
  if (type == "bool" && !is_bool(value)) return value_shown(value) + " is not true or false";
  if (type == "date" && !model::parse_date(value))
    return value_shown(value) + " is not a date (YYYY-MM-DD, or epoch milliseconds at midnight UTC)";
  if (type == "datetime" && !model::parse_datetime(value))
    return value_shown(value) + " is not a date and time (ISO 8601, or epoch milliseconds)";
  if (type == "enumeration" && !options.empty()) return option_problem(field_type, options, value);
  return {};
}

}  // namespace hubsync::mapping
