#pragma once

// The one way connectors/hubspot includes RapidJSON: its asserts throw
// (caught at the connector boundary and turned into errors) instead of
// aborting the process on unexpected input.
#include <stdexcept>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) \
  do { \
    if (!(x)) throw ::hubsync::hubspot::JsonError("rapidjson assertion failed: " #x); \
  } while (false)
#endif
#ifndef RAPIDJSON_HAS_STDSTRING
#define RAPIDJSON_HAS_STDSTRING 1
#endif

namespace hubsync::hubspot {
/// Thrown by RapidJSON on misuse or unexpected shapes; never leaves the connector.
struct JsonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace hubsync::hubspot

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hubsync::hubspot::json {

/// Parses `text`; throws JsonError when it is not JSON.
rapidjson::Document parse(std::string_view text);
std::string to_string(const rapidjson::Value& v);

/// Safe readers: missing members or wrong types give the fallback.
const rapidjson::Value* member(const rapidjson::Value& obj, const char* name);
std::string get_string(const rapidjson::Value& obj, const char* name, std::string fallback = {});
std::optional<std::string> opt_string(const rapidjson::Value& obj, const char* name);
std::int64_t get_int(const rapidjson::Value& obj, const char* name, std::int64_t fallback = 0);
bool get_bool(const rapidjson::Value& obj, const char* name, bool fallback = false);
/// An id HubSpot sends as a number (or a non-empty string) as text;
/// nullopt when absent or of another type.
std::optional<std::string> id_text(const rapidjson::Value& obj, const char* name);
/// A scalar as HubSpot text ("17", "true"); null or absent gives nullopt.
std::optional<std::string> scalar_text(const rapidjson::Value& v);

/// A small writer wrapper for building request bodies.
class Writer {
 public:
  Writer() : w_(buf_) {}
  rapidjson::Writer<rapidjson::StringBuffer>& operator*() { return w_; }
  rapidjson::Writer<rapidjson::StringBuffer>* operator->() { return &w_; }
  void key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void str(std::string_view s) { w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
  void kv(std::string_view k, std::string_view v) { key(k); str(v); }
  std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

}  // namespace hubsync::hubspot::json
