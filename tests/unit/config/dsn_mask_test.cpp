// Every way libpq accepts a password in a connection string, given every way
// hubsync accepts a DSN: the password never reaches `config check`'s text,
// and host, user and dbname still do.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config/config.h"
#include "tests/unit/config/config_fixture.h"

namespace hubsync::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct DsnCase {
  const char* name;
  std::string dsn;
  std::vector<std::string> secrets;  ///< none of these may be shown
  std::vector<std::string> shown;    ///< all of these must be shown
};

std::vector<DsnCase> dsn_cases() {
  return {
      {"keyword", "host=db.internal password=s3cr3t-kw user=app dbname=crm", {"s3cr3t-kw"},
       {"host=db.internal", "user=app", "dbname=crm"}},
      {"keyword_spaces_around_equals", "host=db.internal password = s3cr3t-sp user=app dbname=crm",
       {"s3cr3t-sp"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"keyword_space_before_equals", "host=db.internal password =s3cr3t-sb user=app dbname=crm",
       {"s3cr3t-sb"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"keyword_tabs", "host=db.internal\tpassword\t=\ts3cr3t-tab\tuser=app dbname=crm",
       {"s3cr3t-tab"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"quoted_with_escapes_and_spaces", R"(host=db.internal password='se cr\'et \\x' user=app dbname=crm)",
       {"se cr", "cr\\'et", "et \\\\x", "\\\\x'"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"quoted_spaces_around_equals", R"(host=db.internal password = 'q s3cr3t' user=app dbname=crm)",
       {"q s3cr3t", "s3cr3t"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"unquoted_escaped_space", R"(host=db.internal password=esc7\ s3cr3t user=app dbname=crm)",
       {"esc7", "s3cr3t"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"password_first", "password=first-s3cr3t host=db.internal user=app dbname=crm",
       {"first-s3cr3t"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"password_last", "host=db.internal user=app dbname=crm password=last-s3cr3t",
       {"last-s3cr3t"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"sslpassword", "host=db.internal sslpassword=key-s3cr3t user=app dbname=crm",
       {"key-s3cr3t"}, {"host=db.internal", "user=app", "dbname=crm"}},
      {"uri_userinfo", "postgresql://appuser:uri-s3cr3t@db.internal:5432/crm", {"uri-s3cr3t"},
       {"postgresql://appuser:****@db.internal:5432/crm"}},
      {"uri_short_scheme", "postgres://appuser:short-s3cr3t@db.internal/crm", {"short-s3cr3t"},
       {"postgres://appuser:****@db.internal/crm"}},
      {"uri_percent_encoded", "postgresql://appuser:p%40ss%2Fw%3Ard@db.internal/crm?sslmode=require",
       {"p%40ss", "p@ss", "ss%2Fw", "w%3Ard", "ss/w"}, {"appuser:****@db.internal/crm?sslmode=require"}},
      {"uri_query_password", "postgresql://db.internal/crm?user=appuser&password=q-s3cr3t", {"q-s3cr3t"},
       {"postgresql://db.internal/crm?user=appuser&password=****"}},
      {"uri_query_password_first", "postgresql://db.internal/crm?password=qf-s3cr3t&user=appuser",
       {"qf-s3cr3t"}, {"postgresql://db.internal/crm?password=****&user=appuser"}},
      {"uri_query_encoded_key", "postgresql://db.internal/crm?user=appuser&pass%77ord=enc-s3cr3t",
       {"enc-s3cr3t"}, {"postgresql://db.internal/crm?user=appuser&pass%77ord="}},
      {"uri_both", "postgresql://appuser:both-one@db.internal/crm?password=both-two", {"both-one", "both-two"},
       {"postgresql://appuser:****@db.internal/crm?password="}},
      {"uri_multi_host", "postgresql://appuser:mh-s3cr3t@db1.internal:5432,db2.internal:5433/crm",
       {"mh-s3cr3t"}, {"appuser:****@db1.internal:5432,db2.internal:5433/crm"}},
  };
}

class DsnMask : public ConfigFixture {
 protected:
  // `config check`'s text: the rendering and every issue.
  std::string check(const std::string& yaml) {
    auto r = load_config(write("hubsync.yaml", yaml), env());
    return render_masked(r.config) + all_issues(r);
  }
  static std::string yaml_single_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

};

void expect_masked(const std::string& out, const DsnCase& c, const std::string& how) {
  for (const auto& s : c.secrets) EXPECT_THAT(out, Not(HasSubstr(s))) << c.name << " via " << how;
  for (const auto& s : c.shown) EXPECT_THAT(out, HasSubstr(s)) << c.name << " via " << how;
}

TEST_F(DsnMask, EveryFormInlineEnvFileAndOverride) {
  const std::string token = "postgres: {}\nhubspot: {token_env: T}\n";
  env_["T"] = "pat-token";
  for (const auto& c : dsn_cases()) {
    expect_masked(check("postgres:\n  dsn: " + yaml_single_quoted(c.dsn) + "\nhubspot: {token_env: T}\n"), c,
                  "inline dsn");
    env_["PG_DSN"] = c.dsn;
    expect_masked(check("postgres: {dsn_env: PG_DSN}\nhubspot: {token_env: T}\n"), c, "dsn_env");
    env_.erase("PG_DSN");
    write("dsn", c.dsn + "\n");
    expect_masked(check("postgres: {dsn_file: dsn}\nhubspot: {token_env: T}\n"), c, "dsn_file");
    env_["HUBSYNC_POSTGRES_DSN"] = c.dsn;
    expect_masked(check(token), c, "HUBSYNC_POSTGRES_DSN");
    env_.erase("HUBSYNC_POSTGRES_DSN");
  }
}

TEST_F(DsnMask, MaskDsnKeepsEverythingButThePassword) {
  EXPECT_EQ(mask_dsn("host=db password = s3cret user=app"), "host=db password = **** user=app");
  EXPECT_EQ(mask_dsn(R"(host=db password='a b\'c' user=app)"), "host=db password=**** user=app");
  EXPECT_EQ(mask_dsn(R"(password=x\ y dbname=crm)"), "password=**** dbname=crm");
  EXPECT_EQ(mask_dsn("postgres://app:secret@db/crm"), "postgres://app:****@db/crm");
  EXPECT_EQ(mask_dsn("postgresql://db/crm?password=zz&user=app"), "postgresql://db/crm?password=****&user=app");
  EXPECT_EQ(mask_dsn("postgresql://app@db/crm"), "postgresql://app@db/crm");
  EXPECT_EQ(mask_dsn("host=/tmp dbname=crm"), "host=/tmp dbname=crm");
}

// libpq would refuse these (and quote them in its error): hubsync says what
// is wrong without showing any of it, and refuses the configuration.
TEST_F(DsnMask, UnreadableDsnIsAnErrorAndHiddenWhole) {
  env_["T"] = "pat-token";
  for (const std::string dsn : {"postgresql://app:at@s3cr3t@db.internal/crm", "postgresql://app:p%zzs3cr3t@db.internal/crm",
                                "postgresql://app:s3cr3t@[::1/crm", "postgresql://db.internal/crm?password&s3cr3t",
                                "POSTGRESQL://app:s3cr3t@db.internal/crm", "host=db.internal s3cr3t user=app",
                                "host=db.internal password='s3cr3t user=app", "host=db.internal password s3cr3t"}) {
    env_["PG_DSN"] = dsn;
    auto r = load_config(write("hubsync.yaml", "postgres: {dsn_env: PG_DSN}\nhubspot: {token_env: T}\n"), env());
    const std::string out = render_masked(r.config) + all_issues(r);
    EXPECT_FALSE(r.ok()) << dsn;
    EXPECT_THAT(out, HasSubstr("postgres.dsn")) << dsn;
    EXPECT_THAT(out, Not(HasSubstr("s3cr3t"))) << dsn << "\n" << out;
  }
}

TEST_F(DsnMask, PgPasswordFromTheEnvironmentIsNeverShown) {
  env_["PGPASSWORD"] = "env-pg-s3cr3t";
  env_["T"] = "pat-token";
  const auto out = check("postgres: {dsn: 'host=db.internal user=app dbname=crm'}\nhubspot: {token_env: T}\n");
  EXPECT_THAT(out, Not(HasSubstr("env-pg-s3cr3t")));
  EXPECT_THAT(out, HasSubstr("from PGPASSWORD"));
  EXPECT_THAT(out, HasSubstr("host=db.internal user=app dbname=crm"));
}

}  // namespace
}  // namespace hubsync::config
