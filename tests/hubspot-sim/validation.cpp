#include "tests/hubspot-sim/validation.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

#include "tests/hubspot-sim/json.h"

namespace hubsync::sim {

using namespace std::string_view_literals;  // name == "x"sv compares sizes first

ApiError make_api_error(int status, std::string category, std::string message) {
  ApiError e;
  e.http_status = status;
  e.category = std::move(category);
  e.message = std::move(message);
  return e;
}

std::string to_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

namespace {

// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

bool read_int(const std::string& s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

IsoMs iso_ms(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  std::int64_t rem = ms - days * 86400000;
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  IsoMs out;
  if (y < 0 || y > 9999) {
    int n = std::snprintf(out.text, sizeof out.text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d,
                          static_cast<int>(rem / 3600000), static_cast<int>(rem / 60000 % 60),
                          static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
    out.size = static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof out.text) - 1));
    return out;
  }
  // Hand-rolled: this runs three times per object in every response.
  static constexpr char kForm[] = "0000-00-00T00:00:00.000Z";
  std::copy(kForm, kForm + sizeof kForm, out.text);
  out.size = sizeof kForm - 1;
  auto put = [&](size_t pos, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out.text[pos + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<unsigned>(y), 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, static_cast<unsigned>(rem / 3600000), 2);
  put(14, static_cast<unsigned>(rem / 60000 % 60), 2);
  put(17, static_cast<unsigned>(rem / 1000 % 60), 2);
  put(20, static_cast<unsigned>(rem % 1000), 3);
  return out;
}

std::string format_iso_ms(std::int64_t ms) { return std::string(iso_ms(ms).view()); }

std::string format_date(std::int64_t ms) { return format_iso_ms(ms).substr(0, 10); }

std::optional<std::int64_t> parse_time_ms(const std::string& s) {
  if (s.empty()) return std::nullopt;
  bool all_digits = std::all_of(s.begin() + (s[0] == '-' ? 1 : 0), s.end(),
                                [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (all_digits && s.size() > (s[0] == '-' ? 1u : 0u) && s.size() != 10) {
    std::int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc()) return std::nullopt;
    return v;
  }
  int y, mo, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !read_int(s, 0, 4, y) ||
      !read_int(s, 5, 2, mo) || !read_int(s, 8, 2, d) || mo < 1 || mo > 12 || d < 1 || d > 31)
    return std::nullopt;
  std::int64_t ms = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400000;
  if (s.size() == 10) return ms;
  if (s[10] != 'T' && s[10] != ' ') return std::nullopt;
  int hh, mi, ss = 0;
  if (!read_int(s, 11, 2, hh) || s.size() < 16 || s[13] != ':' || !read_int(s, 14, 2, mi))
    return std::nullopt;
  size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!read_int(s, pos + 1, 2, ss)) return std::nullopt;
    pos += 3;
  }
  if (hh > 23 || mi > 59 || ss > 60) return std::nullopt;
  ms += (hh * 3600 + mi * 60 + ss) * 1000LL;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int frac_ms = 0, digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) frac_ms *= 10;
    ms += frac_ms;
  }
  if (pos == s.size()) return ms;  // no zone: UTC
  if (s[pos] == 'Z' && pos + 1 == s.size()) return ms;
  if ((s[pos] == '+' || s[pos] == '-') && s.size() >= pos + 6) {
    int oh, om;
    if (!read_int(s, pos + 1, 2, oh) || !read_int(s, pos + 4, 2, om) || s[pos + 3] != ':')
      return std::nullopt;
    std::int64_t off = (oh * 60 + om) * 60000LL;
    return s[pos] == '+' ? ms - off : ms + off;
  }
  return std::nullopt;
}

std::optional<double> parse_number(const std::string& s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.' ||
          c == 'e' || c == 'E'))
      return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool is_valid_email(const std::string& s) {
  auto at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  std::string domain = s.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 2 > domain.size()) return false;
  if (domain.find("..") != std::string::npos || s.find("..") != std::string::npos) return false;
  for (char c : s)
    if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == '<' || c == '>' ||
        c == '(' || c == ')' || c == '[' || c == ']' || c == ';' || c == ':' || c == '"')
      return false;
  return true;
}

namespace {

// The length of the whitespace `s` starts (or, with `from_end`, ends) with:
// ASCII spaces and controls, and the invisible Unicode HubSpot counts too
// (no-break and typographic spaces, zero-width characters, the BOM).
std::size_t outer_space(std::string_view s, bool from_end) {
  static constexpr std::string_view kWide[] = {
      "\xC2\xA0",                                                   // U+00A0
      "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83",  // U+2000..
      "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87",
      "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\x8B",  // ..U+200B
      "\xE2\x80\x8C", "\xE2\x80\x8D", "\xE2\x80\xAF", "\xE2\x81\x9F",  // ZWNJ ZWJ NNBSP MMSP
      "\xE3\x80\x80", "\xEF\xBB\xBF"};                                // U+3000, BOM
  const char c = from_end ? s.back() : s.front();
  if (std::isspace(static_cast<unsigned char>(c))) return 1;
  for (auto w : kWide)
    if (from_end ? s.ends_with(w) : s.starts_with(w)) return w.size();
  return 0;
}

// Since 2025 HubSpot refuses a value of a property other than a string
// with whitespace around it (or around an item of a multi-select).
std::optional<ValueProblem> whitespace_problem(const PropertyDef& def, const std::string& value) {
  if (def.type == "string"sv || def.type == "phone_number"sv) return std::nullopt;
  auto bad = [](std::string_view item) {
    return !item.empty() && (outer_space(item, false) > 0 || outer_space(item, true) > 0);
  };
  bool found = bad(value);
  if (!found && def.field_type == "checkbox"sv)
    for (std::size_t start = 0; start <= value.size() && !found;) {
      std::size_t semi = std::min(value.find(';', start), value.size());
      found = bad(std::string_view(value).substr(start, semi - start));
      start = semi + 1;
    }
  if (!found) return std::nullopt;
  return ValueProblem{"LEADING_TRAILING_WHITESPACE", "\"" + value + "\" includes leading or trailing whitespace."};
}

}  // namespace

std::optional<ValueProblem> normalize_value(const PropertyDef& def, std::string& value) {
  if (value.empty()) return std::nullopt;
  if (auto problem = whitespace_problem(def, value)) return problem;
  if (def.name == "email"sv) {
    std::string lowered = to_lower(value);
    if (!is_valid_email(lowered))
      return ValueProblem{"INVALID_EMAIL", "Email address " + value + " is invalid"};
    value = lowered;
    return std::nullopt;
  }
  if (def.type == "number"sv) {
    if (!parse_number(value))
      return ValueProblem{"INVALID_INTEGER", value + " was not a valid number."};
    return std::nullopt;
  }
  if (def.type == "bool"sv) {
    std::string l = to_lower(value);
    if (l != "true" && l != "false")
      return ValueProblem{"INVALID_BOOLEAN", value + " was not a valid boolean value."};
    value = l;
    return std::nullopt;
  }
  if (def.type == "date"sv) {
    auto ms = parse_time_ms(value);
    if (!ms) return ValueProblem{"INVALID_DATE", value + " was not a valid date."};
    if (*ms % 86400000 != 0)
      return ValueProblem{"INVALID_DATE", value + " is at " + format_iso_ms(*ms).substr(11, 12) +
                                              " UTC, not midnight!"};
    value = format_date(*ms);
    return std::nullopt;
  }
  if (def.type == "datetime"sv) {
    auto ms = parse_time_ms(value);
    if (!ms) return ValueProblem{"INVALID_DATETIME", value + " was not a valid datetime."};
    value = format_iso_ms(*ms);
    return std::nullopt;
  }
  if (def.type == "enumeration"sv) {
    std::vector<std::string> parts;
    if (def.field_type == "checkbox"sv) {
      size_t start = 0;
      while (start <= value.size()) {
        auto semi = value.find(';', start);
        if (semi == std::string::npos) semi = value.size();
        if (semi > start) parts.push_back(value.substr(start, semi - start));
        start = semi + 1;
      }
    } else {
      parts.push_back(value);
    }
    for (const auto& p : parts) {
      bool found = std::any_of(def.options.begin(), def.options.end(),
                               [&](const PropertyOption& o) { return o.value == p && !o.hidden; });
      if (!found) {
        std::string allowed;
        for (const auto& o : def.options) allowed += (allowed.empty() ? "" : ", ") + o.value;
        return ValueProblem{"INVALID_OPTION",
                            p + " was not one of the allowed options: [" + allowed + "]"};
      }
    }
    return std::nullopt;
  }
  if (value.size() > 65536)
    return ValueProblem{"INVALID_STRING", "value is longer than 65536 characters"};
  return std::nullopt;
}

ApiError validation_error(const std::vector<NamedProblem>& problems, std::int64_t portal_id) {
  rapidjson::Document arr(rapidjson::kArrayType);
  auto& a = arr.GetAllocator();
  ApiError e;
  e.http_status = 400;
  e.category = "VALIDATION_ERROR";
  for (const auto& p : problems) {
    rapidjson::Value o(rapidjson::kObjectType);
    o.AddMember("isValid", false, a);
    o.AddMember("message", rapidjson::Value(p.problem.message, a), a);
    o.AddMember("error", rapidjson::Value(p.problem.code, a), a);
    o.AddMember("name", rapidjson::Value(p.property, a), a);
    o.AddMember("localizedErrorMessage", rapidjson::Value(p.problem.message, a), a);
    o.AddMember("portalId", portal_id, a);
    arr.PushBack(o, a);
    ErrorDetail d;
    d.message = p.problem.message;
    d.code = p.problem.code;
    d.context["propertyName"] = {p.property};
    e.errors.push_back(std::move(d));
  }
  e.message = "Property values were not valid: " + to_json(arr);
  return e;
}

}  // namespace hubsync::sim
