#pragma once

// What HubSpot refuses in a property value: one check for every writer of
// values (a workflow action's write before it lands in Postgres, and the
// live and schema checks of a mapping's value_map), so what hubsync refuses
// up front is what HubSpot would refuse at the push.
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/mapping.h"

namespace hubsync::mapping {

/// Empty when HubSpot takes `value` (a property string as the push sends
/// it) for a property of `type` and `field_type` whose options are
/// `options`; else why not, e.g. "'gold' is not one of its options (vip,
/// beta, partner)". "" clears a property and is always taken. The checks
/// are those HubSpot makes on a write (VALIDATION_ERROR): number (decimal
/// or scientific notation), bool (true/false, any case), date (YYYY-MM-DD
/// or epoch ms at UTC midnight), datetime (ISO 8601 or epoch ms),
/// enumeration (each `;`-separated item of a checkbox, or the whole value,
/// is an option's value; not checked when `options` is empty), no
/// whitespace around the value (or a multi-select's item) of any type but
/// string and phone_number (HubSpot's LEADING_TRAILING_WHITESPACE, no-break
/// and zero-width spaces included), and any value at most 65,536 characters. The reason quotes at most 64
/// characters of the value. Pure, thread-safe.
std::string property_value_problem(std::string_view type, std::string_view field_type,
                                   const std::vector<PropertyOption>& options, const std::string& value);

}  // namespace hubsync::mapping
