#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "connectors/hubspot/associations.h"
#include "connectors/hubspot/client.h"
#include "connectors/hubspot/objects.h"
#include "connectors/hubspot/properties.h"
#include "connectors/hubspot/search.h"
#include "engine/pipeline/crm_port.h"

namespace hubsync::hubspot {

/// The engine's CrmPort over HubSpot's API. Batch methods split inputs into
/// API-sized chunks, send the chunks concurrently (the client's in_flight),
/// and isolate inputs HubSpot rejects by bisecting their chunk, so one bad
/// record costs ~2·log2(100) extra calls and the rest of its chunk still goes
/// through. A chunk that still fails transiently after the client's retries
/// reports that error on each of its inputs; auth and fatal errors fail the
/// whole call. Thread-safe.
class HubSpotCrm final : public pipeline::CrmPort {
 public:
  explicit HubSpotCrm(HubSpotClient& client);

  model::Result<std::vector<pipeline::WriteOutcome>> upsert(const std::string& object_type,
                                                            const std::string& id_property,
                                                            const std::vector<pipeline::UpsertInput>& inputs) override;
  model::Result<std::vector<pipeline::WriteOutcome>> update(const std::string& object_type,
                                                            const std::vector<pipeline::UpdateInput>& inputs) override;
  model::Result<std::vector<pipeline::WriteOutcome>> archive(const std::string& object_type,
                                                             const std::vector<std::string>& ids) override;
  model::Result<std::vector<pipeline::ReadOutcome>> read_objects(const std::string& object_type,
                                                                 const std::vector<std::string>& ids,
                                                                 const pipeline::ReadRequest& request) override;
  model::Result<pipeline::ArchivedPage> list_archived(const std::string& object_type, const std::string& after,
                                                      const std::vector<std::string>& properties) override;
  model::Result<pipeline::SweepPage> sweep(const std::string& object_type, const pipeline::SweepCursor& from,
                                           const std::vector<std::string>& properties, int page_size = 200,
                                           const std::vector<mapping::HubspotFilter>& filters = {}) override;
  model::Result<std::vector<pipeline::WriteOutcome>> associate(
      const std::string& from_type, const std::string& to_type,
      const std::vector<pipeline::AssociationInput>& inputs) override;
  model::Result<std::vector<pipeline::Associated>> associations(const std::string& from_type,
                                                                const std::string& to_type,
                                                                const std::vector<std::string>& from_ids) override;
  model::Status unassociate(const std::string& from_type, const std::string& to_type,
                            const std::vector<std::pair<std::string, std::string>>& pairs) override;
  model::Status unassociate_types(const std::string& from_type, const std::string& to_type,
                                  const std::vector<pipeline::AssociationInput>& inputs) override;
  model::Result<std::optional<pipeline::AssociationType>> association_type(const std::string& from_type,
                                                                           const std::string& to_type,
                                                                           const std::string& label) override;

  std::optional<model::ClockOffset> clock_offset() const override { return client_.clock_offset(); }

  ObjectsApi& objects() { return objects_; }
  SearchApi& search() { return search_; }
  AssociationsApi& associations_api() { return associations_; }
  PropertiesApi& properties() { return properties_; }
  HubSpotClient& client() { return client_; }
  /// read_objects() by HubSpot id looks ids HubSpot no longer resolves up in
  /// hs_merged_object_ids (one search per five missing ids). On by default.
  void set_follow_merges(bool on) { follow_merges_ = on; }

 private:
  /// batch/read of `ids` in concurrent chunks (100, or 50 with history).
  model::Result<std::vector<pipeline::ReadOutcome>> read_batches(const std::string& type,
                                                                 const std::vector<std::string>& ids,
                                                                 const pipeline::ReadRequest& request);
  /// Replaces a sweep page's records, which carry only the sweep's own
  /// properties, with batch/read of `properties` (their state at the read,
  /// changed_at_ms too); an object archived or merged away since the
  /// search is dropped, and a per-object error fails the page.
  model::Status read_rest(const std::string& type, const std::vector<std::string>& properties,
                          std::vector<model::Record>& records);
  /// Finds the survivors of ids in `out` that found nothing (by search on
  /// hs_merged_object_ids); their history, when asked, and their properties,
  /// when too many for a search body, by a second read.
  model::Status follow_merges(const std::string& type, const std::vector<std::string>& ids,
                              const pipeline::ReadRequest& request, std::vector<pipeline::ReadOutcome>& out);
  /// The mapping's filters as search filters, ISO dates on date and datetime
  /// properties turned into epoch ms (property types looked up once, cached).
  model::Result<std::vector<Filter>> sweep_filters(const std::string& type,
                                                   const std::vector<mapping::HubspotFilter>& filters);

  HubSpotClient& client_;
  ObjectsApi objects_;
  SearchApi search_;
  AssociationsApi associations_;
  PropertiesApi properties_;
  bool follow_merges_ = true;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::vector<pipeline::AssociationType>> labels_;
  /// (object type, property) -> HubSpot type ("" when there is no such property).
  std::map<std::pair<std::string, std::string>, std::string> property_types_;
};

}  // namespace hubsync::hubspot
