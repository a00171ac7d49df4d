#pragma once

// A small libcurl client for the simulator's tests (one handle per client,
// keep-alive across requests).
#include <curl/curl.h>

#include <map>
#include <string>
#include <vector>

#include "tests/hubspot-sim/json.h"

namespace hubsync::sim::test {

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  rapidjson::Document json() const {
    rapidjson::Document d;
    d.Parse(body.c_str());
    return d;
  }
  bool has_header(const std::string& n) const { return headers.count(n) > 0; }
  std::string header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? "" : it->second;
  }
};

class Client {
 public:
  explicit Client(std::string base, std::string token = "pat-sim-hubsync");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response get(const std::string& path) { return request("GET", path, ""); }
  Response post(const std::string& path, const std::string& body) { return request("POST", path, body); }
  Response patch(const std::string& path, const std::string& body) { return request("PATCH", path, body); }
  Response put(const std::string& path, const std::string& body) { return request("PUT", path, body); }
  Response del(const std::string& path) { return request("DELETE", path, ""); }
  /// Form-encoded POST without Authorization (OAuth token endpoint).
  Response post_form(const std::string& path, const std::string& form);
  Response request(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& content_type = "application/json");
  void set_token(std::string t) { token_ = std::move(t); }
  CURLcode last_error() const { return last_error_; }

 private:
  std::string base_;
  std::string token_;
  CURL* curl_;
  CURLcode last_error_ = CURLE_OK;
};

}  // namespace hubsync::sim::test
