#include "engine/actions/properties.h"

namespace hubsync::actions {

using model::ErrorKind;

model::Result<const PropertyMap*> PropertyBook::of(const mapping::Mapping& m, bool fresh) {
  if (auto it = by_object_.find(m.object.name); it != by_object_.end() && !fresh) return &it->second;
  std::string type = m.object.custom && !m.object.object_type_id.empty() ? m.object.object_type_id : m.object.name;
  if (m.object.custom && m.object.object_type_id.empty()) {
    auto s = catalog_.schema(m.object.name);
    if (!s) return std::move(s).error();
    if (!*s)
      return model::make_error(ErrorKind::invalid_record,
                               "mapping " + m.name + ": custom object " + m.object.name + " does not exist in HubSpot");
    type = (*s)->object_type_id;
  }
  auto list = catalog_.properties(type);
  if (!list) return std::move(list).error();
  if (!*list)
    return model::make_error(ErrorKind::invalid_record,
                             "mapping " + m.name + ": object type " + type + " does not exist in HubSpot");
  PropertyMap& kept = by_object_[m.object.name];
  kept.clear();
  for (const auto& p : **list) kept[p.name] = p;
  return &kept;
}

}  // namespace hubsync::actions
