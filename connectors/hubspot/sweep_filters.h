#pragma once

#include <string>

#include "connectors/hubspot/search.h"
#include "engine/mapping/mapping.h"

namespace hubsync::hubspot {

/// Whether any value of `f` is written as an ISO-8601 date or datetime
/// (`2024-05-01`, `2024-05-01T12:00:00Z`): only then does its property's
/// type matter to the request.
bool has_iso_time_value(const mapping::HubspotFilter& f);

/// A mapping's HubSpot filter as a search filter. On a date or datetime
/// property (`time_property`), ISO-8601 values become epoch milliseconds, the
/// form HubSpot's search compares; every other value goes as written (a value
/// HubSpot cannot read is its 400 to give).
Filter to_search_filter(const mapping::HubspotFilter& f, bool time_property);

}  // namespace hubsync::hubspot
