#include "connectors/hubspot/routes.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace hubsync::hubspot {

namespace {

// Words of HubSpot's API paths hubsync calls (and the ones near them).
constexpr std::array<std::string_view, 34> kWords = {
    "crm",     "v1",        "v3",      "v4",          "objects", "batch",     "read",       "create",
    "update",  "upsert",    "archive", "search",      "associations", "properties", "schemas", "labels",
    "default", "merge",     "gdpr-delete", "oauth",   "access-tokens", "refresh-tokens", "token", "automation",
    "actions", "callbacks", "complete", "webhooks",   "subscriptions", "settings", "account-info", "details",
    "groups",  "usage"};

// How many object types follow a segment: /objects/{type}, /schemas/{type},
// /properties/{type}, /associations/{from}/{to}.
int types_after(std::string_view s) {
  if (s == "associations") return 2;
  return s == "objects" || s == "schemas" || s == "properties" ? 1 : 0;
}

bool is_word(std::string_view s) { return std::find(kWords.begin(), kWords.end(), s) != kWords.end(); }

// contacts, p123_cars, 0-1, 2-456: lower-case letters, digits, '_' and '-',
// starting with a letter, or the numeric n-m form.
bool looks_like_type(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  const auto ok = [](char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'; };
  if (std::islower(static_cast<unsigned char>(s[0]))) return std::all_of(s.begin(), s.end(), ok);
  const auto dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return false;
  const auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  };
  return digits(s.substr(0, dash)) && digits(s.substr(dash + 1));
}

}  // namespace

std::string api_route(std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  std::string out;
  int type_slots = 0;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto end = std::min(path.find('/'), path.size());
    const std::string_view seg = path.substr(0, end);
    path.remove_prefix(end);
    const bool type = type_slots > 0 && looks_like_type(seg) && !is_word(seg);
    const bool keep = type || is_word(seg);
    out += '/';
    out += keep ? seg : std::string_view("{id}");
    type_slots = type ? type_slots - 1 : types_after(seg);
  }
  return out.empty() ? "/" : out;
}

}  // namespace hubsync::hubspot
