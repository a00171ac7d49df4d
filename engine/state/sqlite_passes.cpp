// How each mapping's passes ended (migration 0004), and checkpoint listing,
// for `hubsync status` and the health page.
#include <fmt/format.h>

#include "engine/state/sqlite/db.h"
#include "engine/state/sqlite_state_store.h"

namespace hubsync::state {

Status SqliteStateStore::record_pass(const std::string& mapping, Direction direction, TimeMs at_ms,
                                     const std::string& error) {
  std::lock_guard lock(mu_);
  if (auto w = check_writable(); !w) return w;
  // A success clears the error; a failure keeps the last success's time.
  auto q = db_->prepare(
      error.empty()
          ? "INSERT INTO sync_passes (mapping, direction, last_ok_ms) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (mapping, direction) DO UPDATE SET last_ok_ms = ?3, last_error_ms = NULL, "
            "last_error = ''"
          : "INSERT INTO sync_passes (mapping, direction, last_error_ms, last_error) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (mapping, direction) DO UPDATE SET last_error_ms = ?3, last_error = ?4");
  if (!q) return std::move(q).error();
  if (error.empty()) return q->bind(mapping, to_string(direction), at_ms).run();
  return q->bind(mapping, to_string(direction), at_ms, error).run();
}

Result<std::vector<PassRecord>> SqliteStateStore::list_passes() {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT mapping, direction, last_ok_ms, last_error_ms, last_error FROM sync_passes "
      "ORDER BY mapping, direction");
  if (!q) return std::move(q).error();
  std::vector<PassRecord> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    PassRecord p;
    p.mapping = q->text(0);
    p.direction = direction_from_string(q->text(1)).value_or(Direction::to_hubspot);
    p.last_ok_ms = q->opt_int64(2);
    p.last_error_ms = q->opt_int64(3);
    p.last_error = q->text(4);
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<Checkpoint>> SqliteStateStore::list_checkpoints(const std::string& mapping) {
  std::lock_guard lock(mu_);
  auto q = db_->prepare(
      "SELECT cursor_name, value, updated_at FROM checkpoints WHERE mapping = ? ORDER BY cursor_name");
  if (!q) return std::move(q).error();
  q->bind(mapping);
  std::vector<Checkpoint> out;
  while (true) {
    auto row = q->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(Checkpoint{mapping, q->text(0), q->text(1), q->int64(2)});
  }
  return out;
}

}  // namespace hubsync::state
