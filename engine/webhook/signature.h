#pragma once

// HubSpot's webhook request signatures (HUBSPOT-API.md, "Signatures"),
// computed by hubsync itself with OpenSSL, and the check the receiver runs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubsync::webhook {

/// v1: hex SHA-256(secret + body). Pure.
std::string sign_v1(std::string_view secret, std::string_view body);
/// v2: hex SHA-256(secret + method + uri + body). Pure.
std::string sign_v2(std::string_view secret, std::string_view method, std::string_view uri,
                    std::string_view body);
/// v3: base64 HMAC-SHA256(key = secret, method + uri + body + timestamp),
/// `timestamp` exactly as the X-HubSpot-Request-Timestamp header carries it.
/// Pure.
std::string sign_v3(std::string_view secret, std::string_view method, std::string_view uri,
                    std::string_view body, std::string_view timestamp);

/// Standard base64 (with padding) of `bytes`. Pure.
std::string base64(std::string_view bytes);

/// Equality of two byte strings in time that depends only on their lengths
/// (OpenSSL's CRYPTO_memcmp). Signatures have fixed lengths per version, so
/// the length leaks nothing. Thread-safe.
bool constant_time_equal(std::string_view a, std::string_view b);
/// How many comparisons constant_time_equal has made in this process (for
/// tests proving that signatures are compared through it). Thread-safe.
std::uint64_t constant_time_compares();

/// HubSpot's v3 rule: these percent-encodings in the request URI are decoded
/// before signing (%3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 )
/// %2A * %2C , %3B ;), case-insensitively. Other encodings stay. Pure.
std::string decode_uri_for_v3(std::string_view uri);

/// The signature headers of one request and what they sign.
struct SignedRequest {
  std::string_view method;  ///< as sent, e.g. "POST"
  /// The URI HubSpot signed: the public URL it called plus the request's
  /// query string (`?` included), never the address the proxy forwarded to.
  std::string_view uri;
  std::string_view body;  ///< the raw bytes, exactly as received
  std::optional<std::string_view> signature_v3;       ///< X-HubSpot-Signature-v3
  std::optional<std::string_view> timestamp;          ///< X-HubSpot-Request-Timestamp
  std::optional<std::string_view> signature;          ///< X-HubSpot-Signature (v1/v2)
  std::optional<std::string_view> signature_version;  ///< X-HubSpot-Signature-Version
};

struct VerifyOptions {
  /// Every secret currently accepted (the app's client secret; two during a
  /// rotation). Empty: nothing verifies.
  std::vector<std::string> secrets;
  /// Also accept v1/v2 signatures (no timestamp: replayable) when a request
  /// carries no v3 signature. Off unless configured.
  bool accept_v1_v2 = false;
  /// How far the v3 timestamp may be from now, either way.
  std::int64_t max_skew_ms = 300000;
};

enum class Verdict {
  valid,
  missing,        ///< no signature hubsync accepts (no v3, and v1/v2 off or absent)
  bad_signature,  ///< signed, but not with an accepted secret over these bytes
  stale,          ///< a correct v3 signature whose timestamp is outside the window
};
const char* to_string(Verdict v);

struct Verification {
  Verdict verdict = Verdict::missing;
  std::string version;  ///< "v1", "v2", "v3", or "" when missing
  std::string reason;   ///< for logs; never holds a secret or the body
};

/// Checks one request. A v3 signature, when present, decides alone: valid
/// when it matches (for the URI as given, or the URI with HubSpot's decoding
/// applied) with an accepted secret and |now - timestamp| <= max_skew_ms
/// (a matching signature with a timestamp outside is `stale`; a timestamp
/// that is not a decimal integer is `bad_signature`). Without v3, and only
/// when accept_v1_v2: X-HubSpot-Signature checked as the version header says
/// (v1 when absent; v2 over method + uri + body). Every comparison goes
/// through constant_time_equal. Pure apart from the comparison counter;
/// thread-safe.
Verification verify(const SignedRequest& request, const VerifyOptions& options,
                    std::int64_t now_ms);

}  // namespace hubsync::webhook
