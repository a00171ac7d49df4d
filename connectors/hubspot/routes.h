#pragma once

#include <string>
#include <string_view>

namespace hubsync::hubspot {

/// The route of a HubSpot API path, for metric labels: the query string is
/// dropped and every segment that names one record (an object id, an email
/// used as id, a callback id) becomes `{id}`, so a label never carries a
/// field value and the label set stays small. Object type names (`contacts`,
/// `p123_cars`, `2-456`) are kept: they say which mapping the call served.
///   /crm/v3/objects/contacts/123?idProperty=email -> /crm/v3/objects/contacts/{id}
///   /crm/v4/objects/contacts/123/associations/companies -> /crm/v4/objects/contacts/{id}/associations/companies
std::string api_route(std::string_view path);

}  // namespace hubsync::hubspot
