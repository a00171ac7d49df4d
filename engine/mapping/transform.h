#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/mapping/types.h"
#include "engine/model/result.h"
#include "engine/model/value.h"

namespace hubsync::mapping {

using model::ValueType;

enum class TransformKind { trim, lowercase, uppercase, value_map, cents, date_format };

const std::vector<std::string>& transform_names();

/// One step of a field's transform chain. `forward` goes Postgres -> HubSpot,
/// `backward` HubSpot -> Postgres. Steps are typed: `in` is the Postgres-side
/// kind they accept, `out` what they give towards HubSpot. List values
/// (multi-select) are transformed item by item by the text steps.
struct Transform {
  TransformKind kind = TransformKind::trim;
  ValueType in = ValueType::text;
  ValueType out = ValueType::text;
  std::vector<std::pair<std::string, std::string>> map;  ///< value_map: pg -> hs, in order
  std::string pattern;                                   ///< date_format: strftime-like
  SourceMark mark;

  /// Postgres -> HubSpot. Never called with null. Errors are invalid_record.
  model::Result<model::Value> forward(const model::Value& v) const;
  /// HubSpot -> Postgres, the inverse of forward where one exists (trim and
  /// the case changes have none: backward is the identity for them).
  model::Result<model::Value> backward(const model::Value& v) const;
  /// A short description, e.g. "value_map(a=b,c=d)" or "date_format('%d/%m/%Y')".
  std::string describe() const;
};

/// Builds a transform step of `kind` for an input of kind `in`; sets `out`.
/// Returns an error message (empty on success) when the step does not accept
/// that input kind or its arguments are invalid.
std::string type_transform(Transform& t, ValueType in);

/// Converts a value to `kind` the way a Postgres value of another column
/// type may arrive (text "42" for an integer, integer 5 for a decimal, ...).
model::Result<model::Value> coerce(const model::Value& v, ValueType kind);

/// Parses a raw HubSpot property string as `kind`; "" gives null.
model::Result<model::Value> parse_hubspot(const std::string& raw, ValueType kind);

/// The canonical HubSpot string of a value ("" for null).
std::string format_hubspot(const model::Value& v);

/// The comparison form of a HubSpot-side value: canonical text, with
/// multi-select items sorted (HubSpot does not keep their order).
std::string normalise_hubspot(const model::Value& v);

/// Minifies JSON text (drops whitespace outside strings) so two spellings of
/// one document compare equal. Errors on text that is not balanced JSON.
model::Result<std::string> normalise_json(const std::string& text);

/// Formats/parses a date or datetime with a strftime-like pattern
/// (%Y %m %d %H %M %S %%). `with_time` is true if the pattern has a time part.
bool pattern_has_time(const std::string& pattern);
std::string format_pattern(const std::string& pattern, std::int64_t ms);
model::Result<std::int64_t> parse_pattern(const std::string& pattern, const std::string& text);

}  // namespace hubsync::mapping
