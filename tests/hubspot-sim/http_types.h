#pragma once

// Transport-neutral request/response, so only http_server.cpp sees Beast.
#include <any>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hubsync::sim {

struct HttpRequest {
  std::string method;
  std::string target;  ///< path + query as received
  std::string path;    ///< decoded path
  std::vector<std::pair<std::string, std::string>> query;  ///< decoded, in order
  std::map<std::string, std::string> headers;              ///< lower-case names
  std::string body;
  std::any admission;  ///< what the server's admit hook decided when the request arrived

  std::string query_param(const std::string& name, const std::string& def = {}) const {
    for (const auto& [k, v] : query)
      if (k == name) return v;
    return def;
  }
  std::vector<std::string> query_all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : query)
      if (k == name) out.push_back(v);
    return out;
  }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

enum class ResponseAction { kRespond, kDrop, kReset };

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json;charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;
  ResponseAction action = ResponseAction::kRespond;
};

std::string url_decode(const std::string& s, bool plus_is_space);
/// Splits the target into path and query pairs.
void parse_target(HttpRequest& req);

}  // namespace hubsync::sim
