#include "tests/support/pg.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>

#include <pqxx/pqxx>

namespace hubsync::test {

bool ci_mode() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string source_dir() {
  if (const char* d = std::getenv("HUBSYNC_SOURCE_DIR"); d && *d) return d;
  return HUBSYNC_SOURCE_DIR;
}

std::string binary_dir() { return HUBSYNC_BINARY_DIR; }

std::string test_pg_dsn() {
  if (const char* dsn = std::getenv("HUBSYNC_TEST_PG_DSN"); dsn && *dsn) return dsn;
  if (const char* file = std::getenv("HUBSYNC_TEST_PG_DSN_FILE"); file && *file) {
    std::ifstream in(file);
    std::string dsn;
    if (in && std::getline(in, dsn)) return dsn;
  }
  return {};
}

namespace {
// Replaces the database name of a URI DSN (postgresql://.../db?...).
std::string with_database(const std::string& dsn, const std::string& db) {
  auto scheme = dsn.find("://");
  if (scheme == std::string::npos) return dsn + " dbname=" + db;
  auto slash = dsn.find('/', scheme + 3);
  auto query = dsn.find('?', scheme + 3);
  std::string head = dsn.substr(0, slash == std::string::npos ? query : slash);
  std::string tail = query == std::string::npos ? "" : dsn.substr(query);
  return head + "/" + db + tail;
}

// Replaces the user of a URI DSN (postgresql://user@host...), or appends one.
std::string with_user(const std::string& dsn, const std::string& user) {
  auto scheme = dsn.find("://");
  if (scheme == std::string::npos) return dsn + " user=" + user;
  const auto host = scheme + 3;
  const auto at = dsn.find('@', host);
  const auto slash = dsn.find('/', host);
  if (at != std::string::npos && (slash == std::string::npos || at < slash))
    return dsn.substr(0, host) + user + dsn.substr(at);
  return dsn.substr(0, host) + user + "@" + dsn.substr(host);
}
}  // namespace

std::string TempDatabase::dsn_as(const std::string& role) const { return with_user(dsn_, role); }

TempDatabase::TempDatabase(const std::string& server_dsn) : server_dsn_(server_dsn) {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  name_ = "t_" + std::to_string(rng() % 1'000'000'000'000ULL);
  pqxx::connection c(server_dsn_);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  dsn_ = with_database(server_dsn_, name_);
}

TempDatabase::~TempDatabase() {
  try {
    pqxx::connection c(server_dsn_);
    pqxx::nontransaction tx(c);
    // A logical replication slot keeps its database from being dropped.
    tx.exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = " +
            tx.quote(name_));
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (...) {
    // Best effort: the whole cluster is thrown away after the run anyway.
  }
}

void TempDatabase::exec(const std::string& sql) const {
  pqxx::connection c(dsn_);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

std::string TempDatabase::scalar(const std::string& sql) const {
  pqxx::connection c(dsn_);
  pqxx::nontransaction tx(c);
  auto r = tx.exec(sql);
  if (r.empty()) return "";
  if (r[0][0].is_null()) return "NULL";
  return r[0][0].c_str();
}

}  // namespace hubsync::test
