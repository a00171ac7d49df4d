#pragma once

// The HubSpot property definitions of the mappings' objects, read through
// the catalog and kept: what `actions apply` types an action's fields
// with, and what serve checks a write action's values against.
#include <map>
#include <string>

#include "engine/mapping/catalog.h"

namespace hubsync::actions {

/// A HubSpot object type's properties, by name.
using PropertyMap = std::map<std::string, mapping::CrmProperty>;

class PropertyBook {
 public:
  /// `catalog` must outlive the book.
  explicit PropertyBook(mapping::CrmCatalog& catalog) : catalog_(catalog) {}

  /// Every property of `m`'s object: read from the catalog the first time
  /// (a custom object given by name is looked up first), then kept; with
  /// `fresh` read again (HubSpot may have changed a property since). The
  /// pointer stays valid as long as the book. Errors: `invalid_record`
  /// naming the mapping when the object type does not exist in HubSpot;
  /// the catalog's own (`transient`, `auth`, ...) when it could not be
  /// read, the kept copy then unchanged. Not thread-safe.
  model::Result<const PropertyMap*> of(const mapping::Mapping& m, bool fresh = false);

 private:
  mapping::CrmCatalog& catalog_;
  std::map<std::string, PropertyMap> by_object_;  // HubspotObject::name -> properties
};

}  // namespace hubsync::actions
