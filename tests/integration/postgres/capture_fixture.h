#pragma once

// A private database per test and the helpers the capture tests share.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/postgres/migrator.h"
#include "engine/mapping/parser.h"
#include "engine/ops/logging.h"
#include "tests/support/pg.h"

namespace hubsync::postgres {

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

  /// The spec `hubsync migrate` derives from a mapping.
  static CaptureSpec spec_of(const mapping::Mapping& m) {
    return {m.name, m.table.schema, m.table.table, m.key, m.postgres_columns(), !m.pg_filter.empty()};
  }

  std::string server_;
  std::unique_ptr<test::TempDatabase> db_;
};

}  // namespace hubsync::postgres
