// hubspot.base_url: which hosts may be reached over plain http, and the
// OAuth consent page that goes with each API host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>


#include "engine/config/config.h"
#include "engine/config/urls.h"
#include "tests/unit/config/config_fixture.h"

namespace hubsync::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(LoopbackUrl, OnlyLoopbackHostsCount) {
  for (const char* url : {"http://127.0.0.1:8080", "http://127.0.0.1", "http://127.1.2.3:1/x", "http://localhost:9",
                          "http://LOCALHOST", "http://[::1]:8080", "http://[::1]/api", "http://127.0.0.1?x=1"})
    EXPECT_TRUE(is_loopback_url(url)) << url;
  for (const char* url : {"http://127.0.0.1.evil.example", "http://localhost.evil.example", "http://127.0.0.1@evil.example",
                          "http://evil.example/127.0.0.1", "http://[::2]", "http://0.0.0.0:80", "http://10.0.0.1",
                          "http://128.0.0.1", "http://127.0.0.256", "http://127.0.0", "http://api.hubapi.com", "http://",
                          "http://[::1"})
    EXPECT_FALSE(is_loopback_url(url)) << url;
}

TEST(AuthorizeUrl, DerivedFromTheApiHost) {
  struct Row {
    const char* base;
    std::optional<std::string> authorize;
  };
  const Row table[] = {
      {"https://api.hubapi.com", "https://app.hubspot.com/oauth/authorize"},
      {"https://API.HubApi.com", "https://app.hubspot.com/oauth/authorize"},
      {"https://api-eu1.hubapi.com", "https://app-eu1.hubspot.com/oauth/authorize"},
      {"https://api-na2.hubapi.com", "https://app-na2.hubspot.com/oauth/authorize"},
      {"https://api.hubapi.com:443", "https://app.hubspot.com/oauth/authorize"},
      {"http://127.0.0.1:41234", "http://127.0.0.1:41234/oauth/authorize"},
      {"http://localhost:8080", "http://localhost:8080/oauth/authorize"},
      {"http://[::1]:8080", "http://[::1]:8080/oauth/authorize"},
      {"https://hubspot-proxy.example.com", std::nullopt},
      {"https://api.hubapi.com.evil.example", std::nullopt},
      {"https://api-eu1.hubapi.com.evil.example", std::nullopt},
      {"https://evil-api.hubapi.com", std::nullopt},
  };
  for (const auto& row : table) EXPECT_EQ(derive_authorize_url(row.base), row.authorize) << row.base;
}

class HubSpotUrlConfig : public ConfigFixture {
 protected:
  void SetUp() override {
    ConfigFixture::SetUp();
    env_["T"] = "value-of-T";
    env_["S"] = "value-of-S";
  }
  LoadResult load(const std::string& hubspot_lines) {
    return load_config(write("hubsync.yaml", "postgres: {dsn: 'host=/tmp'}\nhubspot:\n" + hubspot_lines), env());
  }
};

TEST_F(HubSpotUrlConfig, PlainHttpToARemoteHostIsAnErrorAtItsLine) {
  auto r = load("  token_env: T\n  base_url: http://hubspot-proxy.example.com\n");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(all_issues(r), HasSubstr("hubsync.yaml:4:13: error: hubspot.base_url: "));
  EXPECT_THAT(all_issues(r), HasSubstr("hubspot.allow_insecure_http: true"));
}

TEST_F(HubSpotUrlConfig, AllowInsecureHttpTurnsTheErrorIntoAWarning) {
  auto r = load("  token_env: T\n  base_url: http://hubspot-proxy.example.com\n  allow_insecure_http: true\n");
  EXPECT_TRUE(r.ok()) << all_issues(r);
  EXPECT_TRUE(r.config.hubspot.allow_insecure_http);
  EXPECT_THAT(all_issues(r), HasSubstr("warning: hubspot.allow_insecure_http"));
  EXPECT_THAT(all_issues(r), HasSubstr("unencrypted"));
  EXPECT_THAT(render_masked(r.config), HasSubstr("hubspot.allow_insecure_http = true"));
  EXPECT_TRUE(insecure_http_in_use(r.config.hubspot));
}

TEST_F(HubSpotUrlConfig, LoopbackHttpAndHttpsNeedNoFlag) {
  for (const char* base : {"http://127.0.0.1:8080", "http://localhost:1", "https://api.hubapi.com",
                           "https://hubspot-proxy.example.com"}) {
    auto r = load(std::string("  token_env: T\n  base_url: '") + base + "'\n");
    EXPECT_TRUE(r.ok()) << base << "\n" << all_issues(r);
    EXPECT_THAT(all_issues(r), Not(HasSubstr("unencrypted"))) << base;
    EXPECT_FALSE(insecure_http_in_use(r.config.hubspot)) << base;
  }
  auto bad = load("  token_env: T\n  allow_insecure_http: maybe\n");
  EXPECT_THAT(all_issues(bad), HasSubstr("hubspot.allow_insecure_http: 'maybe' is not true or false"));
}

TEST_F(HubSpotUrlConfig, ExplicitAuthorizeUrlWinsAndOAuthNeedsOne) {
  const std::string oauth = "  auth: oauth\n  client_id: c\n  client_secret_env: S\n";
  auto eu = load(oauth + "  base_url: https://api-eu1.hubapi.com\n");
  ASSERT_TRUE(eu.ok()) << all_issues(eu);
  EXPECT_EQ(authorize_url(eu.config.hubspot), "https://app-eu1.hubspot.com/oauth/authorize");
  EXPECT_THAT(render_masked(eu.config), HasSubstr("https://app-eu1.hubspot.com/oauth/authorize"));

  auto explicit_url = load(oauth + "  base_url: https://api-eu1.hubapi.com\n"
                                   "  authorize_url: https://sso.example.com/oauth/authorize\n");
  ASSERT_TRUE(explicit_url.ok()) << all_issues(explicit_url);
  EXPECT_EQ(authorize_url(explicit_url.config.hubspot), "https://sso.example.com/oauth/authorize");

  auto proxy = load(oauth + "  base_url: https://hubspot-proxy.example.com\n");
  EXPECT_FALSE(proxy.ok());
  EXPECT_THAT(all_issues(proxy), HasSubstr("error: hubspot.authorize_url: "));

  auto not_url = load(oauth + "  authorize_url: app.hubspot.com\n");
  EXPECT_THAT(all_issues(not_url), HasSubstr("hubspot.authorize_url: 'app.hubspot.com' is not an http(s) URL"));
}

}  // namespace
}  // namespace hubsync::config
