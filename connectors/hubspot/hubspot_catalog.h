#pragma once

#include "connectors/hubspot/associations.h"
#include "connectors/hubspot/properties.h"
#include "engine/mapping/catalog.h"

namespace hubsync::hubspot {

/// The mapping engine's HubSpot ports over the properties, schemas and
/// association-label endpoints: live checks read through CrmCatalog,
/// `schema apply` writes through SchemaWriter (create only; an existing
/// schema, property or association is a conflict error). Thread-safe.
class HubSpotCatalog final : public mapping::CrmCatalog, public mapping::SchemaWriter {
 public:
  explicit HubSpotCatalog(HubSpotClient& client) : properties_(client), associations_(client) {}

  model::Result<std::optional<std::vector<mapping::CrmProperty>>> properties(const std::string& object_type) override;
  model::Result<std::optional<mapping::CrmSchema>> schema(const std::string& name) override;
  model::Result<std::vector<mapping::CrmAssociationType>> association_types(
      const std::string& from_object_type_id, const std::string& to_object_type_id) override;

  model::Result<std::string> create_schema(const mapping::SchemaSpec& spec,
                                           const std::vector<std::string>& associated_object_type_ids) override;
  model::Status create_property(const std::string& object_type, const mapping::PropertySpec& property) override;
  model::Status create_association(const std::string& from_object_type_id, const std::string& to_object_type_id,
                                   const std::string& name) override;

 private:
  PropertiesApi properties_;
  AssociationsApi associations_;
};

}  // namespace hubsync::hubspot
