#include "connectors/hubspot/oauth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"

namespace hubsync::hubspot {

namespace {

model::Result<OAuthTokens> token_call(HttpTransport& transport, const OAuthApp& app,
                                      const std::string& form, ratelimit::Clock& clock,
                                      const char* op) {
  HttpRequest req;
  req.method = HttpMethod::post;
  req.url = app.api_base + "/oauth/v1/token";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded;charset=utf-8"},
                 {"Accept", "application/json"}};
  req.body = form;
  auto r = transport.send(req);
  if (!r.ok()) return std::move(r).error();
  if (r->status != 200) {
    auto api = parse_api_error(r->status, r->body);
    // A refused code or refresh token is an auth problem, not a bad record:
    // say what was refused and what to do (HubSpot's own message is not
    // quoted; its status word, e.g. BAD_REFRESH_TOKEN, is).
    if (r->status == 400 || r->status == 401 || r->status == 403) {
      std::string word;
      try {
        word = json::get_string(json::parse(r->body), "status");
      } catch (const JsonError&) {
      }
      const bool refresh = std::string_view(op).find("refresh") != std::string_view::npos;
      auto e = model::make_error(
          model::ErrorKind::auth,
          std::string(op) + ": HubSpot refused the " + (refresh ? "refresh token" : "authorization code") +
              " (HTTP " + std::to_string(r->status) + (word.empty() ? "" : " " + word) +
              (api.correlation_id.empty() ? "" : ", correlation_id=" + api.correlation_id) + "): " +
              (refresh ? "it was revoked (the app uninstalled or its access removed) or has expired; "
                       : "it was already used, has expired or belongs to another redirect URI; ") +
              "run `hubsync auth login` to authorise again");
      e.category = word;
      return e;
    }
    return to_error(api, op);
  }
  try {
    auto d = json::parse(r->body);
    OAuthTokens t;
    t.access_token = json::get_string(d, "access_token");
    t.refresh_token = json::get_string(d, "refresh_token");
    // HubSpot says 1800; anything outside a second to a year is read as
    // that bound (an absurd value must not overflow the arithmetic below).
    const std::int64_t expires_in = std::clamp<std::int64_t>(json::get_int(d, "expires_in", 1800), 1, 365 * 86400);
    t.issued_at_ms = clock.wall_ms();
    t.expires_at_ms = t.issued_at_ms + expires_in * 1000;
    t.hub_id = json::get_int(d, "hub_id");
    if (const auto* sc = json::member(d, "scopes"); sc && sc->IsArray())
      for (const auto& s : sc->GetArray())
        if (s.IsString()) t.scopes.emplace_back(s.GetString());
    if (t.access_token.empty())
      return model::make_error(model::ErrorKind::auth, std::string(op) + ": no access_token in response");
    return t;
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string(op) + ": bad response: " + ex.what());
  }
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      unsigned v = 0;
      if (std::sscanf(std::string(s.substr(i + 1, 2)).c_str(), "%2x", &v) == 1) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    auto eq = part.find('=');
    if (part.substr(0, eq) == name) return eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string random_state() {
  unsigned char buf[16];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : buf) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string authorize_url(const OAuthApp& app, const std::string& state) {
  std::string scopes;
  for (const auto& s : app.scopes) scopes += (scopes.empty() ? "" : " ") + s;
  return app.authorize_base + "?client_id=" + url_encode(app.client_id) + "&scope=" + url_encode(scopes) +
         "&redirect_uri=" + url_encode(app.redirect_uri) + "&state=" + url_encode(state);
}

model::Result<OAuthTokens> exchange_code(HttpTransport& transport, const OAuthApp& app,
                                         const std::string& code, ratelimit::Clock& clock) {
  const std::string form = "grant_type=authorization_code&client_id=" + url_encode(app.client_id) +
                           "&client_secret=" + url_encode(app.client_secret) +
                           "&redirect_uri=" + url_encode(app.redirect_uri) + "&code=" + url_encode(code);
  return token_call(transport, app, form, clock, "oauth.exchange_code");
}

model::Result<OAuthTokens> refresh_tokens(HttpTransport& transport, const OAuthApp& app,
                                          const std::string& refresh_token, ratelimit::Clock& clock) {
  const std::string form = "grant_type=refresh_token&client_id=" + url_encode(app.client_id) +
                           "&client_secret=" + url_encode(app.client_secret) +
                           "&redirect_uri=" + url_encode(app.redirect_uri) +
                           "&refresh_token=" + url_encode(refresh_token);
  auto r = token_call(transport, app, form, clock, "oauth.refresh");
  if (r.ok() && r->refresh_token.empty()) r->refresh_token = refresh_token;
  return r;
}

model::Result<TokenInfo> access_token_info(HttpTransport& transport, const std::string& api_base,
                                           const std::string& access_token) {
  HttpRequest req;
  req.url = api_base + "/oauth/v1/access-tokens/" + url_encode(access_token);
  req.headers = {{"Accept", "application/json"}};
  auto r = transport.send(req);
  if (!r.ok()) return std::move(r).error();
  if (r->status != 200) return response_error(*r, "oauth.token_info");
  try {
    auto d = json::parse(r->body);
    TokenInfo info;
    info.hub_id = json::get_int(d, "hub_id");
    info.hub_domain = json::get_string(d, "hub_domain");
    info.user = json::get_string(d, "user");
    info.expires_in_s = json::get_int(d, "expires_in");
    if (const auto* sc = json::member(d, "scopes"); sc && sc->IsArray())
      for (const auto& s : sc->GetArray())
        if (s.IsString()) info.scopes.emplace_back(s.GetString());
    return info;
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string("oauth.token_info: ") + ex.what());
  }
}

model::Status revoke_refresh_token(HttpTransport& transport, const std::string& api_base,
                                   const std::string& refresh_token) {
  HttpRequest req;
  req.method = HttpMethod::del;
  req.url = api_base + "/oauth/v1/refresh-tokens/" + url_encode(refresh_token);
  auto r = transport.send(req);
  if (!r.ok()) return std::move(r).error();
  if (r->status != 204 && r->status != 200) return response_error(*r, "oauth.revoke");
  return {};
}

model::Result<RedirectResult> wait_for_redirect(int port, const std::string& expected_state,
                                                std::chrono::milliseconds timeout) {
  Fd srv;
  srv.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (srv.fd < 0) return model::make_error(model::ErrorKind::transient, "oauth.listen: socket failed");
  int one = 1;
  ::setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::bind(srv.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(srv.fd, 4) != 0)
    return model::make_error(model::ErrorKind::fatal, "oauth.listen: cannot listen on 127.0.0.1:" + std::to_string(port));
  pollfd p{srv.fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
    return model::make_error(model::ErrorKind::transient, "oauth.listen: no redirect before timeout");
  Fd conn;
  conn.fd = ::accept(srv.fd, nullptr, nullptr);
  if (conn.fd < 0) return model::make_error(model::ErrorKind::transient, "oauth.listen: accept failed");
  std::string request;
  char buf[4096];
  while (request.find("\r\n") == std::string::npos && request.size() < 16384) {
    pollfd q{conn.fd, POLLIN, 0};
    if (::poll(&q, 1, 5000) <= 0) break;
    const auto n = ::recv(conn.fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    request.append(buf, static_cast<std::size_t>(n));
  }
  const std::string_view line = std::string_view(request).substr(0, request.find("\r\n"));
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  std::string_view target = sp1 == std::string_view::npos ? std::string_view() : line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = target.find('?');
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  RedirectResult res{query_param(query, "code"), query_param(query, "state")};
  const std::string error = query_param(query, "error");
  const bool state_ok = res.state.size() == expected_state.size() &&
                        CRYPTO_memcmp(res.state.data(), expected_state.data(), expected_state.size()) == 0;
  const bool ok = error.empty() && state_ok && !res.code.empty();
  const std::string page = ok ? "hubsync: authorized. You can close this window.\n"
                              : "hubsync: authorization failed. Return to the terminal.\n";
  const std::string resp = std::string(ok ? "HTTP/1.1 200 OK" : "HTTP/1.1 400 Bad Request") +
                           "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                           std::to_string(page.size()) + "\r\n\r\n" + page;
  (void)::send(conn.fd, resp.data(), resp.size(), MSG_NOSIGNAL);
  if (!error.empty()) return model::make_error(model::ErrorKind::auth, "oauth: authorization refused: " + error);
  if (!state_ok) return model::make_error(model::ErrorKind::auth, "oauth: state mismatch on redirect");
  if (res.code.empty()) return model::make_error(model::ErrorKind::auth, "oauth: redirect carried no code");
  return res;
}

OAuthTokenProvider::OAuthTokenProvider(HttpTransport& transport, OAuthApp app, TokenStore& store,
                                       std::string portal, ratelimit::Clock& clock,
                                       std::shared_ptr<spdlog::logger> log,
                                       std::chrono::milliseconds refresh_margin)
    : transport_(transport),
      app_(std::move(app)),
      store_(store),
      portal_(std::move(portal)),
      clock_(clock),
      log_(log ? std::move(log) : spdlog::default_logger()),
      margin_(refresh_margin) {}

model::Status OAuthTokenProvider::load_locked() {
  if (loaded_) return {};
  auto r = store_.load(portal_);
  if (!r.ok()) return std::move(r).error();
  if (!r->has_value())
    return model::make_error(model::ErrorKind::auth,
                             "oauth: no tokens stored for portal=" + portal_ + "; run `hubsync auth login`");
  tokens_ = **r;
  loaded_ = true;
  return {};
}

bool OAuthTokenProvider::due_locked() const {
  const std::int64_t lifetime = std::max<std::int64_t>(0, tokens_.expires_at_ms - tokens_.issued_at_ms);
  const std::int64_t margin = std::min<std::int64_t>(margin_.count(), lifetime / 5);
  return tokens_.access_token.empty() || clock_.wall_ms() >= tokens_.expires_at_ms - margin;
}

model::Status OAuthTokenProvider::refresh_locked(const char* why) {
  if (tokens_.refresh_token.empty())
    return model::make_error(model::ErrorKind::auth, "oauth: no refresh token for portal=" + portal_);
  model::Result<OAuthTokens> r = model::make_error(model::ErrorKind::transient, "oauth: not tried");
  for (int attempt = 0; attempt < 4; ++attempt) {
    r = refresh_tokens(transport_, app_, tokens_.refresh_token, clock_);
    if (r.ok() || !r.error().retryable()) break;
    log_->warn("oauth refresh retry portal={} attempt={} error={}", portal_, attempt + 1, loggable(r.error()));
    clock_.sleep_for(std::chrono::milliseconds(500 * (1 << attempt)));
  }
  if (!r.ok()) {
    log_->error("oauth refresh failed portal={} why={} error={}", portal_, why, loggable(r.error()));
    return std::move(r).error();
  }
  OAuthTokens fresh = std::move(r).value();
  if (fresh.hub_id == 0) fresh.hub_id = tokens_.hub_id;
  if (fresh.scopes.empty()) fresh.scopes = tokens_.scopes;
  // Persist first: if HubSpot rotated the refresh token, the old one may
  // already be dead, and a crash after using the new one unsaved would
  // leave the portal unauthorised.
  if (auto s = store_.save(portal_, fresh); !s.ok()) {
    log_->error("oauth refreshed tokens not saved portal={} error={}", portal_, s.error().message);
    return s;
  }
  tokens_ = std::move(fresh);
  ++refreshes_;
  log_->info("oauth refreshed portal={} why={} expires_in_s={}", portal_, why,
             (tokens_.expires_at_ms - clock_.wall_ms()) / 1000);
  return {};
}

model::Result<std::string> OAuthTokenProvider::access_token() {
  std::lock_guard lock(mu_);
  if (auto s = load_locked(); !s.ok()) return std::move(s).error();
  if (due_locked()) {
    if (auto s = refresh_locked("proactive"); !s.ok()) {
      // A still-valid token is better than none when the refresh is only early.
      if (clock_.wall_ms() < tokens_.expires_at_ms && s.error().retryable()) return tokens_.access_token;
      return std::move(s).error();
    }
  }
  return tokens_.access_token;
}

model::Status OAuthTokenProvider::on_expired(const std::string& failed_token) {
  std::lock_guard lock(mu_);
  if (auto s = load_locked(); !s.ok()) return s;
  if (tokens_.access_token != failed_token) return {};  // another worker refreshed already
  return refresh_locked("expired");
}

int OAuthTokenProvider::refreshes() const {
  std::lock_guard lock(mu_);
  return refreshes_;
}

}  // namespace hubsync::hubspot
