#pragma once

// What a mapping's links and merge bases in the state store were made with,
// kept beside them as checkpoints, so that a mapping edited since does not
// read them as if nothing had changed.
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"
#include "engine/pipeline/database_port.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// What checking a mapping's fingerprint did.
struct FingerprintCheck {
  /// Fields whose HubSpot properties changed since their bases were stored
  /// ("first_name: jobtitle -> company"); their bases are forgotten.
  std::vector<std::string> forgotten;
  /// What the push syncs changed (filter.postgres, direction, deletes, a
  /// field to HubSpot added or removed): its initial load starts again.
  bool reload_push = false;
  /// What the pull syncs changed (filter.hubspot, direction, a field to
  /// Postgres added or removed): its next sweep reads every object.
  bool sweep_again = false;
};

/// Called before a mapping syncs (run, serve at start and on reload, plan).
/// Its links name rows by key values of a table and objects of a type: if
/// the table, the key columns or the object type changed while links
/// exist, the links would name other rows or objects, so this fails with
/// `fatal` naming both versions and nothing is changed. A field whose
/// properties changed has its bases forgotten (state::StateStore::
/// forget_field): each row's next merge of it is a first link (a value on
/// one side fills the other; different values are a conflict), where the
/// old base, taken for the new property's, read an empty property as a
/// change that cleared the column. An edit of what a direction syncs
/// restarts it (FingerprintCheck::reload_push, sweep_again): no row
/// changed, so no change would bring the rows and objects it concerns.
/// Then the current fingerprint is stored.
/// A mapping seen for the first time (or a state store from before
/// fingerprints) just records it. Errors: the store's.
model::Result<FingerprintCheck> check_fingerprint(const mapping::Mapping& m, state::StateStore& state);

/// What a whole state store's links were made with: which database (the id
/// `hubsync migrate` gave it, DatabasePort::identity) and which HubSpot
/// portal (the one HubSpot says the token is for, else config
/// hubspot.portal_id).
struct StoreIdentity {
  std::string database_id;
  std::string portal_id;   ///< empty: unknown, neither checked nor recorded
  std::string state_path;  ///< the state file, for messages (may be empty)
  /// DatabasePort::identity().position; negative: unknown, not checked.
  std::int64_t change_position = -1;
  /// DatabasePort::identity().mark; negative: unknown, not checked.
  std::int64_t mark = -1;
  /// Where portal_id comes from, for messages: "<portal_from> <portal_id>".
  std::string portal_from = "hubspot.portal_id is";
};

/// Called before any mapping syncs (run, serve at start and on reload,
/// plan), before check_fingerprint. The links name rows by key value and
/// objects by id: made with another database (or portal) they name that
/// one's rows (objects), and a run would overwrite this database's people's
/// HubSpot objects with another's. So when links exist (of any mapping,
/// configured or not) and the store recorded another database id or
/// portal, this fails with `fatal` naming both, the state file and the
/// way out, and records nothing. Otherwise the current identity is stored
/// once for the whole store (a store holds one database's links): a first
/// run, a store from before identities, or a store without links just
/// records it. The database's change counter is recorded too: one lower
/// than recorded, or a mark lower than mark_database() recorded, while
/// links exist, means the database went back (restored from an older
/// backup, with the same id) while the store kept the newer links and last
/// agreed values; that fails the same way.
/// With `record` false (`status`, on a read-only store) it only checks.
/// Errors: the store's.
model::Status check_store_identity(const StoreIdentity& now, state::StateStore& state, bool record = true);

/// Marks the database (DatabasePort::advance_position: its counter moved on
/// and recorded as its mark, in a synchronous commit) and records that mark
/// in the store, so that check_store_identity knows a database restored
/// from any backup taken before as gone back, however far the
/// application's writes carry its counter after the restore. run calls it
/// after its syncing, serve after changes. Returns the mark. Errors: the
/// database's (`transient` as usual); a mark below the one the store holds
/// (the database was restored since it was last checked) is refused as
/// check_store_identity refuses it (`fatal`, kIdentityCategory) and not
/// recorded; then the store's, where a mark the store failed to record
/// only weakens the next check.
model::Result<std::int64_t> mark_database(DatabasePort& db, state::StateStore& state);

/// The category of check_store_identity's own refusals (another database or
/// portal, a database gone back), as against the store's errors.
inline constexpr const char* kIdentityCategory = "STORE_IDENTITY";
/// The code of a refusal because the database went back (its counter or
/// mark below the store's: restored from an older backup).
inline constexpr const char* kWentBackCode = "DATABASE_WENT_BACK";

/// The checkpoint names the fingerprint uses (status leaves them out).
bool is_fingerprint_checkpoint(const std::string& cursor_name);

}  // namespace hubsync::pipeline
