// The pull finds rows by value — a mapping's match column for objects not
// yet linked, a link table's from column — once per page. On a large table
// that lookup must be served by an index, or every page scans the table.
// Integer and uuid columns are compared in their own type (a plain index
// serves them), with values no row's key text could equal left out; the
// email of contacts is compared as HubSpot compares emails, trimmed and
// lower-cased (an index on that expression).
// PgDatabase::unindexed_lookups names each lookup no index serves, and the
// CREATE INDEX it prints is the one that makes it served.
#include <algorithm>

#include "connectors/postgres/pg_database.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class MatchLookupTest : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (!db_) return;
    db_->exec(
        "CREATE TABLE people (id bigint PRIMARY KEY, email text);"
        "INSERT INTO people VALUES (1, 'Ann@X.com'), (2, 'bob@x.com'), (3, NULL), (4, E' Carl@x.com\r\n');"
        "CREATE TABLE accounts (id serial PRIMARY KEY, ext bigint, small int4, tag uuid, code varchar(20),"
        "                       ratio numeric);"
        "INSERT INTO accounts (ext, small, tag, code, ratio) VALUES"
        "  (42, 7, '0f6e7c1a-5b1d-4e9e-9a39-6a7d1c2b3e4f', 'A-1', 1.5),"
        "  (-5, -7, NULL, 'b-2', 2),"
        "  (9223372036854775807, 2147483647, NULL, NULL, NULL);"
        "CREATE TABLE members (org_id bigint, staff_id bigint, PRIMARY KEY (staff_id, org_id));"
        "CREATE TABLE badges (org_id bigint, staff_id bigint, PRIMARY KEY (org_id, staff_id));");
  }

  static mapping::Mapping account_by(const std::string& column) {
    return compile("name: acc_" + column + "\npostgres: {table: public.accounts, key: id}\n" +
                   "hubspot: {object: companies, match: " + column + "}\ndirection: both\nfields:\n" +
                   "  - {column: " + column + ", property: " + column + "}\n");
  }
  static mapping::Mapping people() {
    return compile("name: people\npostgres: {table: public.people, key: id}\n"
                   "hubspot: {object: contacts, match: email}\nfields:\n  - {column: email, property: email}\n");
  }
  static mapping::Mapping link(const std::string& table) {
    return compile("name: " + table + "\npostgres: {table: public." + table + ", key: [staff_id, org_id]}\n" +
                   "link:\n  from: {column: staff_id, mapping: staff}\n  to: {column: org_id, mapping: orgs}\n");
  }

  // The ids of the rows found, sorted.
  std::vector<std::string> found(PgDatabase& pg, const mapping::Mapping& m, const std::string& column,
                                 const std::vector<std::string>& values, bool fold) {
    auto rows = pg.read_rows_by(m, column, values, fold);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    std::vector<std::string> ids;
    if (rows.ok())
      for (const auto& r : *rows) ids.push_back(r.key.parts.at(0));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Runs the statement a warning line ends with.
  void create_advised(const std::string& line) {
    const auto at = line.find("CREATE INDEX");
    ASSERT_NE(at, std::string::npos) << line;
    db_->exec(line.substr(at));
  }
};

TEST_F(MatchLookupTest, IntegerAndUuidValuesMatchOnlyTheirCanonicalTextAndNothingElseFails) {
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  // Texts no bigint prints as ("007", "+42", "4.0", out of range, not a
  // number) find nothing, as they never equalled ext::text, and fail nothing.
  EXPECT_THAT(found(pg, account_by("ext"), "ext",
                    {"42", "-5", "007", "+42", "4.0", "99999999999999999999", "x", ""}, false),
              ElementsAre("1", "2"));
  EXPECT_THAT(found(pg, account_by("ext"), "ext", {"9223372036854775807"}, false), ElementsAre("3"));
  EXPECT_THAT(found(pg, account_by("small"), "small", {"7", "-7", "3000000000", "2147483648"}, false),
              ElementsAre("1", "2"));
  // uuid prints lower case: an upper-case text never matched, and does not now.
  EXPECT_THAT(found(pg, account_by("tag"), "tag",
                    {"0f6e7c1a-5b1d-4e9e-9a39-6a7d1c2b3e4f", "0F6E7C1A-5B1D-4E9E-9A39-6A7D1C2B3E4F",
                     "0f6e7c1a5b1d4e9e9a396a7d1c2b3e4f", "nope"},
                    false),
              ElementsAre("1"));
  EXPECT_THAT(found(pg, account_by("code"), "code", {"A-1", "a-1", "b-2"}, false), ElementsAre("1", "2"));
  EXPECT_THAT(found(pg, account_by("ratio"), "ratio", {"1.5", "2", "2.0"}, false), ElementsAre("1", "2"));
  // Only values no row can have: an empty array, no error.
  EXPECT_THAT(found(pg, account_by("ext"), "ext", {"abc"}, false), IsEmpty());
  // In email form (trimmed, lower-cased) by the caller, as the pull does (match_key_of).
  EXPECT_THAT(found(pg, people(), "email", {"ann@x.com", "bob@x.com", "carl@x.com"}, true),
              ElementsAre("1", "2", "4"));
}

TEST_F(MatchLookupTest, EachUnservedLookupIsNamedAndItsCreateIndexMakesItServed) {
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  std::vector<mapping::Mapping> ms{people(), account_by("ext"), account_by("tag"), account_by("code"),
                                   link("members"), link("badges")};
  auto lines = pg.unindexed_lookups(ms);
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  // members' primary key starts with staff_id: already served.
  ASSERT_THAT(*lines, SizeIs(5));
  EXPECT_THAT((*lines)[0], HasSubstr("mapping people: no index serves the pull's lookup of public.people"));
  EXPECT_THAT((*lines)[0], HasSubstr("by email (as an email: trimmed, lower-cased): every page of a pull scans the "
                                     "table; create one: CREATE INDEX CONCURRENTLY ON \"public\".\"people\" "
                                     "(pg_catalog.lower(pg_catalog.btrim(\"email\"::text, E' \\t\\n\\r')))"));
  EXPECT_THAT((*lines)[1], HasSubstr("CREATE INDEX CONCURRENTLY ON \"public\".\"accounts\" (\"ext\")"));
  EXPECT_THAT((*lines)[4], HasSubstr("mapping badges: no index serves the pull's lookup of public.badges"));
  EXPECT_THAT((*lines)[4], HasSubstr("(\"staff_id\")"));
  for (const auto& l : *lines) create_advised(l);
  auto after = pg.unindexed_lookups(ms);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_THAT(*after, IsEmpty());
  // An index on email alone does not serve the lower-cased lookup.
  db_->exec("DROP INDEX people_lower_idx; CREATE INDEX ON people (email)");
  after = pg.unindexed_lookups(ms);
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(*after, ElementsAre(HasSubstr("mapping people:")));
}

TEST_F(MatchLookupTest, ANumericColumnIsNamedWithNoIndexToCreateAndSmallTablesCanBeLeftOut) {
  PgDatabase pg(db_->dsn(), ops::logger("postgres"));
  auto lines = pg.unindexed_lookups({account_by("ratio")});
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  ASSERT_THAT(*lines, SizeIs(1));
  EXPECT_THAT((*lines)[0], HasSubstr("no index can serve it on a numeric column (its key text is computed)"));
  // The planner's estimate of a few rows is below run's threshold.
  db_->exec("ANALYZE accounts");
  auto large_only = pg.unindexed_lookups({account_by("ratio")}, 100'000);
  ASSERT_TRUE(large_only.ok());
  EXPECT_THAT(*large_only, IsEmpty());
  // A push-only mapping makes no lookup.
  auto push_only = account_by("ext");
  push_only.direction = mapping::Direction::to_hubspot;
  auto none = pg.unindexed_lookups({push_only});
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
}

}  // namespace
}  // namespace hubsync::postgres
