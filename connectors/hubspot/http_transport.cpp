#include "connectors/hubspot/http_transport.h"

#include <algorithm>
#include <cctype>

// The transport-independent helpers of http_transport.h. They live apart from
// curl_transport.cpp so code that never talks to libcurl (the fuzzers, canned
// transports) can link them without it.
namespace hubsync::hubspot {

std::string_view find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  }
  return {};
}

const char* to_string(HttpMethod m) {
  switch (m) {
    case HttpMethod::get: return "GET";
    case HttpMethod::post: return "POST";
    case HttpMethod::put: return "PUT";
    case HttpMethod::patch: return "PATCH";
    case HttpMethod::del: return "DELETE";
  }
  return "GET";
}

}  // namespace hubsync::hubspot
