#include "tests/hubspot-sim/signatures.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <string>

namespace hubsync::sim {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return hex(md, sizeof md);
}

}  // namespace

std::string signature_v1(std::string_view secret, std::string_view body) {
  std::string data(secret);
  data.append(body);
  return sha256_hex(data);
}

std::string signature_v2(std::string_view secret, std::string_view method, std::string_view uri,
                         std::string_view body) {
  std::string data(secret);
  data.append(method).append(uri).append(body);
  return sha256_hex(data);
}

std::string signature_v3(std::string_view secret, std::string_view method, std::string_view uri,
                         std::string_view body, std::int64_t timestamp_ms) {
  std::string data(method);
  data.append(uri).append(body).append(std::to_string(timestamp_ms));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  std::string out(4 * ((len + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), md, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace hubsync::sim
