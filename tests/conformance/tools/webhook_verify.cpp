// hubsync's verdict on one signed webhook request, for the conformance test
// that compares it with the official Node client's Signature.isValid.
// Usage: webhook_verify METHOD URI VERSION SIGNATURE [TIMESTAMP] < body
// The secret comes from HUBSYNC_WEBHOOK_SECRET (not argv). Prints the
// verdict (valid | bad_signature | stale | missing); exit 2 on misuse.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include "engine/webhook/signature.h"

int main(int argc, char** argv) {
  using namespace hubsync::webhook;
  const char* secret = std::getenv("HUBSYNC_WEBHOOK_SECRET");
  if (argc < 5 || argc > 6 || secret == nullptr) {
    std::cerr << "usage: HUBSYNC_WEBHOOK_SECRET=... webhook_verify METHOD URI VERSION SIGNATURE [TIMESTAMP] < body\n";
    return 2;
  }
  std::cin >> std::noskipws;
  const std::string body((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const std::string version = argv[3];
  SignedRequest r;
  r.method = argv[1];
  r.uri = argv[2];
  r.body = body;
  if (version == "v3") {
    r.signature_v3 = argv[4];
    if (argc == 6) r.timestamp = argv[5];
  } else {
    r.signature = argv[4];
    r.signature_version = argv[3];
  }
  VerifyOptions o;
  o.secrets = {secret};
  o.accept_v1_v2 = version != "v3";
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::cout << to_string(verify(r, o, now).verdict) << "\n";
  return 0;
}
