#include "engine/webhook/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cctype>
#include <charconv>

namespace hubsync::webhook {

namespace {

std::atomic<std::uint64_t> g_compares{0};

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string sha256_hex(std::initializer_list<std::string_view> parts) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  for (auto p : parts) ok = ok && EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1;
  EVP_MD_CTX_free(ctx);
  // Only allocation failure gets here; an empty digest never matches.
  return ok ? hex(md, len) : std::string();
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string sign_v1(std::string_view secret, std::string_view body) {
  return sha256_hex({secret, body});
}

std::string sign_v2(std::string_view secret, std::string_view method, std::string_view uri,
                    std::string_view body) {
  return sha256_hex({secret, method, uri, body});
}

std::string sign_v3(std::string_view secret, std::string_view method, std::string_view uri,
                    std::string_view body, std::string_view timestamp) {
  std::string data;
  data.reserve(method.size() + uri.size() + body.size() + timestamp.size());
  data.append(method).append(uri).append(body).append(timestamp);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return base64(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  g_compares.fetch_add(1, std::memory_order_relaxed);
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::uint64_t constant_time_compares() { return g_compares.load(std::memory_order_relaxed); }

std::string decode_uri_for_v3(std::string_view uri) {
  static constexpr struct {
    char hi, lo, out;
  } kTable[] = {{'3', 'A', ':'}, {'2', 'F', '/'}, {'3', 'F', '?'}, {'4', '0', '@'},
                {'2', '1', '!'}, {'2', '4', '$'}, {'2', '7', '\''}, {'2', '8', '('},
                {'2', '9', ')'}, {'2', 'A', '*'}, {'2', 'C', ','}, {'3', 'B', ';'}};
  std::string out;
  out.reserve(uri.size());
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size()) {
      const char hi = uri[i + 1];
      const char lo = static_cast<char>(std::toupper(static_cast<unsigned char>(uri[i + 2])));
      bool decoded = false;
      for (const auto& t : kTable) {
        if (t.hi == hi && t.lo == lo) {
          out.push_back(t.out);
          i += 2;
          decoded = true;
          break;
        }
      }
      if (decoded) continue;
    }
    out.push_back(uri[i]);
  }
  return out;
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::valid: return "valid";
    case Verdict::missing: return "missing";
    case Verdict::bad_signature: return "bad_signature";
    case Verdict::stale: return "stale";
  }
  return "unknown";
}

Verification verify(const SignedRequest& r, const VerifyOptions& o, std::int64_t now_ms) {
  if (r.signature_v3) {
    if (r.signature_v3->empty()) return {Verdict::bad_signature, "v3", "empty v3 signature"};
    if (!r.timestamp) return {Verdict::bad_signature, "v3", "v3 signature without a timestamp"};
    const auto ts = parse_timestamp(*r.timestamp);
    if (!ts) return {Verdict::bad_signature, "v3", "timestamp is not an integer"};
    // A proxy may have decoded what HubSpot signed encoded, or the reverse:
    // both spellings carry the secret, so accepting either admits no forgery.
    std::vector<std::string> uris{std::string(r.uri)};
    if (auto d = decode_uri_for_v3(r.uri); d != uris.front()) uris.push_back(std::move(d));
    bool match = false;
    for (const auto& secret : o.secrets)
      for (const auto& uri : uris)
        // No early exit: every candidate costs the same whichever matches.
        match |= constant_time_equal(sign_v3(secret, r.method, uri, r.body, *r.timestamp),
                                     *r.signature_v3);
    if (!match) return {Verdict::bad_signature, "v3", "v3 signature does not match"};
    // Compared without overflow whatever the timestamp (it is signed, but
    // any 64-bit value can be signed by whoever holds the secret).
    const bool too_old = *ts < now_ms && now_ms - o.max_skew_ms > *ts;
    const bool too_new = *ts > now_ms && *ts - o.max_skew_ms > now_ms;
    if (too_old || too_new)
      return {Verdict::stale, "v3",
              "timestamp is more than " + std::to_string(o.max_skew_ms) + " ms in the " + (too_old ? "past" : "future")};
    return {Verdict::valid, "v3", ""};
  }
  if (!r.signature) return {Verdict::missing, "", "no signature header"};
  if (!o.accept_v1_v2) return {Verdict::missing, "", "v1/v2 signature, and only v3 is accepted"};
  if (r.signature->empty()) return {Verdict::bad_signature, "", "empty signature"};
  const std::string_view version = r.signature_version.value_or("v1");
  if (version != "v1" && version != "v2")
    return {Verdict::bad_signature, std::string(version), "unknown signature version"};
  bool match = false;
  for (const auto& secret : o.secrets) {
    const std::string expected =
        version == "v1" ? sign_v1(secret, r.body) : sign_v2(secret, r.method, r.uri, r.body);
    match |= constant_time_equal(expected, *r.signature);
  }
  if (!match) return {Verdict::bad_signature, std::string(version), "signature does not match"};
  return {Verdict::valid, std::string(version), ""};
}

}  // namespace hubsync::webhook
