#include "engine/mapping/transform.h"

#include <algorithm>
#include <cstdio>

namespace hubsync::mapping {

using model::ErrorKind;
using model::make_error;
using model::Result;
using model::Value;

namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

model::Error bad(const std::string& message) {
  return make_error(ErrorKind::invalid_record, message);
}

std::string shown(const std::string& s) {
  std::string out = s.substr(0, 64);
  if (s.size() > 64) out += "...";
  return "'" + out + "'";
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

std::string trim_ws(const std::string& s) { return std::string(model::trim_space(s)); }

// Applies a text function to a text value, or to each item of a list.
template <class F>
Result<Value> per_item(const Value& v, F f) {
  if (v.type() == ValueType::list) {
    std::vector<std::string> items;
    for (const auto& item : v.as_list()) {
      auto r = f(item);
      if (!r) return std::move(r).error();
      items.push_back(std::move(*r));
    }
    return Value::list(std::move(items));
  }
  auto r = f(v.canonical());
  if (!r) return std::move(r).error();
  return Value::text(std::move(*r));
}

// Decimal units -> integer cents, exactly; more than two fractional digits is an error.
Result<Value> units_to_cents(const model::Decimal& d) {
  std::string t = d.text;
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t.erase(0, 1);
  auto dot = t.find('.');
  std::string ip = t.substr(0, dot);
  std::string fp = dot == std::string::npos ? "" : t.substr(dot + 1);
  if (fp.size() > 2) return bad("amount " + shown(d.text) + " has more than 2 decimals (cents)");
  while (fp.size() < 2) fp += '0';
  auto i = model::parse_integer((neg ? "-" : "") + ip + fp);
  if (!i) return bad("amount " + shown(d.text) + " is out of range for integer cents");
  return Value::integer(*i);
}

Value cents_to_units(std::int64_t cents) {
  bool neg = cents < 0;
  // Work on the decimal digits so INT64_MIN needs no negation.
  std::string digits = std::to_string(cents);
  if (neg) digits.erase(0, 1);
  while (digits.size() < 3) digits.insert(digits.begin(), '0');
  std::string text = digits.substr(0, digits.size() - 2) + "." + digits.substr(digits.size() - 2);
  auto d = model::parse_decimal((neg ? "-" : "") + text);
  return Value::decimal(*d);
}

}  // namespace

const std::vector<std::string>& transform_names() {
  static const std::vector<std::string> names = {"trim",      "lowercase", "uppercase",
                                                 "value_map", "cents",     "date_format",
                                                 "split_name", "split",    "join_name", "join"};
  return names;
}

bool pattern_has_time(const std::string& pattern) {
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i)
    if (pattern[i] == '%') {
      char c = pattern[i + 1];
      if (c == 'H' || c == 'M' || c == 'S') return true;
      ++i;
    }
  return false;
}

std::string format_pattern(const std::string& pattern, std::int64_t ms) {
  std::int64_t days = ms / kMsPerDay, rem = ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    --days;
  }
  int y;
  unsigned m, d;
  model::civil_from_days(static_cast<std::int32_t>(days), y, m, d);
  std::string out;
  char buf[16];
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    char c = pattern[++i];
    switch (c) {
      case 'Y': std::snprintf(buf, sizeof buf, "%04d", y); break;
      case 'm': std::snprintf(buf, sizeof buf, "%02u", m); break;
      case 'd': std::snprintf(buf, sizeof buf, "%02u", d); break;
      case 'H': std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(rem / 3'600'000)); break;
      case 'M': std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(rem / 60'000 % 60)); break;
      case 'S': std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(rem / 1000 % 60)); break;
      default: std::snprintf(buf, sizeof buf, "%c", c); break;
    }
    out += buf;
  }
  return out;
}

Result<std::int64_t> parse_pattern(const std::string& pattern, const std::string& text) {
  int y = 1970, m = 1, d = 1, h = 0, mi = 0, s = 0;
  std::size_t pos = 0;
  auto fail = [&]() { return bad(shown(text) + " does not match date_format '" + pattern + "'"); };
  auto digits = [&](std::size_t n, int& out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      char c = text[pos + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += n;
    out = v;
    return true;
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      char c = pattern[++i];
      bool ok = true;
      switch (c) {
        case 'Y': ok = digits(4, y); break;
        case 'm': ok = digits(2, m); break;
        case 'd': ok = digits(2, d); break;
        case 'H': ok = digits(2, h); break;
        case 'M': ok = digits(2, mi); break;
        case 'S': ok = digits(2, s); break;
        default: ok = pos < text.size() && text[pos++] == c; break;
      }
      if (!ok) return fail();
    } else if (pos >= text.size() || text[pos++] != pattern[i]) {
      return fail();
    }
  }
  if (pos != text.size()) return fail();
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] || h > 23 || mi > 59 || s > 59) return fail();
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return fail();
  std::int64_t days = model::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return days * kMsPerDay + ((h * 60LL + mi) * 60 + s) * 1000;
}

std::string type_transform(Transform& t, ValueType in) {
  t.in = in;
  bool textual = in == ValueType::text || in == ValueType::list;
  switch (t.kind) {
    case TransformKind::trim:
    case TransformKind::lowercase:
    case TransformKind::uppercase:
      if (!textual)
        return std::string(transform_names()[static_cast<int>(t.kind)]) +
               " applies to text or multi_select values, not " + model::to_string(in);
      t.out = in;
      return {};
    case TransformKind::value_map: {
      if (in == ValueType::date || in == ValueType::datetime)
        return std::string("value_map does not apply to ") + model::to_string(in) + " values";
      if (t.map.empty()) return "value_map needs at least one `postgres value: hubspot value` entry";
      for (auto& [pg, hs] : t.map) {
        if (in == ValueType::list || in == ValueType::text) continue;
        auto v = coerce(Value::text(pg), in);
        if (!v) return "value_map key '" + pg + "' is not a " + model::to_string(in) + " value";
        pg = v->canonical();
      }
      t.out = in == ValueType::list ? ValueType::list : ValueType::text;
      return {};
    }
    case TransformKind::cents:
      if (in != ValueType::integer)
        return std::string("cents turns integer cents into a decimal amount; the value here is ") +
               model::to_string(in) + " (declare `type: integer`)";
      t.out = ValueType::decimal;
      return {};
    case TransformKind::date_format: {
      if (t.pattern.empty()) return "date_format needs a pattern, e.g. date_format: \"%d/%m/%Y\"";
      bool has_y = t.pattern.find("%Y") != std::string::npos;
      bool has_m = t.pattern.find("%m") != std::string::npos;
      bool has_d = t.pattern.find("%d") != std::string::npos;
      if (!has_y || !has_m || !has_d) return "date_format pattern needs %Y, %m and %d";
      bool with_time = pattern_has_time(t.pattern);
      if (in == ValueType::text) {
        t.out = with_time ? ValueType::datetime : ValueType::date;
      } else if (in == ValueType::date || in == ValueType::datetime) {
        if (in == ValueType::datetime && !with_time)
          return "date_format on a datetime needs a time part (%H:%M:%S) to be exact";
        t.out = ValueType::text;
      } else {
        return std::string("date_format applies to text, date or datetime values, not ") +
               model::to_string(in);
      }
      return {};
    }
  }
  return "unknown transform";
}

std::string Transform::describe() const {
  if (kind == TransformKind::date_format) return "date_format('" + pattern + "')";
  if (kind == TransformKind::value_map) {
    std::string text = "value_map(";
    for (std::size_t i = 0; i < map.size(); ++i)
      text += (i ? "," : "") + map[i].first + "=" + map[i].second;
    return text + ")";
  }
  return transform_names()[static_cast<int>(kind)];
}

Result<Value> Transform::forward(const Value& v) const {
  switch (kind) {
    case TransformKind::trim:
      return per_item(v, [](const std::string& s) -> Result<std::string> { return trim_ws(s); });
    case TransformKind::lowercase:
      return per_item(v, [](const std::string& s) -> Result<std::string> { return ascii_lower(s); });
    case TransformKind::uppercase:
      return per_item(v, [](const std::string& s) -> Result<std::string> { return ascii_upper(s); });
    case TransformKind::value_map:
      return per_item(v, [this](const std::string& s) -> Result<std::string> {
        for (const auto& [pg, hs] : map)
          if (pg == s) return hs;
        return bad("value " + shown(s) + " has no entry in value_map");
      });
    case TransformKind::cents:
      if (v.type() != ValueType::integer) return bad("cents expects an integer");
      return cents_to_units(v.as_integer());
    case TransformKind::date_format:
      if (in == ValueType::text) {
        auto ms = parse_pattern(pattern, v.canonical());
        if (!ms) return std::move(ms).error();
        if (out == ValueType::date) return Value::date(model::Date{static_cast<std::int32_t>(*ms / kMsPerDay)});
        return Value::datetime(model::DateTime{*ms});
      }
      if (v.type() == ValueType::date)
        return Value::text(format_pattern(pattern, std::int64_t{v.as_date().days} * kMsPerDay));
      if (v.type() == ValueType::datetime)
        return Value::text(format_pattern(pattern, v.as_datetime().ms));
      return bad("date_format expects a date");
  }
  return bad("unknown transform");
}

Result<Value> Transform::backward(const Value& v) const {
  switch (kind) {
    case TransformKind::trim:
    case TransformKind::lowercase:
    case TransformKind::uppercase:
      return v;
    case TransformKind::value_map: {
      auto r = per_item(v, [this](const std::string& s) -> Result<std::string> {
        for (const auto& [pg, hs] : map)
          if (hs == s) return pg;
        return bad("HubSpot value " + shown(s) + " has no entry in value_map");
      });
      if (!r || in == ValueType::list || in == ValueType::text) return r;
      return coerce(*r, in);
    }
    case TransformKind::cents:
      if (v.type() == ValueType::integer) return v;
      if (v.type() != ValueType::decimal) return bad("cents expects a decimal amount");
      return units_to_cents(v.as_decimal());
    case TransformKind::date_format:
      if (in == ValueType::text) {
        if (v.type() == ValueType::date)
          return Value::text(format_pattern(pattern, std::int64_t{v.as_date().days} * kMsPerDay));
        if (v.type() == ValueType::datetime)
          return Value::text(format_pattern(pattern, v.as_datetime().ms));
        return bad("date_format expects a date");
      } else {
        auto ms = parse_pattern(pattern, v.canonical());
        if (!ms) return std::move(ms).error();
        if (in == ValueType::date) {
          if (*ms % kMsPerDay != 0) return bad(shown(v.canonical()) + " is not a whole day");
          return Value::date(model::Date{static_cast<std::int32_t>(*ms / kMsPerDay)});
        }
        return Value::datetime(model::DateTime{*ms});
      }
  }
  return bad("unknown transform");
}

namespace {

// Parses a Postgres array literal of text ({a,"b c",NULL}) into items.
Result<Value> parse_pg_array(const std::string& s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}')
    return bad("not a list (Postgres array) value: " + shown(s));
  std::vector<std::string> items;
  std::size_t i = 1, end = s.size() - 1;
  if (i == end) return Value::list({});
  while (i <= end) {
    std::string item;
    bool quoted = false;
    if (i < end && s[i] == '"') {
      quoted = true;
      ++i;
      while (i < end && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < end) ++i;
        item += s[i++];
      }
      if (i >= end) return bad("unterminated quote in array " + shown(s));
      ++i;
    } else {
      while (i < end && s[i] != ',') item += s[i++];
    }
    if (!quoted && item == "NULL") return bad("NULL item in array " + shown(s));
    items.push_back(item);
    if (i < end && s[i] != ',') return bad("malformed array " + shown(s));
    ++i;
  }
  return Value::list(std::move(items));
}

}  // namespace

// Years 0001-9999: what Postgres and ISO-8601 text both represent; outside
// it the day arithmetic would wrap around.
constexpr std::int64_t kMinMs = -62'135'596'800'000, kMaxMs = 253'402'300'799'999;

static Result<Value> checked_range(Value v) {
  if (v.type() == ValueType::datetime && (v.as_datetime().ms < kMinMs || v.as_datetime().ms > kMaxMs))
    return bad("datetime out of range (years 0001-9999): " + std::to_string(v.as_datetime().ms) + " ms");
  if (v.type() == ValueType::date &&
      (v.as_date().days < kMinMs / kMsPerDay || v.as_date().days > kMaxMs / kMsPerDay))
    return bad("date out of range (years 0001-9999)");
  return v;
}

static Result<Value> coerce_unchecked(const Value& v, ValueType kind);

Result<Value> coerce(const Value& v, ValueType kind) {
  auto r = coerce_unchecked(v, kind);
  if (!r) return r;
  return checked_range(std::move(*r));
}

static Result<Value> coerce_unchecked(const Value& v, ValueType kind) {
  if (v.is_null() || v.type() == kind) return v;
  const std::string text = v.canonical();
  switch (kind) {
    case ValueType::null: return Value::null();
    case ValueType::text:
      if (v.type() == ValueType::list) return bad("a list cannot be used as text");
      return Value::text(text);
    case ValueType::integer: {
      if (v.type() == ValueType::decimal || v.type() == ValueType::text) {
        auto d = model::parse_decimal(text);
        if (!d || d->text.find('.') != std::string::npos) return bad("not an integer: " + shown(text));
        auto i = model::parse_integer(d->text);
        if (!i) return bad("integer out of range: " + shown(text));
        return Value::integer(*i);
      }
      break;
    }
    case ValueType::decimal:
      if (v.type() == ValueType::integer || v.type() == ValueType::text) {
        auto d = model::parse_decimal(text);
        if (!d) return bad("not a decimal: " + shown(text));
        return Value::decimal(*d);
      }
      break;
    case ValueType::boolean:
      if (v.type() == ValueType::text || v.type() == ValueType::integer) {
        auto b = model::parse_boolean(text);
        if (!b) return bad("not a boolean: " + shown(text));
        return Value::boolean(*b);
      }
      break;
    case ValueType::date:
      if (v.type() == ValueType::text) {
        auto ms = model::parse_integer(text);
        if (ms && (*ms < kMinMs || *ms > kMaxMs)) return bad("date out of range (years 0001-9999): " + shown(text));
        auto d = model::parse_date(text);
        if (!d) return bad("not a date: " + shown(text));
        return Value::date(*d);
      }
      if (v.type() == ValueType::datetime && v.as_datetime().ms % kMsPerDay == 0)
        return Value::date(model::Date{static_cast<std::int32_t>(v.as_datetime().ms / kMsPerDay)});
      break;
    case ValueType::datetime:
      if (v.type() == ValueType::text) {
        auto d = model::parse_datetime(text);
        if (!d) return bad("not a datetime: " + shown(text));
        return Value::datetime(*d);
      }
      if (v.type() == ValueType::date)
        return Value::datetime(model::DateTime{std::int64_t{v.as_date().days} * kMsPerDay});
      break;
    case ValueType::list:
      if (v.type() == ValueType::text) return parse_pg_array(text);
      break;
  }
  return bad(std::string("a ") + model::to_string(v.type()) + " value cannot be used as " +
             model::to_string(kind) + ": " + shown(text));
}

Result<Value> parse_hubspot(const std::string& raw, ValueType kind) {
  if (raw.empty()) return Value::null();
  switch (kind) {
    case ValueType::null: return Value::null();
    case ValueType::text: return Value::text(raw);
    case ValueType::list: {
      // "a;;b" has no empty option: empty items are dropped.
      std::vector<std::string> items;
      for (auto& item : model::split_list(raw))
        if (!item.empty()) items.push_back(std::move(item));
      return items.empty() ? Value::null() : Value::list(std::move(items));
    }
    default: return coerce(Value::text(raw), kind);
  }
}

std::string format_hubspot(const Value& v) { return v.canonical(); }

std::string normalise_hubspot(const Value& v) {
  if (v.type() != ValueType::list) return v.canonical();
  auto items = v.as_list();
  std::sort(items.begin(), items.end());
  return Value::list(std::move(items)).canonical();
}

Result<std::string> normalise_json(const std::string& text) {
  std::string out;
  std::vector<char> stack;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case ' ': case '\t': case '\n': case '\r': continue;
      case '"': in_string = true; break;
      case '{': case '[': stack.push_back(c); break;
      case '}': case ']':
        if (stack.empty() || (stack.back() == '{') != (c == '}'))
          return bad("not valid JSON (unbalanced brackets): " + shown(text));
        stack.pop_back();
        break;
      default: break;
    }
    out += c;
  }
  if (in_string || !stack.empty() || out.empty())
    return bad("not valid JSON: " + shown(text));
  // Outside strings only numbers, punctuation and true/false/null may appear.
  std::string word;
  bool quoted = false;
  for (std::size_t i = 0; i <= out.size(); ++i) {
    char c = i < out.size() ? out[i] : ' ';
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') quoted = false;
      continue;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      word += c;
      continue;
    }
    if (!word.empty() && word != "true" && word != "false" && word != "null" && word != "e" && word != "E")
      return bad("not valid JSON: " + shown(text));
    word.clear();
    if (c == '"') quoted = true;
    else if (c != ' ' && std::string_view("{}[],:0123456789-+.").find(c) == std::string_view::npos)
      return bad("not valid JSON: " + shown(text));
  }
  return out;
}

}  // namespace hubsync::mapping
