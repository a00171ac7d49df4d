#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config/config.h"
#include "tests/unit/config/config_fixture.h"

namespace hubsync::config {
namespace {

using ::testing::HasSubstr;

using ConfigTest = ConfigFixture;

constexpr const char* kSecretToken = "pat-na1-SECRET-4242-token";
constexpr const char* kSecretPassword = "s3cr3t-pw";

TEST_F(ConfigTest, ValidConfigResolvesSecretsFromEnvAndFile) {
  env_["PG_DSN"] = std::string("postgresql://app:") + kSecretPassword + "@db.internal:5432/app";
  write("token", std::string(kSecretToken) + "\n");
  auto path = write("hubsync.yaml", R"(
postgres:
  dsn_env: PG_DSN
hubspot:
  portal_id: 62515
  token_file: token
rate_limit:
  tier: 190
  headroom: 0.1
state:
  path: state/hubsync.db
)");
  auto r = load_config(path, env());
  ASSERT_TRUE(r.ok()) << all_issues(r);
  EXPECT_EQ(r.config.hubspot.token.value, kSecretToken);
  EXPECT_EQ(r.config.rate_limit.tier, 190);
  EXPECT_EQ(r.config.rate_limit.daily_limit, 625000);
  EXPECT_EQ(r.config.state.path, (dir_ / "state/hubsync.db").string());
  EXPECT_EQ(r.config.hubspot.portal_id, 62515);

  std::string shown = render_masked(r.config);
  EXPECT_THAT(shown, Not(HasSubstr(kSecretToken)));
  EXPECT_THAT(shown, Not(HasSubstr(kSecretPassword)));
  EXPECT_THAT(shown, HasSubstr("postgresql://app:****@db.internal:5432/app"));
  EXPECT_THAT(shown, HasSubstr("hubspot.token"));
  EXPECT_THAT(shown, HasSubstr("from file"));
}

// A key or a section given twice is an error naming both lines: YAML
// keeps one of the two values and the other would be dropped in silence.
TEST_F(ConfigTest, AKeyOrSectionGivenTwiceIsAnErrorNamingBothLines) {
  env_["TOKEN"] = kSecretToken;
  auto path = write("hubsync.yaml",
                    "postgres: {dsn: 'postgresql://localhost/x'}\n"
                    "hubspot: {token_env: TOKEN}\n"
                    "serve:\n"
                    "  poll_s: 5\n"
                    "  poll_s: 7\n"
                    "rate_limit: {tier: 190}\n"
                    "rate_limit: {headroom: 0.2}\n");
  auto r = load_config(path, env());
  EXPECT_FALSE(r.ok());
  const std::string all = all_issues(r);
  EXPECT_THAT(all, HasSubstr(path + ":5:3: error: serve.poll_s: set twice (first at line 4): keep one"));
  EXPECT_THAT(all, HasSubstr(path + ":7:1: error: rate_limit: section given twice (first at line 6)"));
  auto once = write("once.yaml", "postgres: {dsn: 'postgresql://localhost/x'}\nhubspot: {token_env: TOKEN}\n"
                                 "serve: {poll_s: 7}\n");
  EXPECT_TRUE(load_config(once, env()).ok()) << all_issues(load_config(once, env()));
}

// HUBSYNC_<SECTION>_<KEY> misspelt is ignored like any variable: it is
// warned of, with the nearest setting. A variable the file names for a
// secret, or one that names no section, is the user's own.
TEST_F(ConfigTest, AMisspeltEnvironmentOverrideIsWarnedOfWithTheNearestSetting) {
  env_["TOKEN"] = kSecretToken;
  env_["HUBSYNC_RATE_LIMIT_TEIR"] = "100";
  auto path = write("hubsync.yaml", "postgres: {dsn_env: HUBSYNC_POSTGRES_URL}\nhubspot: {token_env: TOKEN}\n");
  env_["HUBSYNC_POSTGRES_URL"] = "postgresql://localhost/x";
  auto r = load_config(path, env(),
                       {"HUBSYNC_RATE_LIMIT_TEIR", "HUBSYNC_POSTGRES_URL", "HUBSYNC_PG_DSN", "HUBSYNC_LOG_LEVEL", "PATH"});
  ASSERT_TRUE(r.ok()) << all_issues(r);
  const std::string all = all_issues(r);
  EXPECT_THAT(all, HasSubstr("warning: HUBSYNC_RATE_LIMIT_TEIR: not a setting: the environment override is "
                             "ignored (did you mean HUBSYNC_RATE_LIMIT_TIER?)"));
  EXPECT_THAT(all, Not(HasSubstr("HUBSYNC_POSTGRES_URL")));
  EXPECT_THAT(all, Not(HasSubstr("HUBSYNC_PG_DSN")));
  EXPECT_THAT(all, Not(HasSubstr("HUBSYNC_LOG_LEVEL")));
  EXPECT_EQ(r.config.rate_limit.tier, Config{}.rate_limit.tier);
}

TEST_F(ConfigTest, PullSettingsHaveDefaultsAndBounds) {
  env_["TOKEN"] = kSecretToken;
  auto path = write("hubsync.yaml",
                    "postgres: {dsn: 'postgresql://localhost/x'}\n"
                    "hubspot: {token_env: TOKEN}\n"
                    "pull: {overlap_s: 5, association_pass_every_s: 0}\n");
  auto r = load_config(path, env());
  ASSERT_TRUE(r.ok()) << all_issues(r);
  EXPECT_EQ(r.config.pull.overlap_s, 5);
  EXPECT_EQ(r.config.pull.association_pass_every_s, 0);
  EXPECT_EQ(Config{}.pull.overlap_s, 60);
  auto bad = write("bad.yaml", "postgres: {dsn: 'postgresql://localhost/x'}\nhubspot: {token_env: TOKEN}\n"
                               "pull: {overlap_s: -1, overlap: 3}\n");
  auto e = load_config(bad, env());
  EXPECT_FALSE(e.ok());
  EXPECT_THAT(all_issues(e), HasSubstr("pull.overlap_s"));
  EXPECT_THAT(all_issues(e), HasSubstr("did you mean 'overlap_s'?"));
}

// The NOTIFY switch is off unless asked; serve then looks at the changelog
// every change_poll_ms (bounded), and `config show` says which is used.
TEST_F(ConfigTest, NotifyIsOffByDefaultAndTheChangePollHasBounds) {
  env_["TOKEN"] = kSecretToken;
  auto plain = load_config(write("a.yaml", "postgres: {dsn: 'postgresql://localhost/x'}\nhubspot: {token_env: TOKEN}\n"),
                           env());
  ASSERT_TRUE(plain.ok()) << all_issues(plain);
  EXPECT_FALSE(plain.config.postgres.notify);
  EXPECT_EQ(plain.config.serve.change_poll_ms, 200);
  EXPECT_THAT(render_masked(plain.config), HasSubstr("postgres.notify           = false"));
  auto on = load_config(write("b.yaml", "postgres: {dsn: 'postgresql://localhost/x', notify: true}\n"
                                        "hubspot: {token_env: TOKEN}\nserve: {change_poll_ms: 50}\n"),
                        env());
  ASSERT_TRUE(on.ok()) << all_issues(on);
  EXPECT_TRUE(on.config.postgres.notify);
  EXPECT_EQ(on.config.serve.change_poll_ms, 50);
  auto bad = load_config(write("c.yaml", "postgres: {dsn: 'postgresql://localhost/x', notify: yes please}\n"
                                         "hubspot: {token_env: TOKEN}\nserve: {change_poll_ms: 0}\n"),
                         env());
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(all_issues(bad), HasSubstr("postgres.notify: 'yes please' is not true or false"));
  EXPECT_THAT(all_issues(bad), HasSubstr("serve.change_poll_ms"));
}

// A config of the keys given in the postgres section (flow style, after
// dsn) and a token from the environment, loaded from dir/`file`.
class CaptureConfigTest : public ConfigTest {
 protected:
  LoadResult with_postgres(const std::string& file, const std::string& keys) {
    env_["TOKEN"] = kSecretToken;
    return load_config(write(file, "postgres: {dsn: 'postgresql://localhost/x'" + (keys.empty() ? "" : ", " + keys) +
                                       "}\nhubspot: {token_env: TOKEN}\n"),
                       env());
  }
};

// The capture is the trigger unless asked; a logical capture's slot name is
// checked as PostgreSQL would, and `config show` names both.
TEST_F(CaptureConfigTest, CaptureIsTheTriggerUnlessLogicalIsAskedWithAValidSlot) {
  auto plain = with_postgres("a.yaml", "");
  ASSERT_TRUE(plain.ok()) << all_issues(plain);
  EXPECT_FALSE(plain.config.postgres.logical);
  EXPECT_THAT(render_masked(plain.config), HasSubstr("postgres.capture          = trigger"));
  auto on = with_postgres("b.yaml", "capture: logical, slot: crm_1");
  ASSERT_TRUE(on.ok()) << all_issues(on);
  EXPECT_TRUE(on.config.postgres.logical);
  EXPECT_EQ(on.config.postgres.slot, "crm_1");
  EXPECT_THAT(render_masked(on.config), HasSubstr("postgres.slot             = crm_1"));
  auto bad = with_postgres("c.yaml", "capture: wal, slot: Hub-Sync");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(all_issues(bad), HasSubstr("postgres.capture: 'wal' is not one of: trigger, logical"));
  EXPECT_THAT(all_issues(bad), HasSubstr("postgres.slot: 'Hub-Sync' is no replication slot name"));
}

// serve relays the slot by a stream unless postgres.relay says sql; a
// choice the capture makes meaningless (relay with the trigger, NOTIFY
// with logical decoding) is warned about where it was written.
TEST_F(CaptureConfigTest, ServeStreamsTheSlotUnlessRelaySqlAndAKeyWithoutEffectIsWarnedOf) {
  auto stream = with_postgres("a.yaml", "capture: logical");
  ASSERT_TRUE(stream.ok()) << all_issues(stream);
  EXPECT_TRUE(stream.config.postgres.relay_stream);
  EXPECT_THAT(render_masked(stream.config), HasSubstr("postgres.relay            = stream"));
  EXPECT_THAT(all_issues(stream), Not(HasSubstr("no effect")));
  auto sql = with_postgres("b.yaml", "capture: logical, relay: sql");
  ASSERT_TRUE(sql.ok()) << all_issues(sql);
  EXPECT_FALSE(sql.config.postgres.relay_stream);
  EXPECT_THAT(render_masked(sql.config), HasSubstr("postgres.relay            = sql"));
  auto unused = with_postgres("c.yaml", "relay: sql");
  ASSERT_TRUE(unused.ok()) << all_issues(unused);  // a warning, not an error
  EXPECT_THAT(all_issues(unused), HasSubstr("c.yaml:1:52: warning: postgres.relay: has no effect: postgres.capture is trigger"));
  auto notify = with_postgres("d.yaml", "capture: logical, notify: true");
  EXPECT_THAT(all_issues(notify), HasSubstr("postgres.notify: has no effect: postgres.capture is logical"));
  auto bad = with_postgres("e.yaml", "capture: logical, relay: wal");
  EXPECT_THAT(all_issues(bad), HasSubstr("postgres.relay: 'wal' is not one of: stream, sql"));
}

TEST_F(ConfigTest, ThreeMistakesAreAllReportedWithLines) {
  env_["TOKEN"] = kSecretToken;
  auto path = write("hubsync.yaml",
                    "postgres:\n"                      // 1
                    "  dsn: postgresql://localhost/x\n"  // 2
                    "hubspot:\n"                       // 3
                    "  token_env: TOKEN\n"             // 4
                    "  portal_id: abc\n"               // 5
                    "rate_limit:\n"                    // 6
                    "  tier: 150\n"                    // 7
                    "log:\n"                           // 8
                    "  levle: debug\n");               // 9
  auto r = load_config(path, env());
  EXPECT_FALSE(r.ok());
  std::vector<std::string> errors;
  for (const auto& i : r.issues)
    if (i.severity == Severity::error) errors.push_back(i.format());
  ASSERT_EQ(errors.size(), 3u) << all_issues(r);
  EXPECT_THAT(all_issues(r), HasSubstr(path + ":5:14: error: hubspot.portal_id: 'abc' is not an integer"));
  EXPECT_THAT(all_issues(r), HasSubstr(path + ":7:9: error: rate_limit.tier"));
  EXPECT_THAT(all_issues(r), HasSubstr(path + ":9:3: error: log.levle: unknown key (did you mean 'level'?)"));
  EXPECT_THAT(all_issues(r), Not(HasSubstr(kSecretToken)));
}

TEST_F(ConfigTest, AKeyInTheWrongSectionIsNamedWhereItBelongs) {
  env_["TOKEN"] = kSecretToken;
  auto path = write("hubsync.yaml",
                    "postgres: {dsn: 'postgresql://localhost/x'}\n"  // 1
                    "hubspot:\n"                                     // 2
                    "  token_env: TOKEN\n"                           // 3
                    "  tier: 190\n"                                  // 4
                    "  overlap: 30\n"                                // 5
                    "  tokn_env: TOKEN\n");                          // 6
  auto r = load_config(path, env());
  EXPECT_FALSE(r.ok());
  const auto all = all_issues(r);
  EXPECT_THAT(all, HasSubstr(path + ":4:3: error: hubspot.tier: unknown key (did you mean 'rate_limit.tier'?)"));
  EXPECT_THAT(all, HasSubstr("hubspot.overlap: unknown key (did you mean 'pull.overlap_s'?)"));
  // A near spelling in the same section wins over another section's key.
  EXPECT_THAT(all, HasSubstr("hubspot.tokn_env: unknown key (did you mean 'token_env'?)"));
}

TEST_F(ConfigTest, EnvOverridesEveryKeyAndReplacesSecretForms) {
  env_["HUBSYNC_HUBSPOT_TOKEN"] = kSecretToken;
  env_["HUBSYNC_RATE_LIMIT_TIER"] = "250";
  env_["HUBSYNC_POSTGRES_DSN"] = "host=/tmp dbname=x password=hunter2";
  env_["HUBSYNC_LOG_FORMAT"] = "json";
  auto path = write("hubsync.yaml", R"(
postgres:
  dsn_env: NOT_SET_ANYWHERE
hubspot:
  token_env: ALSO_NOT_SET
rate_limit:
  tier: 100
)");
  auto r = load_config(path, env());
  ASSERT_TRUE(r.ok()) << all_issues(r);
  EXPECT_EQ(r.config.rate_limit.tier, 250);
  EXPECT_EQ(r.config.log.format, "json");
  EXPECT_EQ(r.config.hubspot.token.source, "env HUBSYNC_HUBSPOT_TOKEN");
  EXPECT_EQ(mask_dsn(r.config.postgres.dsn.value), "host=/tmp dbname=x password=****");
}

TEST_F(ConfigTest, PullSectionFromFileAndEnv) {
  env_["HUBSYNC_PULL_OVERLAP_S"] = "30";
  auto path = write("hubsync.yaml", R"(
postgres:
  dsn: postgresql://localhost/x
hubspot:
  token: t
pull:
  association_pass_every_s: 0
)");
  auto r = load_config(path, env());
  ASSERT_TRUE(r.ok()) << all_issues(r);
  EXPECT_EQ(r.config.pull.association_pass_every_s, 0);
  EXPECT_EQ(r.config.pull.overlap_s, 30);
}

TEST_F(ConfigTest, BadEnvOverrideNamesTheVariable) {
  env_["HUBSYNC_RATE_LIMIT_TIER"] = "fast";
  env_["T"] = "x";
  auto path = write("hubsync.yaml", "postgres: {dsn: 'host=x'}\nhubspot: {token_env: T}\n");
  auto r = load_config(path, env());
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(all_issues(r), HasSubstr("(from env HUBSYNC_RATE_LIMIT_TIER)"));
}

TEST_F(ConfigTest, MissingRequiredAndUnsetEnvAndDoubleSecret) {
  auto path = write("hubsync.yaml",
                    "hubspot:\n"
                    "  token: abc\n"
                    "  token_env: X\n"
                    "webhook:\n"
                    "  public_url: https://sync.example.com/hook\n");
  auto r = load_config(path, env());
  auto text = all_issues(r);
  EXPECT_THAT(text, HasSubstr("postgres.dsn: required"));
  EXPECT_THAT(text, HasSubstr("hubspot.token: set more than one way"));
  EXPECT_THAT(text, HasSubstr("webhook.client_secret: required when webhook.public_url is set"));
}

TEST_F(ConfigTest, UnsetEnvVarAndUnreadableFileAreErrors) {
  auto path = write("hubsync.yaml",
                    "postgres:\n  dsn_env: NOPE\nhubspot:\n  token_file: /nonexistent/token\n");
  auto r = load_config(path, env());
  auto text = all_issues(r);
  EXPECT_THAT(text, HasSubstr(":2:12: error: postgres.dsn_env: environment variable NOPE is not set"));
  EXPECT_THAT(text, HasSubstr(":4:15: error: hubspot.token_file: cannot read secret file /nonexistent/token"));
  // The failed form is the one report; "required" does not repeat it.
  EXPECT_THAT(text, Not(HasSubstr("required")));
  EXPECT_EQ(r.issues.size(), 2u) << text;
}

TEST_F(ConfigTest, AnEmptyEnvVarIsToldFromAnUnsetOne) {
  env_["HS_TOKEN"] = "";
  env_["PG_DSN"] = "host=db.internal dbname=app";
  auto path = write("hubsync.yaml", "postgres:\n  dsn_env: PG_DSN\nhubspot:\n  token_env: HS_TOKEN\n");
  auto text = all_issues(load_config(path, env()));
  EXPECT_THAT(text, HasSubstr(":4:14: error: hubspot.token_env: environment variable HS_TOKEN is set but empty"));
  EXPECT_THAT(text, Not(HasSubstr("is not set")));
  EXPECT_THAT(text, Not(HasSubstr("postgres.dsn")));
}

TEST_F(ConfigTest, InlineSecretWarnsButWorks) {
  auto path = write("hubsync.yaml", std::string("postgres: {dsn: 'host=x'}\nhubspot: {token: ") +
                                        kSecretToken + "}\n");
  auto r = load_config(path, env());
  EXPECT_TRUE(r.ok()) << all_issues(r);
  EXPECT_THAT(all_issues(r), HasSubstr("warning: hubspot.token: secret written in the config file"));
  EXPECT_THAT(all_issues(r), Not(HasSubstr(kSecretToken)));
}

TEST_F(ConfigTest, MalformedYamlAndMissingFile) {
  auto path = write("hubsync.yaml", "postgres:\n  dsn: [unclosed\n");
  auto r = load_config(path, env());
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(all_issues(r), HasSubstr("invalid YAML"));
  // The cause alone: not "postgres.dsn: required" and the like listed first.
  EXPECT_EQ(r.issues.size(), 1u) << all_issues(r);
  auto missing = load_config((dir_ / "none.yaml").string(), env());
  EXPECT_THAT(all_issues(missing), HasSubstr("config file not found"));
  EXPECT_EQ(missing.issues.size(), 1u) << all_issues(missing);
  // A directory given as the file: reported as such, not a crash (it threw
  // std::ios_base::failure reading it, and every command aborted).
  auto dir = load_config(dir_.string(), env());
  EXPECT_THAT(all_issues(dir), HasSubstr("is a directory"));
  EXPECT_EQ(dir.issues.size(), 1u) << all_issues(dir);
}

TEST_F(ConfigTest, OauthNeedsClientCredentials) {
  auto path = write("hubsync.yaml", "postgres: {dsn: x}\nhubspot:\n  auth: oauth\n");
  auto r = load_config(path, env());
  auto text = all_issues(r);
  EXPECT_THAT(text, HasSubstr("hubspot.client_id: required with auth: oauth"));
  EXPECT_THAT(text, HasSubstr("hubspot.client_secret: required"));
}

TEST(MaskDsn, CoversUriKeywordAndQueryForms) {
  EXPECT_EQ(mask_dsn("postgresql://u:p%40ss@h/db"), "postgresql://u:****@h/db");
  EXPECT_EQ(mask_dsn("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(mask_dsn("host=h password='a b\\' c' user=u"), "host=h password=**** user=u");
  EXPECT_EQ(mask_dsn("postgresql://h/db?user=u&password=zz&sslmode=require"),
            "postgresql://h/db?user=u&password=****&sslmode=require");
}

}  // namespace
}  // namespace hubsync::config
