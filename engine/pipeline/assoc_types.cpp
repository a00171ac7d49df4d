#include "engine/pipeline/assoc_types.h"

namespace hubsync::pipeline {

model::Result<AssociationType> AssociationTypes::get(const std::string& mapping,
                                                     const std::string& from_type,
                                                     const std::string& to_type,
                                                     const std::optional<std::int64_t>& type_id,
                                                     const std::string& label) {
  const std::string key = from_type + "|" + to_type + "|" +
                          (type_id ? std::to_string(*type_id) : "") + "|" + label;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  AssociationType type;
  if (type_id && label.empty()) {
    type.category = "HUBSPOT_DEFINED";
    type.type_id = static_cast<std::int32_t>(*type_id);
  } else {
    auto found = crm_.association_type(from_type, to_type, label);
    if (!found.ok()) return std::move(found).error();
    if (!*found)
      return model::make_error(model::ErrorKind::fatal,
                               "mapping " + mapping + ": no association label '" + label + "' from " + from_type +
                                   " to " + to_type +
                                   " (hubsync does not create labels: create it in HubSpot, Settings > Objects > "
                                   "Associations, or POST /crm/v4/associations/" + from_type + "/" + to_type + "/labels)");
    type = **found;
  }
  std::lock_guard lock(mu_);
  cache_[key] = type;
  return type;
}

}  // namespace hubsync::pipeline
