#include "engine/state/sqlite/db.h"

#include <fmt/format.h>

namespace hubsync::state::sqlite {

model::ErrorKind kind_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
    case SQLITE_PROTOCOL:
      return model::ErrorKind::transient;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return model::ErrorKind::invalid_record;
    default:
      return model::ErrorKind::fatal;
  }
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  DbHandle handle(raw);
  if (rc != SQLITE_OK) {
    const char* msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    Error e = model::make_error(kind_for(rc) == model::ErrorKind::transient
                                    ? model::ErrorKind::transient
                                    : model::ErrorKind::fatal,
                                fmt::format("state store {}: cannot open: {}", path, msg));
    e.code = std::to_string(rc);
    return e;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(std::move(handle), path));
}

Error Db::error(int rc, std::string_view what) const {
  // sqlite3_errmsg describes the most recent failure on this connection,
  // which is `rc` as long as the store serialises its calls.
  const char* detail = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  Error e = model::make_error(kind_for(rc), fmt::format("state store {}: {} failed: {} ({})",
                                                        path_, what, detail, sqlite3_errstr(rc)));
  e.code = std::to_string(rc);
  return e;
}

Result<Stmt> Db::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) return error(rc, "prepare");
    it = cache_.emplace(sql, StmtHandle(raw)).first;
  }
  return Stmt(*this, it->second.get());
}

Status Db::exec(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, "exec");
  return {};
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Stmt::bind_null(int i) {
  const int rc = sqlite3_bind_null(stmt_, i);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Stmt::bind_int(int i, std::int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Stmt::bind_text(int i, std::string_view v) {
  const int rc =
      sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Result<bool> Stmt::step() {
  if (bind_rc_ != SQLITE_OK) return db_->error(bind_rc_, "bind");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(rc, fmt::format("statement '{:.60}'", sqlite3_sql(stmt_)));
}

Status Stmt::run() {
  while (true) {
    auto r = step();
    if (!r) return std::move(r).error();
    if (!*r) return {};
  }
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::int64_t Stmt::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::optional<std::string> Stmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

std::optional<std::int64_t> Stmt::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

}  // namespace hubsync::state::sqlite
