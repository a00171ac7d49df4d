// Drives the real `hubsync` binary: exit codes, output, and that secrets
// never reach stdout or stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/pg.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "pat-na1-TOPSECRET-0c7e";
constexpr const char* kPassword = "pw-TOPSECRET-41";
constexpr const char* kPeopleToHubSpot =
    "name: people\n"
    "postgres: {table: public.people, key: id}\n"
    "hubspot: {object: contacts, match: email}\n"
    "direction: to_hubspot\n"
    "fields:\n"
    "  - {column: email, property: email}\n"
    "  - {column: name, property: firstname}\n";

struct Output {
  int code = -1;
  std::string out;  // stdout and stderr together
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hubsync-cli-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << text;
  }

  Output run(const std::string& args, const std::string& env = "") {
    std::string cmd = "cd '" + dir_.string() + "' && env " + env + " '" HUBSYNC_BIN "' " + args + " 2>&1";
    Output o;
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    while (auto n = fread(buf.data(), 1, buf.size(), p)) o.out.append(buf.data(), n);
    int status = pclose(p);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
  }

  fs::path dir_;
};

TEST_F(CliTest, ConfigCheckReportsEveryMistakeWithLinesAndExitsNonZero) {
  write("hubsync.yaml",
        "postgres:\n"
        "  dsn_env: PG\n"
        "hubspot:\n"
        "  token_env: TOKEN\n"
        "  base_url: ftp://nope\n"     // 5: not http(s)
        "rate_limit:\n"
        "  tier: 7\n"                  // 7: not a tier
        "webhok:\n"                    // 8: misspelt section
        "  listen: 0.0.0.0:9\n");
  auto o = run("config check", std::string("PG=postgresql://u:") + kPassword + "@h/db TOKEN=" + kToken);
  EXPECT_EQ(o.code, 1) << o.out;
  EXPECT_THAT(o.out, HasSubstr("hubsync.yaml:5:13: error: hubspot.base_url"));
  EXPECT_THAT(o.out, HasSubstr("hubsync.yaml:7:9: error: rate_limit.tier"));
  EXPECT_THAT(o.out, HasSubstr("hubsync.yaml:8:1: error: webhok: unknown section (did you mean 'webhook'?)"));
  EXPECT_THAT(o.out, Not(HasSubstr(kToken)));
  EXPECT_THAT(o.out, Not(HasSubstr(kPassword)));
}

TEST_F(CliTest, ConfigCheckMasksSecretsWhenValid) {
  write("token", kToken);
  write("hubsync.yaml", "postgres: {dsn_env: PG}\nhubspot: {token_file: token}\nlog: {level: debug}\n");
  auto o = run("config check", std::string("PG='host=x password=") + kPassword + "'");
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_THAT(o.out, HasSubstr("password=****"));
  EXPECT_THAT(o.out, HasSubstr("hubspot.token             = **** (from file"));
  EXPECT_THAT(o.out, Not(HasSubstr(kToken)));
  EXPECT_THAT(o.out, Not(HasSubstr(kPassword)));
}

TEST_F(CliTest, HelpListsCommandsAndBadUsageExitsTwo) {
  auto help = run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("migrate"));
  EXPECT_THAT(help.out, HasSubstr("config"));
  EXPECT_EQ(run("no-such-command").code, 2);
}

TEST_F(CliTest, RunWithPostgresUnreachableExits2NamingItWithoutThePassword) {
  write("mappings/people.yaml", kPeopleToHubSpot);
  write("hubsync.yaml", "postgres: {dsn_env: PG}\nhubspot: {token_env: TOKEN}\nmappings: {dir: mappings}\n");
  auto o = run("run --once", std::string("PG=postgresql://app:") + kPassword + "@127.0.0.1:1/none TOKEN=" + kToken);
  EXPECT_EQ(o.code, 2) << o.out;
  EXPECT_THAT(o.out, HasSubstr("run: PostgreSQL unreachable"));
  EXPECT_THAT(o.out, Not(HasSubstr(kPassword)));
  EXPECT_THAT(o.out, Not(HasSubstr(kToken)));
}

TEST_F(CliTest, AMisspeltCommandIsAnErrorEvenWithHelpAfterIt) {
  auto top = run("valdiate --help");
  EXPECT_EQ(top.code, 2) << top.out;
  EXPECT_THAT(top.out, HasSubstr("unknown command 'valdiate' (did you mean 'validate'?)"));
  auto nested = run("--log-level debug dead-letters lsit --help");
  EXPECT_EQ(nested.code, 2) << nested.out;
  EXPECT_THAT(nested.out, HasSubstr("unknown 'dead-letters' command 'lsit' (did you mean 'list'?)"));
  auto unknown = run("nosuch --help");
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  EXPECT_THAT(unknown.out, Not(HasSubstr("did you mean")));
  // Known words, options with values and a command's own arguments pass.
  auto help = run("-c other.yaml dead-letters retry --help");
  EXPECT_EQ(help.code, 0) << help.out;
  EXPECT_THAT(help.out, HasSubstr("Queue dead letters again"));
}

TEST_F(CliTest, GlobalOptionsAreTakenAfterTheCommandToo) {
  write("other.yaml", "postgres: {dsn: 'postgresql://localhost/x'}\nhubspot: {token_env: TOKEN}\nlog: {level: warn}\n");
  auto after = run("config check --config other.yaml", std::string("TOKEN=") + kToken);
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_THAT(after.out, HasSubstr("other.yaml"));
  auto short_form = run("config check -c other.yaml --log-level error", std::string("TOKEN=") + kToken);
  EXPECT_EQ(short_form.code, 0) << short_form.out;
  // hubsync.yaml does not exist here: the option after the command was used.
  EXPECT_THAT(run("config check", std::string("TOKEN=") + kToken).code, 1);
}

TEST_F(CliTest, BashCompletionCompletesCommandsSubcommandsAndChoices) {
  auto script = run("completion bash");
  ASSERT_EQ(script.code, 0) << script.out;
  write("completion.bash", script.out);
  // The script runs in bash as completion would run it.
  auto bash = [&](const std::string& words, int cword) {
    auto o = hubsync::test::run_command("cd '" + dir_.string() + "' && bash -c '. ./completion.bash; COMP_WORDS=(" +
                                        words + "); COMP_CWORD=" + std::to_string(cword) +
                                        "; _hubsync_complete; echo \"${COMPREPLY[*]}\"'");
    EXPECT_EQ(o.code, 0) << o.out;
    return o.out;
  };
  EXPECT_THAT(bash("hubsync dead-letters \"\"", 2), HasSubstr("list retry discard"));
  EXPECT_THAT(bash("hubsync va", 1), HasSubstr("validate"));
  EXPECT_THAT(bash("hubsync -c x.yaml run --direction to_", 5), HasSubstr("to_hubspot to_postgres"));
  EXPECT_THAT(bash("hubsync --config x.yaml run --", 4), HasSubstr("--once"));
  EXPECT_THAT(bash("hubsync conflicts list --", 3), HasSubstr("--json"));
}

TEST_F(CliTest, MigrateInstallsTriggersForTheMappingsAndIsIdempotent) {
  HUBSYNC_REQUIRE_PG(server);
  hubsync::test::TempDatabase db(server);
  db.exec("CREATE TABLE public.people (id int PRIMARY KEY, email text UNIQUE, name text)");
  fs::create_directories(dir_ / "mappings");
  write("mappings/people.yaml",
        "name: people\n"
        "postgres: {table: public.people, key: id}\n"
        "hubspot: {object: contacts, match: email}\n"
        "fields:\n"
        "  - {column: email, property: email}\n"
        "  - {column: name, property: firstname}\n");
  write("hubsync.yaml", "postgres: {dsn_env: PG}\nhubspot: {token_env: TOKEN}\n");
  const std::string env = "PG='" + db.dsn() + "' TOKEN=" + kToken;
  auto dry = run("migrate --dry-run", env);
  EXPECT_EQ(dry.code, 0) << dry.out;
  EXPECT_THAT(dry.out, HasSubstr("CREATE TRIGGER \"hubsync_capture_people_upd\""));
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'hubsync'"), "0");

  auto first = run("migrate", env);
  EXPECT_EQ(first.code, 0) << first.out;
  EXPECT_THAT(first.out, HasSubstr("installed capture triggers people on public.people"));
  // The pull finds a contact's row by its email trimmed and lower-cased:
  // the UNIQUE index on email does not serve it, and migrate says which
  // index would.
  const std::string advice =
      "migrate: warning: mapping people: no index serves the pull's lookup of public.people (about 0 rows) by "
      "email (as an email: trimmed, lower-cased): every page of a pull scans the table; create one: CREATE INDEX "
      "CONCURRENTLY ON \"public\".\"people\" (pg_catalog.lower(pg_catalog.btrim(\"email\"::text, E' \\t\\n\\r')))";
  EXPECT_THAT(first.out, HasSubstr(advice));
  db.exec("CREATE INDEX ON public.people (lower(btrim(email, E' \\t\\n\\r')))");
  auto second = run("migrate", env);
  EXPECT_EQ(second.code, 0) << second.out;
  EXPECT_THAT(second.out, HasSubstr("up to date"));
  EXPECT_THAT(second.out, Not(HasSubstr("warning")));
  db.exec("INSERT INTO people VALUES (1, 'a@example.com', 'A')");
  EXPECT_EQ(db.scalar("SELECT op FROM hubsync.changelog"), "insert");
}

// run and serve warn only where the scan would hurt: a table of 100,000
// rows or more, as the planner estimates it.
TEST_F(CliTest, RunWarnsOfAnUnindexedLookupOnlyOnALargeTable) {
  HUBSYNC_REQUIRE_PG(server);
  hubsync::test::TempDatabase db(server);
  db.exec("CREATE TABLE public.people (id int PRIMARY KEY, email text UNIQUE, name text)");
  fs::create_directories(dir_ / "mappings");
  std::string two_way = kPeopleToHubSpot;
  two_way.replace(two_way.find("direction: to_hubspot\n"), 22, "");
  write("mappings/people.yaml", two_way);
  // HubSpot is unreachable on purpose: the check comes before any sync.
  write("hubsync.yaml", "postgres: {dsn_env: PG}\nhubspot: {base_url: 'http://127.0.0.1:1', token_env: TOKEN, "
                        "timeout_ms: 1000, "
                        "retry_for_s: 1}\n");
  const std::string env = "PG='" + db.dsn() + "' TOKEN=" + kToken;
  ASSERT_EQ(run("migrate", env).code, 0);
  auto small = run("run --once", env);
  EXPECT_THAT(small.out, Not(HasSubstr("no index serves"))) << small.out;
  db.exec("INSERT INTO people SELECT g, 'p' || g || '@example.com', NULL FROM generate_series(1, 120000) g;"
          "ANALYZE people");
  auto large = run("run --once", env);
  EXPECT_THAT(large.out, HasSubstr("run: warning: mapping people: no index serves the pull's lookup of "
                                   "public.people (about 120000 rows) by email (as an email: trimmed, lower-cased)"))
      << large.out;
  db.exec("CREATE INDEX ON public.people (lower(btrim(email, E' \\t\\n\\r')))");
  auto indexed = run("run --once", env);
  EXPECT_THAT(indexed.out, Not(HasSubstr("no index serves"))) << indexed.out;
}

TEST_F(CliTest, MigrateWithABrokenMappingNamesFileAndLine) {
  fs::create_directories(dir_ / "mappings");
  write("mappings/bad.yaml", "name: bad\npostgres: {table: public.x, key: id}\nhubspot: {object: contacts, match: email}\nfields:\n  - {colum: email, property: email}\n");
  write("hubsync.yaml", "postgres: {dsn: 'host=/nonexistent'}\nhubspot: {token_env: TOKEN}\n");
  auto o = run("migrate", std::string("TOKEN=") + kToken);
  EXPECT_EQ(o.code, 1) << o.out;
  EXPECT_THAT(o.out, HasSubstr("bad.yaml:5:"));
  EXPECT_THAT(o.out, HasSubstr("column"));
}

}  // namespace

namespace {

// A file named alone is checked as a member of its set: an association to
// a mapping in another file is valid, another file's own errors are not
// reported, and a wrong target is still refused.
TEST_F(CliTest, ValidateChecksANamedFileAsAMemberOfItsSet) {
  fs::create_directories(dir_ / "mappings");
  write("mappings/orgs.yaml", "name: orgs\npostgres: {table: public.orgs, key: id}\n"
                              "hubspot: {object: companies, match: domain}\nfields:\n  - {column: domain, property: domain}\n");
  const std::string staff = "name: staff\npostgres: {table: public.staff, key: id}\n"
                            "hubspot: {object: contacts, match: email}\nfields:\n  - {column: email, property: email}\n"
                            "associations:\n  - {column: org_id, to: orgs}\n";
  write("mappings/staff.yaml", staff);
  write("mappings/broken.yaml", "name: broken\n");
  auto one = run("validate --offline mappings/staff.yaml");
  EXPECT_EQ(one.code, 0) << one.out;
  EXPECT_THAT(one.out, HasSubstr("1 file(s): valid"));
  EXPECT_THAT(one.out, Not(HasSubstr("broken.yaml")));
  std::string wrong = staff;
  wrong.replace(wrong.find("to: orgs"), 8, "to: teams");
  write("mappings/staff.yaml", wrong);
  auto refused = run("validate --offline mappings/staff.yaml");
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr("mappings/staff.yaml:7:"));
  EXPECT_THAT(refused.out, HasSubstr("teams"));
}

TEST_F(CliTest, ValidateChecksTheLiveDatabaseAndSaysWhenItCannotCheck) {
  HUBSYNC_REQUIRE_PG(server);
  hubsync::test::TempDatabase db(server);
  db.exec("CREATE TABLE public.people (id int PRIMARY KEY, email text UNIQUE, name text)");
  fs::create_directories(dir_ / "mappings");
  std::string broken = kPeopleToHubSpot;  // line 7 names a column the table lacks
  broken.replace(broken.find("{column: name,"), 14, "{column: nickname,");
  write("mappings/people.yaml", broken);
  // HubSpot is unreachable on purpose: its checks cannot run.
  write("hubsync.yaml", "postgres: {dsn_env: PG}\nhubspot: {base_url: 'http://127.0.0.1:1', token_env: TOKEN, timeout_ms: 2000}\n");
  const std::string env = "PG='" + db.dsn() + "' TOKEN=" + kToken;
  auto bad = run("validate", env);
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_THAT(bad.out, HasSubstr("people.yaml:7:"));
  EXPECT_THAT(bad.out, HasSubstr("nickname"));

  write("mappings/people.yaml", kPeopleToHubSpot);
  auto unchecked = run("validate", env);
  EXPECT_EQ(unchecked.code, 2) << unchecked.out;
  EXPECT_THAT(unchecked.out, HasSubstr("could not be fully checked"));

  auto offline = run("validate --offline mappings/people.yaml");
  EXPECT_EQ(offline.code, 0) << offline.out;
  EXPECT_THAT(offline.out, HasSubstr("remote checks skipped (--offline)"));
  EXPECT_THAT(bad.out + unchecked.out + offline.out, Not(HasSubstr(kToken)));
}

}  // namespace

namespace {

// libpq quotes the DSN (or the part it could not read) in its own errors:
// nothing hubsync prints about a DSN may carry its password.
TEST_F(CliTest, MigrateValidateAndConfigCheckNeverEchoADsnPassword) {
  fs::create_directories(dir_ / "mappings");
  write("mappings/people.yaml", kPeopleToHubSpot);
  write("hubsync.yaml",
        "postgres: {dsn_env: PG}\n"
        "hubspot: {base_url: 'http://127.0.0.1:1', token_env: TOKEN, timeout_ms: 2000}\n");
  const std::vector<std::string> dsns = {
      "'postgresql://app:pw%zzLEAK41@127.0.0.1:1/crm'",  // bad percent-encoding
      "'postgresql://app:pwLEAK41@[::1/crm'",            // unterminated IPv6 host
      "'postgresql://app:pwLEAK41@127.0.0.1:notaport/crm'",
      "'host=127.0.0.1 port=1 password= pwLEAK41 user=app connect_timeout=2'",
  };
  for (const auto& dsn : dsns) {
    const std::string env = "PG=" + dsn + " TOKEN=" + kToken;
    for (const char* cmd : {"migrate", "validate", "config check"}) {
      auto o = run(cmd, env);
      if (std::string(cmd) != "config check") {
        EXPECT_NE(o.code, 0) << cmd << " " << dsn << "\n" << o.out;
      }
      EXPECT_THAT(o.out, Not(HasSubstr("LEAK41"))) << cmd << " " << dsn;
      EXPECT_THAT(o.out, Not(HasSubstr(kToken))) << cmd << " " << dsn;
    }
  }
}

TEST_F(CliTest, ConfigCheckSaysThePasswordComesFromPgPasswordNeverItsValue) {
  write("hubsync.yaml", "postgres: {dsn_env: PG}\nhubspot: {token_env: TOKEN}\n");
  auto o = run("config check", std::string("PG='host=db.internal user=app dbname=crm' PGPASSWORD=") + kPassword +
                                   " TOKEN=" + kToken);
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_THAT(o.out, HasSubstr("host=db.internal user=app dbname=crm"));
  EXPECT_THAT(o.out, HasSubstr("from PGPASSWORD"));
  EXPECT_THAT(o.out, Not(HasSubstr(kPassword)));
}

TEST_F(CliTest, PlainHttpToARemoteHostIsRefusedUnlessAllowedWithAWarning) {
  write("hubsync.yaml",
        "postgres: {dsn: 'host=/tmp'}\n"
        "hubspot:\n"
        "  base_url: http://hubspot-proxy.example.com:8080\n"  // 3:13
        "  token_env: TOKEN\n");
  auto refused = run("config check", std::string("TOKEN=") + kToken);
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_THAT(refused.out, HasSubstr("hubsync.yaml:3:13: error: hubspot.base_url"));
  EXPECT_THAT(refused.out, HasSubstr("allow_insecure_http"));

  write("hubsync.yaml",
        "postgres: {dsn: 'host=/tmp'}\n"
        "hubspot:\n"
        "  base_url: http://hubspot-proxy.example.com:8080\n"
        "  allow_insecure_http: true\n"
        "  token_env: TOKEN\n");
  auto allowed = run("config check", std::string("TOKEN=") + kToken);
  EXPECT_EQ(allowed.code, 0) << allowed.out;
  EXPECT_THAT(allowed.out, HasSubstr("warning: hubspot.allow_insecure_http"));
  EXPECT_THAT(allowed.out, HasSubstr("unencrypted"));
  EXPECT_THAT(allowed.out, Not(HasSubstr(kToken)));

  write("hubsync.yaml",
        "postgres: {dsn: 'host=/tmp'}\n"
        "hubspot: {base_url: 'http://127.0.0.1:8080', token_env: TOKEN}\n");
  auto loopback = run("config check", std::string("TOKEN=") + kToken);
  EXPECT_EQ(loopback.code, 0) << loopback.out;
  EXPECT_THAT(loopback.out, Not(HasSubstr("unencrypted")));
  EXPECT_THAT(loopback.out, HasSubstr("hubspot.allow_insecure_http = false"));
}

}  // namespace
