// Key text: what the trigger records for a key, written from a session with
// another TimeZone and DateStyle, is exactly what PgDatabase reads for the
// same row, and finds the row again.
#include <pqxx/pqxx>

#include "connectors/postgres/pg_database.h"
#include "connectors/postgres/sql.h"
#include "engine/mapping/live_check.h"
#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

class CaptureKeysTest : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (!db_) return;
    db_->exec("CREATE EXTENSION citext");
    pg_ = std::make_unique<PgDatabase>(db_->dsn(), ops::logger("postgres"));
  }

  static mapping::Mapping table_mapping(const std::string& name, const std::string& key,
                                        const std::string& extra = "") {
    return compile("name: " + name + "\npostgres: {table: public." + name + ", key: " + key +
                   "}\nhubspot: {object: contacts, match: email}\nfields:\n"
                   "  - {column: email, property: email}\n" + extra);
  }

  void write(const std::string& sql) { db_->exec(std::string(kForeignSession) + sql); }

  std::vector<pipeline::Row> scan(const mapping::Mapping& m) {
    std::vector<pipeline::Row> out;
    auto st = pg_->scan_rows(m, {}, 100, [&](std::vector<pipeline::Row>& rows) {
      for (auto& r : rows) out.push_back(std::move(r));
      return model::Status{};
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out;
  }

  std::unique_ptr<PgDatabase> pg_;
};

TEST_F(CaptureKeysTest, ChangelogKeyTextIsWhatTheReaderReadsAndFinds) {
  const auto& cases = key_cases();
  std::vector<mapping::Mapping> mappings;
  std::vector<CaptureSpec> specs;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string name = "k" + std::to_string(i);
    db_->exec("CREATE TABLE " + name + " (k " + cases[i].type + " PRIMARY KEY, email text)");
    mappings.push_back(table_mapping(name, "k"));
    specs.push_back(spec_of(mappings.back()));
  }
  migrate(specs);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& m = mappings[i];
    SCOPED_TRACE(std::string(c.type) + " " + c.written);
    write("INSERT INTO " + m.name + " VALUES (" + c.written + ", 'x@example.com')");
    EXPECT_EQ(db_->scalar("SELECT pk ->> 'k' FROM hubsync.changelog WHERE mapping = '" + m.name + "'"), c.text);
    auto claimed = pg_->claim_changes(m, 10, 60'000, "test");
    ASSERT_TRUE(claimed.ok()) << claimed.error().message;
    ASSERT_EQ(claimed->size(), 1u);
    EXPECT_EQ(claimed->at(0).key.parts, std::vector<std::string>{c.text}) << "the push's key";
    auto rows = scan(m);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].key.parts, std::vector<std::string>{c.text});
    auto found = pg_->read_rows(m, {model::RecordKey{{c.text}}});
    ASSERT_TRUE(found.ok()) << found.error().message;
    ASSERT_EQ(found->count(c.text), 1u);
    EXPECT_EQ(found->at(c.text).fields.at("email"), model::Value::text("x@example.com"));
  }
}

TEST_F(CaptureKeysTest, CompositeKeysAndKeyChangesUseTheSameText) {
  db_->exec("CREATE TABLE pairs (a bigint, b text, at timestamptz, email text, PRIMARY KEY (a, b, at))");
  auto m = table_mapping("pairs", "[a, b, at]");
  migrate({spec_of(m)});
  write("INSERT INTO pairs VALUES (7, 'a b', '2024-03-10 01:30:00', 'x@example.com')");
  write("UPDATE pairs SET at = at + interval '1 hour'");
  write("UPDATE pairs SET email = 'y@example.com'");
  EXPECT_EQ(changes(),
            "pairs insert {\"a\": \"7\", \"b\": \"a b\", \"at\": \"2024-03-10T06:30:00.000000Z\"} -\n"
            "pairs delete {\"a\": \"7\", \"b\": \"a b\", \"at\": \"2024-03-10T06:30:00.000000Z\"} -\n"
            "pairs insert {\"a\": \"7\", \"b\": \"a b\", \"at\": \"2024-03-10T07:30:00.000000Z\"} -\n"
            "pairs update {\"a\": \"7\", \"b\": \"a b\", \"at\": \"2024-03-10T07:30:00.000000Z\"} email");
  const model::RecordKey key{{"7", "a b", "2024-03-10T07:30:00.000000Z"}};
  auto rows = scan(m);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, key);
  auto found = pg_->read_rows(m, {key, model::RecordKey{{"7", "a b", "2024-03-10T06:30:00.000000Z"}}});
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->size(), 1u);
  EXPECT_EQ(found->count(key.encoded()), 1u);

  db_->exec("CREATE TABLE prices (p numeric PRIMARY KEY, email text)");
  auto prices = table_mapping("prices", "p");
  migrate({spec_of(m), spec_of(prices)});
  db_->exec("DELETE FROM hubsync.changelog");
  write("INSERT INTO prices VALUES (1.50, 'x@example.com')");
  write("UPDATE prices SET p = 1.5000");  // the same value: an update, not a new key
  write("UPDATE prices SET p = 2.25");
  EXPECT_EQ(changes(),
            "prices insert {\"p\": \"1.5\"} -\n"
            "prices delete {\"p\": \"1.5\"} -\n"
            "prices insert {\"p\": \"2.25\"} -");
}

TEST_F(CaptureKeysTest, ReferencesReadAsTheParentsKeyText) {
  db_->exec(
      "CREATE TABLE events (at timestamptz PRIMARY KEY, email text);"
      "CREATE TABLE plans (price numeric(8,2) PRIMARY KEY, email text);"
      "CREATE TABLE attendees (id bigint PRIMARY KEY, email text,"
      "  event_at timestamptz REFERENCES events, plan numeric(8,2) REFERENCES plans)");
  auto events = table_mapping("events", "at");
  auto plans = table_mapping("plans", "price");
  auto attendees = table_mapping("attendees", "id",
                                 "associations:\n  - {column: event_at, to: events}\n"
                                 "  - {column: plan, to: plans}\n");
  migrate({spec_of(events), spec_of(plans), spec_of(attendees)});
  write("INSERT INTO events VALUES ('2024-03-10 01:30:00.25', 'e@example.com');"
        "INSERT INTO plans VALUES (12.5, 'p@example.com');"
        "INSERT INTO attendees VALUES (1, 'a@example.com', '2024-03-10 01:30:00.25', 12.50),"
        "  (2, 'b@example.com', NULL, NULL)");
  const std::string event_key = db_->scalar("SELECT pk ->> 'at' FROM hubsync.changelog WHERE mapping = 'events'");
  const std::string plan_key = db_->scalar("SELECT pk ->> 'price' FROM hubsync.changelog WHERE mapping = 'plans'");
  EXPECT_EQ(event_key, "2024-03-10T06:30:00.250000Z");
  EXPECT_EQ(plan_key, "12.5");
  auto rows = pg_->read_rows(attendees, {model::RecordKey{{"1"}}, model::RecordKey{{"2"}}});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  using Refs = std::map<std::string, std::optional<std::string>>;
  EXPECT_EQ(rows->at("1").ref_keys, (Refs{{"event_at", event_key}, {"plan", plan_key}}));
  EXPECT_EQ(rows->at("2").ref_keys, (Refs{{"event_at", std::nullopt}, {"plan", std::nullopt}}));
  // The typed fields stay as they were.
  EXPECT_EQ(rows->at("1").fields.at("plan"), model::Value::decimal(*model::parse_decimal("12.50")));
  auto scanned = scan(attendees);
  ASSERT_EQ(scanned.size(), 2u);
  EXPECT_EQ(scanned[0].ref_keys, rows->at("1").ref_keys);
}

TEST_F(CaptureKeysTest, EngineAndConnectorAgreeOnKeyTypes) {
  db_->exec(
      "CREATE TYPE mood AS ENUM ('ok');"
      "CREATE TABLE all_types (a smallint, b integer, c bigint, d numeric(12,2), e text, f varchar(20),"
      "  g char(4), h citext, i name, j uuid, k date, l timestamp(3), m timestamptz, n real,"
      "  o double precision, p boolean, q json, r jsonb, s bytea, t interval, u int[], v text[], w money,"
      "  x oid, y time, z timetz, aa \"char\", ab inet, ac xml, ad point, ae bit(3), af tsvector, ag mood)");
  pqxx::connection c(db_->dsn());
  pqxx::nontransaction tx(c);
  int supported = 0;
  for (const auto& r : tx.exec(
           "SELECT t.typname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
           "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = 'all_types'::regclass AND a.attnum > 0")) {
    const std::string typname = r[0].c_str(), format = r[1].c_str();
    EXPECT_EQ(key_type_supported(typname), mapping::key_column_type_supported(format)) << typname << " / " << format;
    supported += key_type_supported(typname);
  }
  EXPECT_EQ(supported, 13);
}

}  // namespace
}  // namespace hubsync::postgres
