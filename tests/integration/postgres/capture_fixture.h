#pragma once

// A private database per test and the helpers the capture tests share.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "connectors/postgres/migrator.h"
#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"
#include "tests/support/pg.h"

namespace hubsync::postgres {

/// Key types and how a key written in kForeignSession reads as key text.
// A session unlike hubsync's (UTC, ISO): keys must not depend on it.
inline constexpr const char* kForeignSession =
    "SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'; SET extra_float_digits = -3;";

struct KeyCase {
  const char* type;
  const char* written;  // SQL literal, read in kForeignSession
  const char* text;     // the key text expected everywhere
};

inline const std::vector<KeyCase>& key_cases() {
  static const std::vector<KeyCase> all = {
      {"bigint", "9007199254740993", "9007199254740993"},
      {"smallint", "-7", "-7"},
      {"text", "'Ünï \"q\" k'", "Ünï \"q\" k"},
      {"text", "'a;b'", "a;b"},  // an array's text does not quote ';'
      {"text", "'a,b {c}'", "a,b {c}"},
      {"text", "'NULL'", "NULL"},
      {"varchar(20)", "'v 1'", "v 1"},
      {"character(4)", "'ab'", "ab"},
      {"citext", "'MiXed'", "MiXed"},
      {"uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
      {"numeric", "1.50", "1.5"},
      {"numeric(10,2)", "100", "100"},
      {"timestamptz", "'2024-03-10 01:30:00.123456'", "2024-03-10T06:30:00.123456Z"},
      {"timestamptz", "'2024-07-01 12:00:00+02'", "2024-07-01T10:00:00.000000Z"},
      {"timestamptz", "'infinity'", "infinity"},
      {"timestamp", "'2024-03-10 01:30:00'", "2024-03-10T01:30:00.000000"},
      {"timestamp(3)", "'0044-03-15 12:00:00.5 BC'", "0044-03-15T12:00:00.500000 BC"},
      {"date", "'10/03/2024'", "2024-03-10"},
      {"date", "'0044-03-15 BC'", "0044-03-15 BC"},
      {"date", "'-infinity'", "-infinity"},
  };
  return all;
}

/// `subscriber` subscribed to publication `pub` of `source` (two databases
/// of the test cluster), with the initial copy; on destruction the
/// subscription and its slot are dropped, which their databases' drops need.
class TestSubscription {
 public:
  TestSubscription(const test::TempDatabase& source, const test::TempDatabase& subscriber, const std::string& pub)
      : source_(source), subscriber_(subscriber), slot_("sub_" + subscriber.name()) {
    // A subscription to its own cluster cannot make its slot itself.
    source_.exec("SELECT pg_create_logical_replication_slot('" + slot_ + "', 'pgoutput')");
    subscriber_.exec("CREATE SUBSCRIPTION " + slot_ + " CONNECTION '" + source_.dsn() + "' PUBLICATION " + pub +
                     " WITH (create_slot = false, slot_name = '" + slot_ + "')");
  }
  ~TestSubscription() {
    try {
      subscriber_.exec("ALTER SUBSCRIPTION " + slot_ + " DISABLE; ALTER SUBSCRIPTION " + slot_ +
                       " SET (slot_name = NONE); DROP SUBSCRIPTION " + slot_);
      for (int i = 0; i < 100; ++i) {  // the walsender leaves the slot shortly after
        if (source_.scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot_ +
                           "' AND NOT active") == "1")
          break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      source_.exec("SELECT pg_drop_replication_slot('" + slot_ + "')");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping the test subscription: " << e.what();
    }
  }
  TestSubscription(const TestSubscription&) = delete;
  TestSubscription& operator=(const TestSubscription&) = delete;

 private:
  const test::TempDatabase& source_;
  const test::TempDatabase& subscriber_;
  std::string slot_;
};

class CaptureFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    server_ = server;
    db_ = std::make_unique<test::TempDatabase>(server);
  }

  MigrateReport migrate(const std::vector<CaptureSpec>& specs, bool dry_run = false) {
    Migrator m(db_->dsn(), ops::logger("postgres"));
    auto r = m.run(specs, dry_run);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : MigrateReport{};
  }

  std::vector<std::string> check(const std::vector<CaptureSpec>& specs) {
    Migrator m(db_->dsn(), ops::logger("postgres"));
    auto r = m.check(specs);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : std::vector<std::string>{"check failed"};
  }

  /// changes() once it reads `want`, or after 30 s what it reads then.
  std::string changes_within(const std::string& want) {
    std::string now;
    for (int i = 0; i < 300 && (now = changes()) != want; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return now;
  }

  /// Every changelog row as "mapping op pk changed,columns", in id order.
  std::string changes() {
    return db_->scalar(
        "SELECT coalesce(string_agg(mapping || ' ' || op || ' ' || pk::text || ' ' || "
        "coalesce(array_to_string(changed_columns, ','), '-'), E'\\n' ORDER BY id), '') "
        "FROM hubsync.changelog");
  }

  static mapping::Mapping compile(const std::string& yaml) {
    auto r = mapping::parse_mapping(yaml, "test.yaml");
    std::string all;
    for (const auto& f : r.findings) all += f.to_string() + "\n";
    if (!r.ok()) throw std::runtime_error("bad test mapping: " + all);
    return std::move(*r.mapping);
  }

  /// Creates public.people (id bigint key, email text); its contacts
  /// mapping (email <-> email), not yet migrated.
  mapping::Mapping create_people() {
    db_->exec("CREATE TABLE people (id bigint PRIMARY KEY, email text)");
    return compile("name: people\npostgres: {table: public.people, key: id}\n"
                   "hubspot: {object: contacts, match: email}\nfields:\n  - {column: email, property: email}\n");
  }

  /// The spec `hubsync migrate` derives from a mapping.
  static CaptureSpec spec_of(const mapping::Mapping& m) {
    return {m.name, m.table.schema, m.table.table, m.key, m.postgres_columns(), !m.pg_filter.empty()};
  }

  std::string server_;
  std::unique_ptr<test::TempDatabase> db_;
};

}  // namespace hubsync::postgres
