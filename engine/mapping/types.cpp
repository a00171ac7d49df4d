#include "engine/mapping/types.h"

#include <algorithm>
#include <limits>

namespace hubsync::mapping {

std::string SourceMark::to_string() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Finding::to_string() const {
  std::string where = mark.to_string();
  return (where.empty() ? std::string() : where + ": ") + mapping::to_string(severity) + ": " +
         message;
}

bool has_errors(const Findings& findings) {
  for (const auto& f : findings)
    if (f.severity == Severity::error) return true;
  return false;
}

int exit_code(const Findings& findings) {
  if (has_errors(findings)) return 1;
  for (const auto& f : findings)
    if (f.severity == Severity::unavailable) return 2;
  return 0;
}

const char* to_string(Direction d) {
  switch (d) {
    case Direction::both: return "both";
    case Direction::to_hubspot: return "to_hubspot";
    case Direction::to_postgres: return "to_postgres";
  }
  return "?";
}

const char* to_string(ConflictPolicy c) {
  switch (c) {
    case ConflictPolicy::postgres: return "postgres";
    case ConflictPolicy::hubspot: return "hubspot";
    case ConflictPolicy::newest: return "newest";
  }
  return "?";
}

const char* to_string(DeletePolicy d) {
  switch (d) {
    case DeletePolicy::archive: return "archive";
    case DeletePolicy::ignore: return "ignore";
    case DeletePolicy::soft: return "soft";
  }
  return "?";
}

std::int64_t DeleteLimit::of(std::int64_t linked) const {
  switch (kind) {
    case Kind::off: return std::numeric_limits<std::int64_t>::max();
    case Kind::count: return value;
    case Kind::percent: {
      const std::int64_t n = std::max<std::int64_t>(linked, 0);
      const std::int64_t floor = std::min(kPercentFloor, std::max<std::int64_t>(1, n / 2));
      return std::max(floor, (n * value + 99) / 100);
    }
  }
  return value;
}

std::string DeleteLimit::to_string() const {
  if (kind == Kind::off) return "off";
  return std::to_string(value) + (kind == Kind::percent ? "%" : "");
}

std::optional<DeleteLimit> parse_delete_limit(std::string_view s) {
  if (s == "off") return DeleteLimit{DeleteLimit::Kind::off, 0};
  const bool percent = !s.empty() && s.back() == '%';
  if (percent) s.remove_suffix(1);
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const std::int64_t v = std::stoll(std::string(s));
  if (percent && (v < 1 || v > 100)) return std::nullopt;
  return DeleteLimit{percent ? DeleteLimit::Kind::percent : DeleteLimit::Kind::count, v};
}

const char* to_string(FieldType t) {
  switch (t) {
    case FieldType::text: return "text";
    case FieldType::integer: return "integer";
    case FieldType::decimal: return "decimal";
    case FieldType::boolean: return "boolean";
    case FieldType::date: return "date";
    case FieldType::datetime: return "datetime";
    case FieldType::enumeration: return "enumeration";
    case FieldType::multi_select: return "multi_select";
    case FieldType::json: return "json";
  }
  return "?";
}

const char* to_string(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::info: return "info";
    case Severity::unavailable: return "unavailable";
  }
  return "?";
}

const std::vector<std::string>& direction_names() {
  static const std::vector<std::string> names = {"both", "to_hubspot", "to_postgres"};
  return names;
}

const std::vector<std::string>& conflict_names() {
  static const std::vector<std::string> names = {"postgres", "hubspot", "newest"};
  return names;
}

const std::vector<std::string>& field_type_names() {
  static const std::vector<std::string> names = {"text",     "integer",     "decimal",
                                                 "boolean",  "date",        "datetime",
                                                 "enumeration", "multi_select", "json"};
  return names;
}

std::optional<Direction> parse_direction(std::string_view s) {
  if (s == "both") return Direction::both;
  if (s == "to_hubspot") return Direction::to_hubspot;
  if (s == "to_postgres") return Direction::to_postgres;
  return std::nullopt;
}

std::optional<ConflictPolicy> parse_conflict(std::string_view s) {
  if (s == "postgres") return ConflictPolicy::postgres;
  if (s == "hubspot") return ConflictPolicy::hubspot;
  if (s == "newest") return ConflictPolicy::newest;
  return std::nullopt;
}

std::optional<FieldType> parse_field_type(std::string_view s) {
  const auto& names = field_type_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<FieldType>(i);
  return std::nullopt;
}

}  // namespace hubsync::mapping
