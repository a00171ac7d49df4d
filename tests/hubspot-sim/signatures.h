#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hubsync::sim {

/// HubSpot webhook signatures (HUBSPOT-API.md, "Signatures"). Pure functions.
/// v1: hex SHA-256(secret + body).
std::string signature_v1(std::string_view secret, std::string_view body);
/// v2: hex SHA-256(secret + method + uri + body).
std::string signature_v2(std::string_view secret, std::string_view method, std::string_view uri,
                         std::string_view body);
/// v3: base64 HMAC-SHA256(secret, method + uri + body + timestamp).
std::string signature_v3(std::string_view secret, std::string_view method, std::string_view uri,
                         std::string_view body, std::int64_t timestamp_ms);

}  // namespace hubsync::sim
