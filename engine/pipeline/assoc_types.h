#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "engine/pipeline/crm_port.h"

namespace hubsync::pipeline {

/// The association type a mapping names (an id, a label, or neither for
/// the default), looked up in HubSpot once and cached. Thread-safe.
class AssociationTypes {
 public:
  explicit AssociationTypes(CrmPort& crm) : crm_(crm) {}

  /// The type from `from_type` to `to_type`: a bare numeric id is taken as
  /// HUBSPOT_DEFINED; a label (or none) is looked up. Error `fatal` naming
  /// `mapping` when HubSpot has no such label; transport errors as the port.
  model::Result<AssociationType> get(const std::string& mapping, const std::string& from_type,
                                     const std::string& to_type,
                                     const std::optional<std::int64_t>& type_id,
                                     const std::string& label);

 private:
  CrmPort& crm_;
  std::mutex mu_;
  std::map<std::string, AssociationType> cache_;
};

}  // namespace hubsync::pipeline
