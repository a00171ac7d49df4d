#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "engine/model/result.h"

namespace hubsync::model {

enum class ValueType { null, text, integer, decimal, boolean, date, datetime, list };

const char* to_string(ValueType type);

/// An exact decimal in canonical text form: optional '-', no leading zeros,
/// no trailing fractional zeros, no '-0'. Never passes through a double.
struct Decimal {
  std::string text;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

/// A calendar date, days since 1970-01-01.
struct Date {
  std::int32_t days = 0;
  friend bool operator==(const Date&, const Date&) = default;
};

/// An instant, milliseconds since the Unix epoch, UTC.
struct DateTime {
  std::int64_t ms = 0;
  friend bool operator==(const DateTime&, const DateTime&) = default;
};

/// A field value, typed and normalised so that two values that mean the same
/// thing compare equal (`1.50` == `1.5`; one instant in two time zones).
class Value {
 public:
  Value() = default;  ///< null
  static Value null() { return Value(); }
  static Value text(std::string s) { return Value(std::move(s)); }
  static Value integer(std::int64_t i) { return Value(i); }
  static Value decimal(Decimal d) { return Value(std::move(d)); }
  static Value boolean(bool b) { return Value(b); }
  static Value date(Date d) { return Value(d); }
  static Value datetime(DateTime t) { return Value(t); }
  static Value list(std::vector<std::string> items) { return Value(std::move(items)); }

  ValueType type() const { return static_cast<ValueType>(v_.index()); }
  bool is_null() const { return type() == ValueType::null; }

  const std::string& as_text() const { return std::get<std::string>(v_); }
  std::int64_t as_integer() const { return std::get<std::int64_t>(v_); }
  const Decimal& as_decimal() const { return std::get<Decimal>(v_); }
  bool as_boolean() const { return std::get<bool>(v_); }
  Date as_date() const { return std::get<Date>(v_); }
  DateTime as_datetime() const { return std::get<DateTime>(v_); }
  const std::vector<std::string>& as_list() const { return std::get<std::vector<std::string>>(v_); }

  /// Canonical text: what is stored as a synced base value and what HubSpot
  /// receives (HubSpot property values are all strings). Null gives "".
  /// Dates are YYYY-MM-DD, datetimes ISO-8601 UTC with milliseconds, lists
  /// are ';'-joined, booleans "true"/"false".
  std::string canonical() const;

  friend bool operator==(const Value&, const Value&) = default;

 private:
  using Storage = std::variant<std::monostate, std::string, std::int64_t, Decimal, bool, Date,
                               DateTime, std::vector<std::string>>;
  // Constrained so it never competes with the copy and move constructors.
  template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, Value>)
  explicit Value(T&& v) : v_(std::forward<T>(v)) {}
  Storage v_;
};

/// Parsers shared by connectors and transforms. Each names the offending
/// input in its error (kind invalid_record).
Result<std::int64_t> parse_integer(std::string_view s);
/// A decimal in its canonical text: no leading or trailing zeros, no '+',
/// "0" for any zero. Scientific notation ("1e3", "-1.5E-3", as HubSpot may
/// hold a number and PostgreSQL prints a float) is written out in full.
Result<Decimal> parse_decimal(std::string_view s);
Result<bool> parse_boolean(std::string_view s);
/// YYYY-MM-DD, or an epoch-ms midnight as HubSpot sends date properties.
Result<Date> parse_date(std::string_view s);
/// ISO-8601 (`T` or space, optional seconds/fraction, `Z` or ±HH[:MM] or none
/// meaning UTC) or epoch milliseconds.
Result<DateTime> parse_datetime(std::string_view s);
/// `s` without the whitespace around it, as HubSpot counts whitespace when it
/// refuses it around a value (LEADING_TRAILING_WHITESPACE): ASCII blanks and
/// controls, no-break and typographic spaces (U+00A0, U+2000-U+200A,
/// U+202F, U+205F, U+3000), zero-width characters (U+200B-U+200D) and the
/// byte-order mark (U+FEFF), in UTF-8. A view into `s`.
std::string_view trim_space(std::string_view s);
/// Splits a ';'-joined multi-select value; empty string gives an empty list.
std::vector<std::string> split_list(std::string_view s, char sep = ';');

std::string format_date(Date d);
std::string format_datetime(DateTime t);

/// Days since epoch <-> civil date (proleptic Gregorian).
std::int32_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int32_t z, int& y, unsigned& m, unsigned& d);

}  // namespace hubsync::model
