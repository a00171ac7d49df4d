#pragma once

#include <string>

namespace hubsync::test {

/// The DSN of the test PostgreSQL server: $HUBSYNC_TEST_PG_DSN, else the file
/// named by $HUBSYNC_TEST_PG_DSN_FILE (written by the ctest fixture that
/// starts the throwaway cluster). Empty when neither gives one.
std::string test_pg_dsn();

/// A database of its own for one test, created on construction from the test
/// server and dropped (with its connections) on destruction, so tests running
/// in parallel never see each other's tables.
class TempDatabase {
 public:
  explicit TempDatabase(const std::string& server_dsn);
  ~TempDatabase();
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& dsn() const { return dsn_; }
  /// The DSN of this database for another login role (the test cluster
  /// trusts local connections, so no password is needed).
  std::string dsn_as(const std::string& role) const;
  const std::string& name() const { return name_; }
  /// Runs SQL on the temp database (throws on error).
  void exec(const std::string& sql) const;
  /// Runs a query and returns the first column of the first row, "" if none
  /// and "NULL" for SQL NULL.
  std::string scalar(const std::string& sql) const;

 private:
  std::string server_dsn_;
  std::string name_;
  std::string dsn_;
};

}  // namespace hubsync::test

/// Gets the test DSN into `var` or ends the test: with CI=true a missing
/// database is a failure, elsewhere a skip that says why.
#define HUBSYNC_REQUIRE_PG(var)                                                       \
  std::string var = ::hubsync::test::test_pg_dsn();                                   \
  if (var.empty()) {                                                                  \
    if (::hubsync::test::ci_mode()) {                                                 \
      FAIL() << "CI=true and no test database: set HUBSYNC_TEST_PG_DSN or run via ctest"; \
    } else {                                                                          \
      GTEST_SKIP() << "no test database (HUBSYNC_TEST_PG_DSN unset; run via ctest)";  \
    }                                                                                 \
  }

namespace hubsync::test {
/// True when CI=true: a test that cannot get what it needs must fail.
bool ci_mode();
/// The repository root and the build directory this test was built in.
std::string source_dir();
std::string binary_dir();
}
