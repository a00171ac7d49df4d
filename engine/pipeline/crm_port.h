#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/clock_offset.h"
#include "engine/model/record.h"
#include "engine/model/result.h"

namespace hubsync::pipeline {

/// One record to write, keyed on the mapping's unique match property.
struct UpsertInput {
  std::string match_value;   ///< the idProperty value (e.g. an email)
  model::Fields properties;  ///< sent as canonical text; null clears ("")
};

/// One existing object to update by its HubSpot id (batch/update): used for
/// rows already linked, so a changed match value (a new email) updates the
/// same object instead of creating another.
struct UpdateInput {
  std::string id;            ///< HubSpot object id
  model::Fields properties;  ///< only the properties that changed; null clears ("")
};

/// What happened to one input of a batch write, in input order.
///
/// `stored` is HubSpot's own answer to the write: the properties of the
/// object as the write response carried them, which are the values HubSpot
/// stored after normalising what was sent (emails lower-cased, dates and
/// datetimes reformatted, ...). It holds what the answer carried and nothing
/// else: a property the answer left out, or carried as null, is absent, and
/// the caller falls back to the value it sent. `""` means HubSpot holds no
/// value. The answer may also carry properties nobody sent (hs_object_id,
/// createdate, the last-modified property); take only the ones you wrote.
/// Filled for successful batch create, update and upsert inputs; empty on
/// failure and for archive and associate.
struct WriteOutcome {
  std::string hubspot_id;            ///< set on success
  bool created = false;              ///< upsert: HubSpot's `new`
  std::optional<model::Error> error; ///< set on failure of this input only
  std::string existing_id;           ///< on a 409 CONFLICT: the object already holding the value
  std::map<std::string, std::string> stored = {};  ///< the object's properties as HubSpot answered the write (the values it stored: emails lower-cased, numbers and dates normalised); empty when the answer carried none

  bool ok() const { return !error.has_value(); }
};

/// One version of a property's value, as propertiesWithHistory reports it.
struct PropertyVersion {
  std::string value;
  std::int64_t timestamp_ms = 0;
  std::string source_type;  ///< INTEGRATION, CRM_UI, IMPORT, API, ...
  std::string source_id;    ///< e.g. the app id for INTEGRATION
};

/// What to read (CrmPort::read_objects).
struct ReadRequest {
  std::vector<std::string> properties;  ///< values to read (any number: POST body)
  std::vector<std::string> history;     ///< properties whose history to read too
  std::string id_property;              ///< empty: ids are HubSpot ids; else values of this unique property
  bool archived = false;                ///< read archived objects instead of live ones
};

/// What a read found for one requested id, in input order.
struct ReadOutcome {
  std::optional<model::Record> record;  ///< absent: no such object (deleted, archived, merged away unseen)
  /// Set when the requested id was merged into another object: `record` is
  /// the survivor, whose id differs from the one asked for.
  std::string merged_into;
  std::optional<model::Error> error;    ///< a per-input failure other than not-found
  std::map<std::string, std::vector<PropertyVersion>> history;  ///< newest first; only properties asked in ReadRequest::history
};

/// One page of archived objects (CrmPort::list_archived).
struct ArchivedPage {
  std::vector<model::Record> records;  ///< archived objects; Record::changed_at_ms = archivedAt
  std::string next_after;              ///< empty on the last page
};

/// Where a sweep stands: every object with (last-modified, id) after
/// (modified_ms, after_id) is still to be read. Checkpoint `encode()` after
/// the page's records are applied. Compare ids numerically: `after_id` empty
/// means "all objects modified exactly at modified_ms".
///
/// Outside a tie (`in_tie` false) with `seen` not empty, the objects
/// modified exactly at modified_ms are still to be read too, all but those
/// in `seen`: a page that ended inside a run of equal timestamps hands on
/// the ids it read of that run, and the next page asks past them instead of
/// reading the run again.
///
/// A cursor with `until_ms` set sweeps a window: only objects modified at
/// or before until_ms, so that windows side by side split a sweep.
struct SweepCursor {
  static constexpr std::int64_t kUnbounded = std::numeric_limits<std::int64_t>::max();

  SweepCursor(std::int64_t ms = 0, std::string after = {}, bool tie = true, std::vector<std::string> seen_ids = {},
              std::int64_t until = kUnbounded)
      : modified_ms(ms), after_id(std::move(after)), in_tie(tie), seen(std::move(seen_ids)), until_ms(until) {}

  std::int64_t modified_ms = 0;
  std::string after_id;
  bool in_tie = true;  ///< objects modified exactly at modified_ms not yet exhausted
  std::vector<std::string> seen;  ///< outside a tie: ids read of those modified at modified_ms
  std::int64_t until_ms = kUnbounded;  ///< the window's last modified time (kUnbounded: none)

  std::string encode() const;
  static std::optional<SweepCursor> decode(std::string_view text);
  /// A cursor that reads everything modified at or after `ms`.
  static SweepCursor since(std::int64_t ms) { return SweepCursor{ms, "", true}; }
  friend bool operator==(const SweepCursor&, const SweepCursor&) = default;
};

struct SweepPage {
  std::vector<model::Record> records;  ///< (time, id) ascending across pages
  SweepCursor next;
  bool done = false;  ///< nothing more was modified after `next` when asked
  /// How many objects HubSpot counted from this page's cursor on (this
  /// page's included), for progress; -1: not known (a page inside one
  /// millisecond's run counts only that run).
  std::int64_t remaining = -1;
};

/// An association type between two object types, as HubSpot names it.
struct AssociationType {
  std::string category;  ///< HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED
  std::int32_t type_id = 0;
  std::string label;     ///< empty for the unlabelled default
};

struct AssociationInput {
  std::string from_id;
  std::string to_id;
  AssociationType type;
};

/// The associations of one object to objects of another type.
struct Associated {
  std::string from_id;
  struct Target {
    std::string to_id;
    std::vector<AssociationType> types;
  };
  std::vector<Target> to;
};

/// The engine's view of the CRM (HubSpot). Batch methods take any number of
/// inputs: the implementation chunks them to the API's batch sizes, sends
/// chunks concurrently within the portal's rate limit and retries transient
/// failures (429, 5xx, 423, timeouts, resets) itself. Per-input failures come
/// back in the outcomes, in input order, the rest of the batch having gone
/// through: invalid_record and conflict for inputs HubSpot rejects, and
/// transient / rate_limited on every input of a chunk whose retries ran out
/// (retry those later). The Result's own error means the call as a whole
/// cannot proceed — auth (token refused, scopes missing) or fatal (misuse) —
/// and nothing can be assumed about which inputs were applied.
/// All methods are thread-safe.
class CrmPort {
 public:
  virtual ~CrmPort() = default;

  /// Creates or updates objects by the unique property `id_property`
  /// (batch/upsert). Idempotent: repeating a call after a crash creates no
  /// duplicate. An input HubSpot rejects (validation, conflict) is isolated
  /// by splitting its batch and reported alone; outcomes hold the HubSpot id
  /// and whether it was created.
  virtual model::Result<std::vector<WriteOutcome>> upsert(const std::string& object_type,
                                                          const std::string& id_property,
                                                          const std::vector<UpsertInput>& inputs) = 0;

  /// Updates objects by HubSpot id (batch/update). A missing object (deleted
  /// or merged away) is a per-input error with http_status 404, so the
  /// caller can re-link or recreate it; a unique-value clash is `conflict`
  /// with existing_id set. Idempotent.
  virtual model::Result<std::vector<WriteOutcome>> update(const std::string& object_type,
                                                          const std::vector<UpdateInput>& inputs) = 0;

  /// Archives (soft-deletes) objects by HubSpot id. Idempotent: archiving an
  /// archived or unknown id succeeds.
  virtual model::Result<std::vector<WriteOutcome>> archive(const std::string& object_type,
                                                           const std::vector<std::string>& ids) = 0;

  /// Reads objects by HubSpot id, or by the values of the unique property
  /// `request.id_property` (batch/read with idProperty), with the requested
  /// properties (any number: sent in a POST body, never a URL) and, for the
  /// properties in `request.history`, their versions newest first (HubSpot
  /// takes at most 50 inputs per call then, so chunks shrink to 50). One
  /// outcome per id, in input order; any number of ids (chunked, sent
  /// concurrently); repeated ids share one lookup. An id or value that
  /// matches nothing gives an outcome without record and without error.
  /// Emails match case-insensitively, as HubSpot stores them lower-cased: the
  /// record's email may differ in case from the value asked for.
  /// By HubSpot id (and not archived) merges are followed: an absorbed id
  /// yields the survivor and `merged_into` (ids that no longer resolve are
  /// looked up in hs_merged_object_ids, one search call per five such ids).
  /// `request.archived` reads archived objects only (live ones are not
  /// found). Read-only.
  virtual model::Result<std::vector<ReadOutcome>> read_objects(const std::string& object_type,
                                                               const std::vector<std::string>& ids,
                                                               const ReadRequest& request) = 0;

  /// read_objects by HubSpot id with `properties` and no history.
  model::Result<std::vector<ReadOutcome>> read(const std::string& object_type, const std::vector<std::string>& ids,
                                               const std::vector<std::string>& properties) {
    return read_objects(object_type, ids, ReadRequest{properties, {}, "", false});
  }

  /// One page of archived objects of a type (GET
  /// /crm/v3/objects/{type}?archived=true), with the given properties (if
  /// too many for a URL, read ids first then batch/read with archived=true).
  /// Pages hold up to 100 objects; start with `after` empty and pass each
  /// page's next_after until it is empty. Deletions never appear in search:
  /// this is how a pull learns of them. Record::changed_at_ms is archivedAt.
  /// Read-only.
  virtual model::Result<ArchivedPage> list_archived(const std::string& object_type, const std::string& after,
                                                    const std::vector<std::string>& properties) = 0;

  /// One page of the modified-since sweep: objects whose last-modified time
  /// and id come after `from` (and whose time is not after from.until_ms,
  /// when set: a window), oldest first, ordered by (time, id). Never
  /// skips or repeats an object at HubSpot's 10,000-result search cap or
  /// when thousands share one timestamp (an object modified again during the
  /// sweep comes back once more, with its new state). A page may be empty
  /// and not done: keep calling until `done`. Uses the search budget (5/s).
  /// Callers start from a checkpoint minus an overlap window (search lags
  /// writes by seconds). Read-only.
  ///
  /// A page that ends inside a run of equal timestamps hands the ids it read
  /// of the run on in `next.seen`, and the next page asks past them, so a
  /// page brings a page of objects not read before however the runs fall
  /// (runs of up to 100 read across pages; a longer one is read again).
  ///
  /// `filters` (a mapping's HubSpot-side filters; the validator allows 3)
  /// are ANDed with the sweep's own window filters (at most 2) in each of
  /// its filter groups: objects outside them are never returned, with the same
  /// guarantees as without. An object that stops matching (its value
  /// changed) is therefore not seen again: like a delete, the sweep cannot
  /// report it. Values go to HubSpot as written, except that ISO-8601 dates
  /// and datetimes (`2024-05-01`, `2024-05-01T12:00:00Z`) on date and
  /// datetime properties become epoch milliseconds, as HubSpot's search
  /// wants (the property's type is looked up once and cached). More than 4
  /// filters is fatal (HubSpot takes 6 per group); a filter HubSpot refuses
  /// (unknown property, bad value) is invalid_record.
  ///
  /// Properties too many for one search body (HubSpot takes 3,000
  /// characters, properties included: ~100 properties) are read apart by
  /// id (batch/read, 100 a call, on the general budget): the search asks
  /// only for the sweep's own. Such a record carries its state at the read
  /// and that state's time (never older than the search's); one archived
  /// or merged away between the two is left out of the page.
  virtual model::Result<SweepPage> sweep(const std::string& object_type, const SweepCursor& from,
                                         const std::vector<std::string>& properties,
                                         int page_size = 200,
                                         const std::vector<mapping::HubspotFilter>& filters = {}) = 0;

  /// Creates associations (v4 batch/create). Idempotent.
  virtual model::Result<std::vector<WriteOutcome>> associate(
      const std::string& from_type, const std::string& to_type,
      const std::vector<AssociationInput>& inputs) = 0;

  /// All associations of the given objects to `to_type`, every page read.
  /// Read-only.
  virtual model::Result<std::vector<Associated>> associations(const std::string& from_type,
                                                              const std::string& to_type,
                                                              const std::vector<std::string>& from_ids) = 0;

  /// Removes every association between each pair, labels people added in
  /// HubSpot included (prefer unassociate_types). Idempotent.
  virtual model::Status unassociate(const std::string& from_type, const std::string& to_type,
                                    const std::vector<std::pair<std::string, std::string>>& pairs) = 0;

  /// Removes only the given association types between each pair (v4
  /// batch/labels/archive); other labels between the pair stay. Idempotent
  /// (removing a type that is not there succeeds).
  /// Exception, as HubSpot documents: removing the unlabelled type (empty
  /// AssociationType::label) removes every label between the pair too. A
  /// type not defined between the two object types fails the call
  /// (invalid_record). Any number of inputs (chunks of 100, concurrent).
  virtual model::Status unassociate_types(const std::string& from_type, const std::string& to_type,
                                          const std::vector<AssociationInput>& inputs) = 0;

  /// The association type named `label` from `from_type` to `to_type`
  /// (empty label: the unlabelled default). nullopt when no such label
  /// exists. Looked up once and cached. Read-only.
  virtual model::Result<std::optional<AssociationType>> association_type(const std::string& from_type,
                                                                         const std::string& to_type,
                                                                         const std::string& label) = 0;

  /// HubSpot's clock against this process's Clock (HubSpot's − ours), as
  /// the answers HubSpot gave so far bound it; nullopt before the first.
  /// Times HubSpot stamps (property versions, modification times) are on
  /// its clock: `conflict: newest` compares them less this. No call made;
  /// thread-safe.
  virtual std::optional<model::ClockOffset> clock_offset() const = 0;
};

// "ms:after_id:tie", then ":id,id,..." when `seen` has ids (HubSpot ids are
// decimal: no ':' or ','). A checkpoint written before `seen` existed reads
// the same.
// "ms:after:tie[:seen ids, comma-separated[:until]]".
inline std::string SweepCursor::encode() const {
  std::string out = std::to_string(modified_ms) + ":" + after_id + ":" + (in_tie ? "1" : "0");
  if (!seen.empty() || until_ms != kUnbounded) out += ":";
  for (std::size_t i = 0; i < seen.size(); ++i) out += (i ? "," : "") + seen[i];
  if (until_ms != kUnbounded) out += ":" + std::to_string(until_ms);
  return out;
}

inline std::optional<SweepCursor> SweepCursor::decode(std::string_view text) {
  const auto a = text.find(':');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = text.find(':', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto ms = model::parse_integer(text.substr(0, a));
  if (!ms.ok()) return std::nullopt;
  const auto c = text.find(':', b + 1);
  const auto tie = text.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
  if (tie != "0" && tie != "1") return std::nullopt;
  SweepCursor out{*ms, std::string(text.substr(a + 1, b - a - 1)), tie == "1", {}};
  if (c == std::string_view::npos) return out;
  const auto d = text.find(':', c + 1);
  const auto ids = text.substr(c + 1, d == std::string_view::npos ? std::string_view::npos : d - c - 1);
  if (d != std::string_view::npos) {
    auto until = model::parse_integer(text.substr(d + 1));
    if (!until.ok()) return std::nullopt;
    out.until_ms = *until;
  }
  if (ids.empty()) return d == std::string_view::npos ? std::nullopt : std::optional<SweepCursor>(out);
  for (std::size_t at = 0;;) {
    const auto comma = ids.find(',', at);
    const auto id = ids.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    if (id.empty()) return std::nullopt;
    out.seen.emplace_back(id);
    if (comma == std::string_view::npos) return out;
    at = comma + 1;
  }
}

}  // namespace hubsync::pipeline
