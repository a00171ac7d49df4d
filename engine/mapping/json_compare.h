#pragma once

// The comparison form of a JSON document, for fields of type json.
#include <string>

#include "engine/model/result.h"

namespace hubsync::mapping {

/// One text for every spelling of one JSON document as PostgreSQL's jsonb
/// holds it: no whitespace, object keys in byte order with the last of
/// duplicate keys kept, strings with their escapes decoded and written one
/// way. Numbers keep their text. So `{"b":1,"a":2}` read back from a jsonb
/// column as `{"a": 2, "b": 1}` compares equal to what HubSpot holds, and a
/// pull writes nothing back to HubSpot for it. Errors on text that is not
/// one JSON document.
model::Result<std::string> canonical_json(const std::string& text);

}  // namespace hubsync::mapping
