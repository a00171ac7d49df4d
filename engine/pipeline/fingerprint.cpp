#include "engine/pipeline/fingerprint.h"

#include <map>
#include <optional>

#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

namespace {

constexpr const char* kPrefix = "fingerprint ";
constexpr const char* kLinks = "fingerprint links";
constexpr const char* kPushScope = "fingerprint push";
constexpr const char* kPullScope = "fingerprint pull";

std::string field_cursor(const std::string& field_id) { return kPrefix + std::string("field ") + field_id; }

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// What the links name: rows of a table by key, objects of a type.
std::string links_of(const mapping::Mapping& m, const std::string& object) {
  return m.table.display() + " (" + joined(m.key) + ") <-> " + object;
}
std::string links_of(const mapping::Mapping& m) { return links_of(m, m.object.path()); }

// Stored before a standard object written by its id (`0-1`) was read as
// its name: the same objects.
bool same_links(const mapping::Mapping& m, const std::string& stored) {
  return stored == links_of(m) || (!m.object.custom && stored == links_of(m, m.object.object_type_id));
}

model::Status check_links(const mapping::Mapping& m, state::StateStore& state) {
  auto stored = state.get_checkpoint(m.name, kLinks);
  if (!stored.ok()) return std::move(stored).error();
  const std::string now = links_of(m);
  if (*stored && (*stored)->value == now) return {};
  if (*stored && same_links(m, (*stored)->value)) return state.set_checkpoint(m.name, kLinks, now);
  if (*stored) {
    auto links = state.count_links(m.name);
    if (!links.ok()) return std::move(links).error();
    if (*links > 0)
      return model::make_error(
          model::ErrorKind::fatal,
          "mapping " + m.name + ": its " + std::to_string(*links) + " links were made for " + (*stored)->value +
              ", and it now says " + now + ": the links name rows by key value and objects by id, so they " +
              "would name other rows or objects. Put postgres.table, postgres.key and hubspot.object back; " +
              "to sync it this new way, give the mapping a new name once its changes are pushed (its rows " +
              "then link again by match value)");
  }
  return state.set_checkpoint(m.name, kLinks, now);
}

// Which rows and fields the push takes to HubSpot; empty when it does not push.
std::string push_scope(const mapping::Mapping& m) {
  if (!m.pushes()) return "";
  std::string out = "rows where " + (m.pg_filter.empty() ? std::string("true") : m.pg_filter) + "; deletes " +
                    mapping::to_string(m.deletes) + " " + m.soft_delete_column +
                    (m.keep_leaving ? "; leaving keep" : "") + "; fields";
  for (const auto& f : m.fields)
    if (f.to_hubspot()) out += " " + f.id;
  return out;
}

// Which objects and fields the pull takes to Postgres; empty when it does not pull.
std::string pull_scope(const mapping::Mapping& m) {
  if (!m.pulls()) return "";
  std::string out = "objects where";
  for (const auto& f : m.hubspot_filters) {
    out += " " + f.property + " " + mapping::to_string(f.op) + " " + f.value + " " + f.high_value;
    for (const auto& v : f.values) out += " " + v;
    out += ";";
  }
  out += " fields";
  for (const auto& f : m.fields)
    if (f.to_postgres()) out += " " + f.id;
  return out;
}

// An edit that widens or narrows what a direction syncs (a filter, the
// direction, a field added) changes no row, so no change would bring the
// rows it concerns: the push loads every row again (linked rows in
// agreement cost no HubSpot call) and the pull sweeps every object again.
model::Result<bool> check_scope(const mapping::Mapping& m, state::StateStore& state, const char* cursor,
                                const std::string& now, const char* restart) {
  auto stored = state.get_checkpoint(m.name, cursor);
  if (!stored.ok()) return std::move(stored).error();
  if (*stored && (*stored)->value == now) return false;
  const bool restarted = *stored && !now.empty();
  if (restarted)
    if (auto st = state.remove_checkpoint(m.name, restart); !st.ok()) return std::move(st).error();
  if (auto st = state.set_checkpoint(m.name, cursor, now); !st.ok()) return std::move(st).error();
  return restarted;
}

// The store-wide fingerprint lives under a mapping name no mapping can
// have (names are non-empty), so status, which lists checkpoints per
// mapping, never shows it.
constexpr const char* kStore = "";
constexpr const char* kDatabase = "fingerprint database";
constexpr const char* kPortal = "fingerprint portal";
constexpr const char* kPosition = "fingerprint change position";
constexpr const char* kMark = "fingerprint mark";

// One recorded part of the store's identity and what it is now.
struct IdentityPart {
  const char* cursor;
  std::string now;
  const char* what;    // "database" / "HubSpot portal"
  std::string now_is;  // where `now` comes from
  const char* names;   // what the links name in it
};

// A fatal error tagged kIdentityCategory: the store is not this database's.
model::Error identity_error(model::ErrorKind kind, std::string message) {
  auto e = model::make_error(kind, std::move(message));
  e.category = kIdentityCategory;
  return e;
}

std::string links_line(const std::map<std::string, std::size_t>& links) {
  std::size_t total = 0;
  std::string per;
  for (const auto& [mapping, n] : links) {
    total += n;
    per += (per.empty() ? "" : ", ") + mapping + ": " + std::to_string(n);
  }
  return std::to_string(total) + " links (" + per + ")";
}

model::Status identity_mismatch(const IdentityPart& p, const std::string& stored, const StoreIdentity& now,
                                const std::map<std::string, std::size_t>& links) {
  const std::string store = now.state_path.empty() ? "the state store" : "the state store " + now.state_path;
  return identity_error(
      model::ErrorKind::fatal,
      store + " holds " + links_line(links) + " made with " + p.what + " " + stored + ", and " + p.now_is + " " +
          p.now + ": the links name " + p.names + ", so they would name other records. Use the state file " +
          "made with this " + p.what + " (state.path), or a new state file to link its records again by " +
          "match value");
}

// A number the store recorded under `cursor`; nullopt when none (or
// unreadable: recorded again).
model::Result<std::optional<std::int64_t>> recorded(state::StateStore& state, const char* cursor) {
  auto stored = state.get_checkpoint(kStore, cursor);
  if (!stored.ok()) return std::move(stored).error();
  if (!*stored) return std::optional<std::int64_t>();
  try {
    return std::optional<std::int64_t>(std::stoll((*stored)->value));
  } catch (const std::exception&) {
    return std::optional<std::int64_t>();
  }
}

// The database's change counter only grows, and so does the mark it
// holds: one behind the store's record went back to an older backup, whose
// rows are older than the links and last agreed values (a row's old value
// would read as a Postgres edit, and rows inserted since would reuse keys
// linked to other people's objects). The mark catches a backup the
// application's writes since the restore carried past the counter.
model::Status check_position(const StoreIdentity& now, state::StateStore& state) {
  // What went back, in two parts around the name of the store.
  std::string held, recorded_as;
  if (now.change_position >= 0) {
    auto was = recorded(state, kPosition);
    if (!was.ok()) return std::move(was).error();
    if (*was && now.change_position < **was) {
      held = "its change counter is at " + std::to_string(now.change_position);
      recorded_as = " saw it at " + std::to_string(**was);
    }
  }
  if (held.empty() && now.mark >= 0) {
    auto was = recorded(state, kMark);
    if (!was.ok()) return std::move(was).error();
    if (*was && now.mark < **was) {
      held = "the last mark it holds is " + std::to_string(now.mark);
      recorded_as = " marked it at " + std::to_string(**was);
    }
  }
  if (held.empty()) return {};
  auto links = state.count_links_by_mapping();
  if (!links.ok()) return std::move(links).error();
  if (links->empty()) return {};
  const std::string store = now.state_path.empty() ? "the state store" : "the state store " + now.state_path;
  const std::string behind = held + ", and " + store + " (" + links_line(*links) + ")" + recorded_as;
  auto e = identity_error(
      model::ErrorKind::fatal,
      "this database went back: " + behind +
          ". It was restored from an older backup: the store's links and last agreed values are newer than its "
          "rows, so old values would overwrite HubSpot and new rows take other people's objects. Use the state "
          "file backed up together with this database (state.path), or a new state file to link its rows again "
          "(by match value, or the object id a row keeps)");
  e.code = kWentBackCode;
  return e;
}

}  // namespace

model::Status check_store_identity(const StoreIdentity& now, state::StateStore& state, bool record) {
  std::vector<IdentityPart> parts = {{kDatabase, now.database_id, "database", "this database is", "rows by key value"}};
  if (!now.portal_id.empty())
    parts.push_back({kPortal, now.portal_id, "HubSpot portal", now.portal_from, "objects by id"});
  std::vector<const IdentityPart*> unrecorded;  // new, or another with no links
  for (const auto& p : parts) {
    auto stored = state.get_checkpoint(kStore, p.cursor);
    if (!stored.ok()) return std::move(stored).error();
    if (*stored && (*stored)->value == p.now) continue;
    unrecorded.push_back(&p);
    if (!*stored) continue;
    auto links = state.count_links_by_mapping();
    if (!links.ok()) return std::move(links).error();
    if (!links->empty()) return identity_mismatch(p, (*stored)->value, now, *links);
  }
  if (auto st = check_position(now, state); !st.ok()) return st;
  if (!record) return {};
  for (const auto* p : unrecorded)
    if (auto st = state.set_checkpoint(kStore, p->cursor, p->now); !st.ok()) return st;
  if (now.change_position < 0) return {};
  return state.set_checkpoint(kStore, kPosition, std::to_string(now.change_position));
}

bool is_fingerprint_checkpoint(const std::string& cursor_name) { return cursor_name.rfind(kPrefix, 0) == 0; }

model::Result<FingerprintCheck> check_fingerprint(const mapping::Mapping& m, state::StateStore& state) {
  if (auto st = check_links(m, state); !st.ok()) return std::move(st).error();
  FingerprintCheck out;
  auto push = check_scope(m, state, kPushScope, push_scope(m), kInitialLoad);
  if (!push.ok()) return std::move(push).error();
  out.reload_push = *push;
  auto pull = check_scope(m, state, kPullScope, pull_scope(m), kSweepCheckpoint);
  if (!pull.ok()) return std::move(pull).error();
  out.sweep_again = *pull;
  for (const auto& f : m.fields) {
    auto stored = state.get_checkpoint(m.name, field_cursor(f.id));
    if (!stored.ok()) return std::move(stored).error();
    const std::string now = joined(f.properties);
    if (*stored && (*stored)->value == now) continue;
    if (*stored) {
      if (auto n = state.forget_field(m.name, f.id); !n.ok()) return std::move(n).error();
      out.forgotten.push_back(f.id + ": " + (*stored)->value + " -> " + now);
    }
    if (auto st = state.set_checkpoint(m.name, field_cursor(f.id), now); !st.ok()) return std::move(st).error();
  }
  return out;
}

model::Result<std::int64_t> mark_database(DatabasePort& db, state::StateStore& state) {
  auto mark = db.advance_position();
  if (!mark.ok()) return mark;
  // Below the store's mark: the database went back since it was last
  // checked (restored under a running serve). Recorded, the lower mark
  // would make the restored database pass every later check.
  StoreIdentity marked;
  marked.mark = *mark;
  if (auto st = check_position(marked, state); !st.ok()) return std::move(st).error();
  if (auto st = state.set_checkpoint(kStore, kMark, std::to_string(*mark)); !st.ok()) return std::move(st).error();
  return mark;
}

}  // namespace hubsync::pipeline
