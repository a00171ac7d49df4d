#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/mapping/catalog.h"
#include "engine/mapping/types.h"

namespace hubsync::mapping {

/// What `hubsync schema apply` would change in HubSpot for one mapping's
/// `schema` block. Only additions: hubsync never deletes a property or an
/// object and never changes a type; differences it cannot fix are findings.
struct SchemaPlan {
  struct CreateObject {
    SchemaSpec spec;
    std::vector<std::string> associated_object_type_ids;  ///< resolved: 0-1, 2-<n>
  };
  struct AddProperty {
    std::string object_type;  ///< contacts, or the custom object's 2-<n>
    PropertySpec property;
  };
  struct AddAssociation {
    std::string from_object_type_id, to_object_type_id, name;
  };

  std::string mapping;
  std::optional<CreateObject> create_object;
  std::vector<AddProperty> add_properties;
  std::vector<AddAssociation> add_associations;
  /// Errors (type mismatches, unresolvable objects), warnings (labels or
  /// options that differ and will not be changed), unavailable (catalog
  /// could not be asked: the plan is incomplete).
  Findings findings;

  bool empty() const { return !create_object && add_properties.empty() && add_associations.empty(); }
  /// One line per change, e.g. "create object event (5 properties)".
  std::vector<std::string> describe() const;
  /// describe()'s lines after apply_schema made the first `made` changes
  /// (" (done)"); with `failed`, the next one failed (" FAILED: <why>") and
  /// the rest were not tried (" (not tried)").
  std::vector<std::string> describe_applied(int made, const model::Error* failed) const;
};

/// Diffs a mapping's schema block against HubSpot. A mapping without a
/// schema block gives an empty plan. Never writes.
SchemaPlan plan_schema(const Mapping& m, CrmCatalog& crm);

/// Applies a plan in order (object, properties, associations) and returns
/// how many changes were made. Stops at the first failure and returns it;
/// what was done stays done (`made`, when given, says how many, failure or
/// not), and planning again picks up the rest. A plan with error findings
/// is refused (kind fatal) without writing anything.
model::Result<int> apply_schema(const SchemaPlan& plan, SchemaWriter& writer, int* made = nullptr);

}  // namespace hubsync::mapping
