#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hubsync::hubspot {

/// An HTTP-date in the form every HTTP/1.1 server sends (RFC 9110
/// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"), as ms since the Unix
/// epoch; nullopt for anything else (the obsolete forms included: HubSpot
/// does not send them, and a misread date is worse than none).
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace hubsync::hubspot
