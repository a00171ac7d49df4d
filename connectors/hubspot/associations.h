#pragma once

#include <string>
#include <utility>
#include <vector>

#include "connectors/hubspot/client.h"
#include "engine/pipeline/crm_port.h"

namespace hubsync::hubspot {

/// Inputs per v4 batch call: create and archive in hundreds (as objects),
/// read up to HubSpot's 1,000.
inline constexpr std::size_t kMaxAssociationWrite = 100;
inline constexpr std::size_t kMaxAssociationRead = 1000;

/// Associations v4 (/crm/v4/associations/{from}/{to}/…). Types are object
/// type names or ids. Thread-safe.
class AssociationsApi {
 public:
  explicit AssociationsApi(HubSpotClient& client) : client_(client) {}

  /// batch/create with explicit types; per-input outcomes (hubspot_id holds
  /// the from id). Idempotent. At most kMaxAssociationWrite inputs.
  model::Result<std::vector<pipeline::WriteOutcome>> batch_create(
      const std::string& from, const std::string& to, const std::vector<pipeline::AssociationInput>& inputs);

  /// batch/read of every association of each id, following each input's
  /// paging until exhausted. Ids without associations give empty `to`.
  /// At most kMaxAssociationRead ids.
  model::Result<std::vector<pipeline::Associated>> batch_read(const std::string& from, const std::string& to,
                                                              const std::vector<std::string>& ids);

  /// batch/archive: removes all associations between each (from, to) pair.
  /// Idempotent. At most kMaxAssociationWrite pairs.
  model::Status batch_archive(const std::string& from, const std::string& to,
                              const std::vector<std::pair<std::string, std::string>>& pairs);

  /// batch/labels/archive: removes only each input's type between its pair
  /// (the unlabelled type takes every label with it, as HubSpot documents).
  /// Idempotent. At most kMaxAssociationWrite inputs.
  model::Status batch_archive_labels(const std::string& from, const std::string& to,
                                     const std::vector<pipeline::AssociationInput>& inputs);

  /// GET …/labels: every association type from `from` to `to`.
  model::Result<std::vector<pipeline::AssociationType>> labels(const std::string& from, const std::string& to);

 private:
  std::string base(const std::string& from, const std::string& to) const;
  HubSpotClient& client_;
};

}  // namespace hubsync::hubspot
