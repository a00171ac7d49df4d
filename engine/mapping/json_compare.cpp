#include "engine/mapping/json_compare.h"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstdio>
#include <map>
#include <vector>

namespace hubsync::mapping {

namespace {

// Builds the canonical text bottom-up, without recursion (a document nested
// a million deep costs memory, not stack): each open array or object is a
// frame; a finished value goes into its parent's frame.
class Canonical : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Canonical> {
 public:
  bool Null() { return value("null"); }
  bool Bool(bool b) { return value(b ? "true" : "false"); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return value(std::string(s, n)); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return value(quoted(s, n)); }
  bool StartObject() { return open(true); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    frames_.back().key.assign(s, n);
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    std::map<std::string, std::string> members;  // byte order; the last duplicate wins
    for (auto& [k, v] : frames_.back().members) members[k] = std::move(v);
    std::string text = "{";
    for (const auto& [k, v] : members) text += (text.size() > 1 ? "," : "") + quoted(k.data(), k.size()) + ":" + v;
    frames_.pop_back();
    return value(text + "}");
  }
  bool StartArray() { return open(false); }
  bool EndArray(rapidjson::SizeType) {
    std::string text = "[" + frames_.back().items + "]";
    frames_.pop_back();
    return value(text);
  }

  std::string result;

 private:
  struct Frame {
    bool object = false;
    std::string key;
    std::vector<std::pair<std::string, std::string>> members;
    std::string items;
  };

  bool open(bool object) {
    frames_.push_back(Frame{object, {}, {}, {}});
    return true;
  }

  bool value(std::string text) {
    if (frames_.empty()) {
      result = std::move(text);
    } else if (frames_.back().object) {
      frames_.back().members.emplace_back(std::move(frames_.back().key), std::move(text));
    } else {
      auto& items = frames_.back().items;
      if (!items.empty()) items += ',';
      items += text;
    }
    return true;
  }

  static std::string quoted(const char* s, std::size_t n) {
    std::string out = "\"";
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", c);
        out += esc;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  }

  std::vector<Frame> frames_;
};

}  // namespace

model::Result<std::string> canonical_json(const std::string& text) {
  rapidjson::MemoryStream in(text.data(), text.size());
  rapidjson::Reader reader;
  Canonical out;
  constexpr unsigned kFlags = rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag |
                              rapidjson::kParseValidateEncodingFlag;
  if (reader.Parse<kFlags>(in, out).IsError())
    return model::make_error(model::ErrorKind::invalid_record,
                             "not valid JSON at offset " + std::to_string(reader.GetErrorOffset()));
  return std::move(out.result);
}

}  // namespace hubsync::mapping
