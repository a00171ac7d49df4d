#include "engine/model/value.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <optional>

namespace hubsync::model {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::transient: return "transient";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::invalid_record: return "invalid_record";
    case ErrorKind::auth: return "auth";
    case ErrorKind::fatal: return "fatal";
  }
  return "unknown";
}

std::string describe(const Error& e) {
  if (e.http_status == 0) return e.message;
  std::string out = "HTTP " + std::to_string(e.http_status);
  if (!e.category.empty()) out += " " + e.category;
  if (!e.code.empty()) out += " (" + e.code + ")";
  return out;
}

const char* to_string(ValueType type) {
  switch (type) {
    case ValueType::null: return "null";
    case ValueType::text: return "text";
    case ValueType::integer: return "integer";
    case ValueType::decimal: return "decimal";
    case ValueType::boolean: return "boolean";
    case ValueType::date: return "date";
    case ValueType::datetime: return "datetime";
    case ValueType::list: return "list";
  }
  return "unknown";
}

namespace {

Error bad(std::string_view what, std::string_view input) {
  std::string shown(input.substr(0, 64));
  if (input.size() > 64) shown += "...";
  return make_error(ErrorKind::invalid_record,
                    std::string("not a valid ") + std::string(what) + ": '" + shown + "'");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Parses exactly n digits at s[pos], advancing pos.
bool take_digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

unsigned days_in_month(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool parse_ymd(std::string_view s, std::size_t& pos, int& y, unsigned& m, unsigned& d) {
  int yy, mm, dd;
  if (!take_digits(s, pos, 4, yy) || pos >= s.size() || s[pos++] != '-') return false;
  if (!take_digits(s, pos, 2, mm) || pos >= s.size() || s[pos++] != '-') return false;
  if (!take_digits(s, pos, 2, dd)) return false;
  if (mm < 1 || mm > 12 || dd < 1 || static_cast<unsigned>(dd) > days_in_month(yy, mm))
    return false;
  y = yy;
  m = static_cast<unsigned>(mm);
  d = static_cast<unsigned>(dd);
  return true;
}

constexpr std::int64_t kMsPerDay = 86'400'000;

}  // namespace

std::int32_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

void civil_from_days(std::int32_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int yy = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yy + (m <= 2);
}

std::string format_date(Date date) {
  int y;
  unsigned m, d;
  civil_from_days(date.days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string format_datetime(DateTime t) {
  std::int64_t days = t.ms / kMsPerDay;
  std::int64_t rem = t.ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --days;
  }
  int y;
  unsigned m, d;
  civil_from_days(static_cast<std::int32_t>(days), y, m, d);
  const auto h = rem / 3'600'000, mi = rem / 60'000 % 60, s = rem / 1000 % 60, ms = rem % 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", y, m, d,
                static_cast<long long>(h), static_cast<long long>(mi),
                static_cast<long long>(s), static_cast<long long>(ms));
  return buf;
}

std::string Value::canonical() const {
  switch (type()) {
    case ValueType::null: return {};
    case ValueType::text: return as_text();
    case ValueType::integer: return std::to_string(as_integer());
    case ValueType::decimal: return as_decimal().text;
    case ValueType::boolean: return as_boolean() ? "true" : "false";
    case ValueType::date: return format_date(as_date());
    case ValueType::datetime: return format_datetime(as_datetime());
    case ValueType::list: {
      std::string out;
      for (const auto& item : as_list()) {
        if (!out.empty()) out += ';';
        out += item;
      }
      return out;
    }
  }
  return {};
}

Result<std::int64_t> parse_integer(std::string_view s) {
  s = trim(s);
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty())
    return bad("integer", s);
  return v;
}

namespace {

// Scientific notation's exponent ("e-3" of "1.5e-3"), or nullopt when `s`
// has none; `valid` false when it has one that is not an integer of at most
// kMaxExponent (a float8 spans 1e-324 to 1e308).
constexpr int kMaxExponent = 400;
std::optional<int> split_exponent(std::string_view& s, bool& valid) {
  valid = true;
  const auto e = s.find_first_of("eE");
  if (e == std::string_view::npos) return std::nullopt;
  std::string_view text = s.substr(e + 1);
  s = s.substr(0, e);
  bool minus = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    minus = text.front() == '-';
    text.remove_prefix(1);
  }
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  valid = !text.empty() && ec == std::errc() && end == text.data() + text.size() && value <= kMaxExponent;
  return minus ? -value : value;
}

}  // namespace

Result<Decimal> parse_decimal(std::string_view s) {
  s = trim(s);
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body.front() == '-' || body.front() == '+')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  bool exponent_ok = true;
  const auto exponent = split_exponent(body, exponent_ok);
  if (!exponent_ok) return bad("decimal", s);
  auto dot = body.find('.');
  std::string_view int_part = body.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? "" : body.substr(dot + 1);
  if ((int_part.empty() && frac_part.empty()) || (!int_part.empty() && !all_digits(int_part)) ||
      (!frac_part.empty() && !all_digits(frac_part)) ||
      (dot != std::string_view::npos && int_part.empty() && frac_part.empty()))
    return bad("decimal", s);
  std::string shifted_int, shifted_frac;  // 1.5e-3: the digits with the point moved
  if (exponent) {
    const std::string digits = std::string(int_part) + std::string(frac_part);
    const long point = static_cast<long>(int_part.size()) + *exponent;
    if (point <= 0) {
      shifted_frac = std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= static_cast<long>(digits.size())) {
      shifted_int = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
    } else {
      shifted_int = digits.substr(0, static_cast<std::size_t>(point));
      shifted_frac = digits.substr(static_cast<std::size_t>(point));
    }
    int_part = shifted_int;
    frac_part = shifted_frac;
  }
  while (int_part.size() > 1 && int_part.front() == '0') int_part.remove_prefix(1);
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.remove_suffix(1);
  std::string out(int_part.empty() ? "0" : std::string(int_part));
  if (!frac_part.empty()) {
    out += '.';
    out += frac_part;
  }
  if (negative && out != "0") out.insert(out.begin(), '-');
  return Decimal{out};
}

Result<bool> parse_boolean(std::string_view s) {
  s = trim(s);
  std::string lower;
  for (char c : s) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "true" || lower == "t" || lower == "yes" || lower == "y" || lower == "1" ||
      lower == "on")
    return true;
  if (lower == "false" || lower == "f" || lower == "no" || lower == "n" || lower == "0" ||
      lower == "off")
    return false;
  return bad("boolean", s);
}

Result<Date> parse_date(std::string_view s) {
  s = trim(s);
  if (all_digits(s) && s.size() >= 9) {
    auto ms = parse_integer(s);
    if (!ms) return bad("date", s);
    if (*ms % kMsPerDay != 0) return bad("date (epoch ms not at UTC midnight)", s);
    return Date{static_cast<std::int32_t>(*ms / kMsPerDay)};
  }
  std::size_t pos = 0;
  int y;
  unsigned m, d;
  if (!parse_ymd(s, pos, y, m, d)) return bad("date", s);
  // HubSpot sometimes sends a date as midnight UTC datetime.
  if (pos != s.size()) {
    auto rest = s.substr(pos);
    if (rest != "T00:00:00Z" && rest != "T00:00:00.000Z") return bad("date", s);
  }
  return Date{days_from_civil(y, m, d)};
}

Result<DateTime> parse_datetime(std::string_view s) {
  s = trim(s);
  if (all_digits(s) || (s.size() > 1 && s.front() == '-' && all_digits(s.substr(1)))) {
    auto ms = parse_integer(s);
    if (!ms) return bad("datetime", s);
    return DateTime{*ms};
  }
  std::size_t pos = 0;
  int y;
  unsigned mo, d;
  if (!parse_ymd(s, pos, y, mo, d)) return bad("datetime", s);
  std::int64_t ms_of_day = 0;
  std::int64_t offset_ms = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad("datetime", s);
    ++pos;
    int h, mi, sec = 0;
    if (!take_digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' ||
        !take_digits(s, pos, 2, mi))
      return bad("datetime", s);
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!take_digits(s, pos, 2, sec)) return bad("datetime", s);
    }
    int frac_ms = 0;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      std::size_t n = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        // Keep milliseconds; finer digits are truncated (HubSpot stores ms).
        if (n < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
        ++n;
        ++pos;
      }
      if (n == 0) return bad("datetime", s);
      for (std::size_t i = n; i < 3; ++i) frac_ms *= 10;
    }
    if (h > 23 || mi > 59 || sec > 60) return bad("datetime", s);
    ms_of_day = ((h * 60LL + mi) * 60 + sec) * 1000 + frac_ms;
    if (pos < s.size()) {
      char z = s[pos];
      if (z == 'Z' || z == 'z') {
        ++pos;
      } else if (z == '+' || z == '-') {
        ++pos;
        int oh, om = 0;
        if (!take_digits(s, pos, 2, oh)) return bad("datetime", s);
        if (pos < s.size() && s[pos] == ':') ++pos;
        if (pos < s.size() && !take_digits(s, pos, 2, om)) return bad("datetime", s);
        if (oh > 23 || om > 59) return bad("datetime", s);
        offset_ms = (oh * 60LL + om) * 60'000 * (z == '-' ? -1 : 1);
      }
    }
    if (pos != s.size()) return bad("datetime", s);
  }
  return DateTime{days_from_civil(y, mo, d) * kMsPerDay + ms_of_day - offset_ms};
}

namespace {

// The length of the whitespace `s` starts with (or, `from_end`, ends with).
std::size_t outer_space(std::string_view s, bool from_end) {
  static constexpr std::string_view kWide[] = {
      "\u00A0", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008",
      "\u2009", "\u200A", "\u200B", "\u200C", "\u200D", "\u202F", "\u205F", "\u3000", "\uFEFF"};
  if (s.empty()) return 0;
  if (std::isspace(static_cast<unsigned char>(from_end ? s.back() : s.front()))) return 1;
  for (auto w : kWide)
    if (from_end ? s.ends_with(w) : s.starts_with(w)) return w.size();
  return 0;
}

}  // namespace

std::string_view trim_space(std::string_view s) {
  while (auto n = outer_space(s, false)) s.remove_prefix(n);
  while (auto n = outer_space(s, true)) s.remove_suffix(n);
  return s;
}

std::vector<std::string> split_list(std::string_view s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  while (true) {
    auto at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

}  // namespace hubsync::model
