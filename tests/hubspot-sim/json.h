#pragma once

// The simulator's one RapidJSON entry point: a throwing RAPIDJSON_ASSERT so a
// malformed request becomes a 400, never an abort.
#include <cstdint>
#include <cstring>
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

/// RapidJSON's writer, with a fast path for the strings that need no escape
/// (nearly every one the simulator writes): one scan, then one copy, where
/// RapidJSON's own writes each character through its escape table. Other
/// strings go through RapidJSON unchanged, so the output is byte for byte
/// the same. Not thread-safe, like the writer.
class JsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Base = rapidjson::Writer<rapidjson::StringBuffer>;
  explicit JsonWriter(rapidjson::StringBuffer& out) : Base(out) {}

  bool String(const char* s, rapidjson::SizeType n, bool copy = false) {
    return plain(s, n) || Base::String(s, n, copy);
  }
  bool String(const char* s) { return String(s, static_cast<rapidjson::SizeType>(std::char_traits<char>::length(s))); }
  bool String(const std::string& s) { return String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy = false) { return String(s, n, copy); }
  bool Key(const char* s) { return String(s); }
  bool Key(const std::string& s) { return String(s); }

 private:
  // Writes `s` as a JSON string when no character of it needs an escape
  // (RapidJSON escapes '"', '\\' and controls; it passes UTF-8 through);
  // else writes nothing and answers false.
  static constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  // Non-zero when a byte of `w` is below `n` (n <= 128).
  static constexpr std::uint64_t below(std::uint64_t w, std::uint64_t n) {
    return (w - kOnes * n) & ~w & (kOnes * 0x80);
  }
  bool plain(const char* s, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {  // eight at a time (exact tests, Bit Twiddling Hacks' hasless)
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (below(w, 0x20) | below(w ^ (kOnes * '"'), 1) | below(w ^ (kOnes * '\\'), 1)) return false;
    }
    for (; i < n; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c == '"' || c == '\\') return false;
    }
    Prefix(rapidjson::kStringType);
    char* at = os_->Push(n + 2);
    at[0] = '"';
    if (n) std::memcpy(at + 1, s, n);
    at[n + 1] = '"';
    return EndValue(true);
  }
};

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
