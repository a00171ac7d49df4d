#pragma once

// The simulator's one RapidJSON entry point: a throwing RAPIDJSON_ASSERT so a
// malformed request becomes a 400, never an abort.
#include <stdexcept>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x)                                          \
  do {                                                               \
    if (!(x)) throw std::logic_error("rapidjson assertion: " #x);    \
  } while (0)
#endif
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace hubsync::sim {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

inline void write_str(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

/// Returns member `name` if it is a string, else `def`.
/// HubSpot's error `context`: {"key": ["value", ...], ...}.
inline void write_context(JsonWriter& w, const std::map<std::string, std::vector<std::string>>& context) {
  w.StartObject();
  for (const auto& [k, vs] : context) {
    write_str(w, k);
    w.StartArray();
    for (const auto& v : vs) write_str(w, v);
    w.EndArray();
  }
  w.EndObject();
}

inline std::string get_string(const rapidjson::Value& v, const char* name,
                              const std::string& def = {}) {
  if (!v.IsObject()) return def;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return def;
  return {it->value.GetString(), it->value.GetStringLength()};
}

/// Renders any JSON scalar as HubSpot would store it: a string.
inline std::string scalar_to_string(const rapidjson::Value& v) {
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsNull()) return {};
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsNumber()) {
    std::string s = std::to_string(v.GetDouble());
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  return to_json(v);
}

/// The text a writer wrote into `sb`.
inline std::string done(rapidjson::StringBuffer& sb) { return {sb.GetString(), sb.GetSize()}; }

}  // namespace hubsync::sim
