#include "engine/config/urls.h"

#include <algorithm>
#include <cctype>

namespace hubsync::config {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::optional<std::string_view> strip_scheme(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"})
    if (lower(url.substr(0, scheme.size())) == scheme) return url.substr(scheme.size());
  return std::nullopt;
}

bool is_decimal_octet(std::string_view part) {
  if (part.empty() || part.size() > 3) return false;
  if (!std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  return std::stoi(std::string(part)) <= 255;
}

bool is_loopback_ipv4(std::string_view host) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const auto dot = host.find('.', start);
    const auto part = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_decimal_octet(part)) return false;
    if (parts++ == 0 && part != "127") return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

// "api" or "api-<dc>" of <x>.hubapi.com -> the matching app host.
std::optional<std::string> hubspot_app_host(const std::string& host) {
  constexpr std::string_view kApiDomain = ".hubapi.com";
  if (host.size() <= kApiDomain.size() || host.substr(host.size() - kApiDomain.size()) != kApiDomain)
    return std::nullopt;
  const std::string label = host.substr(0, host.size() - kApiDomain.size());
  if (label == "api") return "app.hubspot.com";
  if (label.rfind("api-", 0) != 0 || label.size() == 4) return std::nullopt;
  const std::string dc = label.substr(4);
  if (!std::all_of(dc.begin(), dc.end(), [](unsigned char c) { return std::isalnum(c); })) return std::nullopt;
  return "app-" + dc + ".hubspot.com";
}

}  // namespace

std::optional<std::string> url_host(std::string_view url) {
  auto rest = strip_scheme(url);
  if (!rest) return std::nullopt;
  auto authority = rest->substr(0, rest->find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  if (host.empty()) return std::nullopt;
  return lower(host);
}

bool is_loopback_url(std::string_view url) {
  const auto host = url_host(url);
  return host && (*host == "localhost" || *host == "::1" || is_loopback_ipv4(*host));
}

bool insecure_http_in_use(const HubSpotConfig& hubspot) {
  return lower(hubspot.base_url.substr(0, 7)) == "http://" && !is_loopback_url(hubspot.base_url);
}

std::optional<std::string> derive_authorize_url(std::string_view base_url) {
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (is_loopback_url(base)) return base + "/oauth/authorize";
  const auto host = url_host(base);
  if (!host) return std::nullopt;
  const auto app = hubspot_app_host(*host);
  if (!app) return std::nullopt;
  return "https://" + *app + "/oauth/authorize";
}

std::string mask_url_userinfo(std::string_view url) {
  const auto rest = strip_scheme(url);
  if (!rest) return std::string(url);
  const auto authority = rest->substr(0, rest->find_first_of("/?#"));
  const auto at = authority.rfind('@');
  const auto colon = authority.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) return std::string(url);
  const auto start = static_cast<std::size_t>(rest->data() - url.data()) + colon + 1;
  return std::string(url.substr(0, start)) + "****" + std::string(url.substr(start + (at - colon - 1)));
}

std::optional<std::string> authorize_url(const HubSpotConfig& hubspot) {
  if (!hubspot.authorize_url.empty()) return hubspot.authorize_url;
  return derive_authorize_url(hubspot.base_url);
}

}  // namespace hubsync::config

namespace hubsync::config {

std::string actions_base_url(const Config& c) {
  if (!c.actions.public_url.empty()) return c.actions.public_url;
  const std::string& w = c.webhook.public_url;
  if (w.empty()) return "";
  const auto scheme_end = w.find("://");
  if (scheme_end == std::string::npos) return "";
  const auto path_start = w.find('/', scheme_end + 3);
  return (path_start == std::string::npos ? w : w.substr(0, path_start)) + c.actions.path;
}

}  // namespace hubsync::config
