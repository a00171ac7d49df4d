#include "connectors/hubspot/json.h"

namespace hubsync::hubspot::json {

rapidjson::Document parse(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) throw JsonError("invalid JSON at offset " + std::to_string(d.GetErrorOffset()));
  return d;
}

std::string to_string(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string get_string(const rapidjson::Value& obj, const char* name, std::string fallback) {
  auto s = opt_string(obj, name);
  return s ? *s : fallback;
}

std::optional<std::string> opt_string(const rapidjson::Value& obj, const char* name) {
  const auto* v = member(obj, name);
  if (!v) return std::nullopt;
  return scalar_text(*v);
}

std::int64_t get_int(const rapidjson::Value& obj, const char* name, std::int64_t fallback) {
  const auto* v = member(obj, name);
  if (!v) return fallback;
  if (v->IsInt64()) return v->GetInt64();
  if (v->IsUint64()) return static_cast<std::int64_t>(v->GetUint64());
  if (v->IsString()) {
    try {
      return std::stoll(v->GetString());
    } catch (const std::exception&) {
      return fallback;
    }
  }
  return fallback;
}

bool get_bool(const rapidjson::Value& obj, const char* name, bool fallback) {
  const auto* v = member(obj, name);
  if (!v) return fallback;
  if (v->IsBool()) return v->GetBool();
  if (v->IsString()) return std::string_view(v->GetString()) == "true";
  return fallback;
}

std::optional<std::string> scalar_text(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return std::string(v.GetBool() ? "true" : "false");
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) return to_string(v);
  return std::nullopt;
}

std::optional<std::string> id_text(const rapidjson::Value& obj, const char* name) {
  const auto* v = member(obj, name);
  if (v == nullptr) return std::nullopt;
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsUint64()) return std::to_string(v->GetUint64());
  if (v->IsString() && v->GetStringLength() > 0) return std::string(v->GetString(), v->GetStringLength());
  return std::nullopt;
}

}  // namespace hubsync::hubspot::json
