#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/config/config.h"

namespace hubsync::config {

/// The host of an http(s) URL, lower-cased, without userinfo, port or IPv6
/// brackets; nullopt when there is none.
std::optional<std::string> url_host(std::string_view url);

/// True when `url`'s host is a loopback address: 127.0.0.0/8 (four
/// decimal parts), ::1 or localhost. Anything else, including names that
/// merely start with one of those, is not.
bool is_loopback_url(std::string_view url);

/// True when hubspot.base_url is plain http:// to a host that is not
/// loopback: the bearer token and CRM data then cross the network
/// unencrypted (allowed only with hubspot.allow_insecure_http).
bool insecure_http_in_use(const HubSpotConfig& hubspot);

/// The OAuth consent page that goes with an API base URL:
/// https://api.hubapi.com -> https://app.hubspot.com/oauth/authorize,
/// https://api-<dc>.hubapi.com -> https://app-<dc>.hubspot.com/oauth/authorize
/// (api-eu1 -> app-eu1), a loopback base (the simulator) -> base +
/// /oauth/authorize; nullopt for any other host.
std::optional<std::string> derive_authorize_url(std::string_view base_url);

/// `url` with the password of a user:password@ userinfo replaced by ****.
std::string mask_url_userinfo(std::string_view url);

/// hubspot.authorize_url when set, else derive_authorize_url(base_url).
std::optional<std::string> authorize_url(const HubSpotConfig& hubspot);

}  // namespace hubsync::config
