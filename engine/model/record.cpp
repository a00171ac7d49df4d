#include "engine/model/record.h"

#include <cstdio>

namespace hubsync::model {

const char* to_string(ChangeOp op) {
  switch (op) {
    case ChangeOp::insert: return "insert";
    case ChangeOp::update: return "update";
    case ChangeOp::del: return "delete";
    case ChangeOp::truncate: return "truncate";
  }
  return "unknown";
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string RecordKey::encoded() const {
  if (parts.size() == 1) return parts.front();
  std::string out = "[";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ',';
    out += json_quote(parts[i]);
  }
  out += ']';
  return out;
}

std::optional<RecordKey> RecordKey::decode(const std::string& encoded, std::size_t n_parts) {
  if (n_parts == 1) return RecordKey{{encoded}};
  // Minimal JSON array-of-strings reader: the exact inverse of encoded().
  RecordKey key;
  std::size_t i = 0;
  if (encoded.empty() || encoded[i++] != '[') return std::nullopt;
  while (i < encoded.size() && encoded[i] != ']') {
    if (encoded[i] != '"') return std::nullopt;
    ++i;
    std::string part;
    while (i < encoded.size() && encoded[i] != '"') {
      char c = encoded[i++];
      if (c == '\\' && i < encoded.size()) {
        char e = encoded[i++];
        switch (e) {
          case 'n': part += '\n'; break;
          case 'r': part += '\r'; break;
          case 't': part += '\t'; break;
          case 'u': {
            if (i + 4 > encoded.size()) return std::nullopt;
            part += static_cast<char>(std::stoi(encoded.substr(i, 4), nullptr, 16));
            i += 4;
            break;
          }
          default: part += e;
        }
      } else {
        part += c;
      }
    }
    if (i >= encoded.size()) return std::nullopt;
    ++i;  // closing quote
    key.parts.push_back(std::move(part));
    if (i < encoded.size() && encoded[i] == ',') ++i;
  }
  if (key.parts.size() != n_parts) return std::nullopt;
  return key;
}

}  // namespace hubsync::model
