#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connectors/hubspot/client.h"
#include "engine/pipeline/crm_port.h"

namespace hubsync::hubspot {

using pipeline::ReadOutcome;
using pipeline::UpsertInput;
using pipeline::WriteOutcome;

/// Batch endpoints take at most this many inputs; more is refused locally.
inline constexpr std::size_t kMaxBatchInputs = 100;
/// batch/read asking for propertiesWithHistory takes at most this many.
inline constexpr std::size_t kMaxHistoryBatchInputs = 50;
/// A list page holds at most this many objects.
inline constexpr int kMaxListLimit = 100;
/// Property lists longer than this (as a query string) go through batch/read.
inline constexpr std::size_t kMaxPropertiesQuery = 2000;

/// Whether `properties` fit in a query string (else read them with batch/read).
bool fits_in_url(const std::vector<std::string>& properties);

struct ListPage {
  std::vector<model::Record> records;
  std::string next_after;  ///< empty on the last page
};

/// CRM objects v3 (/crm/v3/objects/{type}). Object types are names
/// (contacts, companies, p_thing) or ids (0-1, 2-123). Records carry every
/// property as text, as HubSpot sends them. Batch calls take at most
/// kMaxBatchInputs inputs (a fatal error otherwise) and report per-input
/// outcomes in input order; a batch HubSpot rejects as a whole (400 for one
/// invalid input, 409) is returned as that error when it has more than one
/// input, and as the single input's outcome when it has one, so callers can
/// isolate a bad input by splitting. Thread-safe.
class ObjectsApi {
 public:
  explicit ObjectsApi(HubSpotClient& client) : client_(client) {}

  /// Batch writes tag inputs with objectWriteTraceId (their index) so HubSpot
  /// answers 207 with per-input errors instead of failing the batch; off,
  /// a bad input fails its batch with a 400 (the CrmPort then bisects).
  void set_write_trace_ids(bool on) { trace_ids_ = on; }

  /// GET one object by id (or by a unique property with `id_property`).
  /// nullopt when HubSpot has no such object. Long property lists are read
  /// with batch/read so the URL never grows past ~2 kB.
  model::Result<std::optional<model::Record>> get(const std::string& type, const std::string& id,
                                                  const std::vector<std::string>& properties,
                                                  const std::string& id_property = "");

  /// One page of GET /{type}; `archived` true lists only archived objects.
  model::Result<ListPage> list(const std::string& type, const std::vector<std::string>& properties,
                               const std::string& after = "", int limit = 100, bool archived = false);

  /// POST batch/read?archived=… by HubSpot id or by `request.id_property`,
  /// with request.properties and the history of request.history. At most
  /// kMaxBatchInputs ids, kMaxHistoryBatchInputs when history is asked (a
  /// fatal error otherwise). Outcomes in input order, repeated ids each
  /// answered: a result finds its inputs by id, else by its id_property value
  /// (exactly, then for emails case-insensitively: HubSpot lower-cases
  /// them), else —
  /// a survivor HubSpot returned for an absorbed id — through
  /// hs_merged_object_ids (merged_into set). Not found: no record, no error.
  model::Result<std::vector<ReadOutcome>> batch_read(const std::string& type,
                                                     const std::vector<std::string>& ids,
                                                     const pipeline::ReadRequest& request);

  /// POST /{type}: creates one object. Not idempotent.
  model::Result<model::Record> create(const std::string& type, const model::Fields& properties);
  /// PATCH /{type}/{id}: "" clears a value. Idempotent.
  model::Result<model::Record> update(const std::string& type, const std::string& id,
                                      const model::Fields& properties);
  /// DELETE /{type}/{id}: archives. Idempotent (404 counts as done).
  model::Status archive(const std::string& type, const std::string& id);

  /// batch/create. Not idempotent: retried only when HubSpot surely did not act.
  model::Result<std::vector<WriteOutcome>> batch_create(const std::string& type,
                                                        const std::vector<model::Fields>& inputs);
  /// batch/update by HubSpot id. Idempotent.
  model::Result<std::vector<WriteOutcome>> batch_update(const std::string& type,
                                                        const std::vector<pipeline::UpdateInput>& inputs);
  /// batch/upsert keyed on a unique property. Idempotent.
  model::Result<std::vector<WriteOutcome>> batch_upsert(const std::string& type,
                                                        const std::string& id_property,
                                                        const std::vector<UpsertInput>& inputs);
  /// batch/archive (204). Idempotent.
  model::Result<std::vector<WriteOutcome>> batch_archive(const std::string& type,
                                                         const std::vector<std::string>& ids);

  /// POST /{type}/merge. The survivor may carry a new id: use the returned one.
  model::Result<model::Record> merge(const std::string& type, const std::string& primary_id,
                                     const std::string& merged_id);

 private:
  HubSpotClient& client_;
  bool trace_ids_ = true;
};

/// "/crm/v3/objects/{type}" with the type percent-encoded.
std::string objects_path(const std::string& type);

}  // namespace hubsync::hubspot
