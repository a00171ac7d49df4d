#include "engine/config/dsn.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace hubsync::config {

namespace {

constexpr std::string_view kMask = "****";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool equals_nocase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// libpq takes keywords case-sensitively; masking ignores case to be safe.
bool is_password_key(std::string_view key) {
  return equals_nocase(key, "password") || equals_nocase(key, "sslpassword");
}

std::optional<std::string> uri_prefix(std::string_view dsn) {
  for (std::string_view p : {"postgresql://", "postgres://"})
    if (dsn.substr(0, p.size()) == p) return std::string(p);
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// libpq's conninfo_uri_decode: %XX with two hex digits, never %00.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void add_secret(DsnInspection& out, std::string_view raw, const std::optional<std::string>& decoded) {
  if (!raw.empty()) out.passwords.emplace_back(raw);
  if (decoded && !decoded->empty() && *decoded != raw) out.passwords.push_back(*decoded);
}

DsnInspection invalid(std::string problem) {
  DsnInspection out;
  out.problem = std::move(problem);
  return out;
}

// One keyword=value pair of the keyword form.
struct Pair {
  std::string key;
  std::size_t value_begin = 0;  // the value as written, quotes included
  std::size_t value_end = 0;
  std::string value;  // unescaped
};

// libpq's conninfo_parse, step by step; positions are 1-based in problems.
std::optional<std::string> parse_pairs(std::string_view s, std::vector<Pair>& pairs) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (is_space(s[i])) {
      ++i;
      continue;
    }
    Pair p;
    const std::size_t key_begin = i;
    while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
    p.key = std::string(s.substr(key_begin, i - key_begin));
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size() || s[i] != '=')
      return "missing '=' after the keyword at character " + std::to_string(key_begin + 1);
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    p.value_begin = i;
    if (i < s.size() && s[i] == '\'') {
      for (++i;; ++i) {
        if (i >= s.size())
          return "unterminated quoted value starting at character " + std::to_string(p.value_begin + 1);
        if (s[i] == '\\') {
          if (i + 1 < s.size()) p.value += s[++i];
          continue;
        }
        if (s[i] == '\'') break;
        p.value += s[i];
      }
      ++i;
    } else {
      for (; i < s.size() && !is_space(s[i]); ++i) {
        if (s[i] == '\\') {
          if (i + 1 < s.size()) p.value += s[++i];
          continue;
        }
        p.value += s[i];
      }
    }
    p.value_end = i;
    pairs.push_back(std::move(p));
  }
  return std::nullopt;
}

std::string quote_value(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// A dbname may itself be a connection string (libpq expands it in some
// calls): mask inside it, or all of it when it cannot be read.
std::optional<std::string> masked_dbname(const Pair& p, DsnInspection& out) {
  const bool nested = uri_prefix(p.value) || p.value.find('=') != std::string::npos;
  if (!nested) return std::nullopt;
  auto inner = inspect_dsn(p.value);
  if (inner.passwords.empty() && inner.valid) return std::nullopt;
  out.passwords.insert(out.passwords.end(), inner.passwords.begin(), inner.passwords.end());
  if (!inner.valid) {
    add_secret(out, p.value, std::nullopt);
    return std::string(kMask);
  }
  return quote_value(inner.masked);
}

DsnInspection inspect_keywords(std::string_view s) {
  std::vector<Pair> pairs;
  if (auto problem = parse_pairs(s, pairs)) return invalid(*problem);
  DsnInspection out;
  out.valid = true;
  std::size_t copied = 0;
  for (const auto& p : pairs) {
    std::optional<std::string> replacement;
    if (is_password_key(p.key)) {
      add_secret(out, s.substr(p.value_begin, p.value_end - p.value_begin), p.value);
      replacement = std::string(kMask);
    } else if (p.key == "dbname") {
      replacement = masked_dbname(p, out);
    }
    if (!replacement) continue;
    out.masked.append(s.substr(copied, p.value_begin - copied));
    out.masked += *replacement;
    copied = p.value_end;
  }
  out.masked.append(s.substr(copied));
  return out;
}

// Where libpq ends the userinfo: at the first '@' when no '/' comes first.
std::size_t libpq_userinfo_end(std::string_view rest) {
  const auto stop = rest.find_first_of("@/");
  return stop != std::string_view::npos && rest[stop] == '@' ? stop : std::string_view::npos;
}

// Where masking ends it: the last '@' before the first '?', so that an
// unencoded '@' or '/' in the password is masked with it; else libpq's end
// (a '?' in the password).
std::size_t masked_userinfo_end(std::string_view rest) {
  const auto at = rest.substr(0, rest.find('?')).rfind('@');
  return at != std::string_view::npos ? at : libpq_userinfo_end(rest);
}

std::optional<std::string> check_hosts(std::string_view hosts) {
  std::size_t start = 0;
  while (start <= hosts.size()) {
    auto end = hosts.find(',', start);
    if (end == std::string_view::npos) end = hosts.size();
    const auto h = hosts.substr(start, end - start);
    if (h.find('@') != std::string_view::npos) return "an unencoded '@' in the URI's host: percent-encode it (%40)";
    if (!h.empty() && h.front() == '[') {
      const auto close = h.find(']');
      if (close == std::string_view::npos) return "unterminated IPv6 address in the URI's host";
      if (close == 1) return "empty IPv6 address in the URI's host";
      if (close + 1 < h.size() && h[close + 1] != ':') return "unexpected character after an IPv6 address in the URI";
    }
    start = end + 1;
  }
  return std::nullopt;
}

// Masks and checks the query: key=value pairs joined by '&'.
std::string masked_query(std::string_view query, DsnInspection& out) {
  std::string masked;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const auto param = query.substr(start, end - start);
    const auto eq = param.find('=');
    if (start > 0) masked += '&';
    if (eq == std::string_view::npos || param.find('=', eq + 1) != std::string_view::npos) {
      out.problem = "a URI query parameter without exactly one '='";
      add_secret(out, param, std::nullopt);  // unreadable: it might be the password
      masked += kMask;
    } else {
      const auto key = percent_decode(param.substr(0, eq));
      const auto raw = param.substr(eq + 1);
      const auto value = percent_decode(raw);
      if (!key || !value) out.problem = "invalid percent-encoding in the URI's query";
      if (!key || is_password_key(*key)) {
        add_secret(out, raw, value);
        masked.append(param.substr(0, eq + 1)).append(kMask);
      } else {
        masked.append(param);
      }
    }
    start = end + 1;
  }
  return masked;
}

// user[:password]@ as masked, checking its percent-encoding.
std::string masked_userinfo(std::string_view userinfo, DsnInspection& out) {
  const auto colon = userinfo.find(':');
  if (!percent_decode(userinfo.substr(0, colon))) out.problem = "invalid percent-encoding in the URI's user name";
  std::string masked(userinfo.substr(0, colon));
  if (colon != std::string_view::npos) {
    const auto raw = userinfo.substr(colon + 1);
    const auto decoded = percent_decode(raw);
    if (!decoded) out.problem = "invalid percent-encoding in the URI's password";
    add_secret(out, raw, decoded);
    masked.append(":").append(kMask);
  }
  return masked + "@";
}

DsnInspection inspect_uri(std::string_view dsn, const std::string& prefix) {
  DsnInspection out;
  const std::string_view rest = dsn.substr(prefix.size());
  const auto at = masked_userinfo_end(rest);
  std::string masked = prefix;
  if (at != std::string_view::npos) masked += masked_userinfo(rest.substr(0, at), out);
  if (at != libpq_userinfo_end(rest))
    out.problem = "the URI's user name or password holds an unencoded '@' or '/': percent-encode it (%40, %2F)";
  const auto after = rest.substr(at == std::string_view::npos ? 0 : at + 1);
  const auto query_at = after.find('?');
  if (auto problem = check_hosts(after.substr(0, after.find_first_of("/?")))) out.problem = *problem;
  masked.append(after.substr(0, query_at));
  if (query_at != std::string_view::npos) masked += "?" + masked_query(after.substr(query_at + 1), out);
  out.valid = out.problem.empty();
  if (out.valid) out.masked = std::move(masked);
  return out;
}

}  // namespace

DsnInspection inspect_dsn(std::string_view dsn) {
  if (auto prefix = uri_prefix(dsn)) return inspect_uri(dsn, *prefix);
  return inspect_keywords(dsn);
}

std::string mask_dsn(const std::string& dsn) {
  auto r = inspect_dsn(dsn);
  return r.valid ? r.masked : "(hidden: not a valid libpq connection string)";
}

}  // namespace hubsync::config
