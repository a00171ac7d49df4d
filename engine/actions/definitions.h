#pragma once

// The action definitions hubsync registers (`hubsync actions plan|apply`):
// built from the mappings' `actions:` blocks, typed by HubSpot's own
// property definitions, and compared with what the app already holds.
#include <string>
#include <vector>

#include "engine/actions/action_types.h"
#include "engine/actions/properties.h"
#include "engine/mapping/catalog.h"

namespace hubsync::actions {

/// The definition of every action of `mappings`, in mapping then action
/// order; action_url = base_url + "/" + name. Input and output fields take
/// the type, field type, label and options of the property they carry, as
/// `catalog` reports it. Errors: `invalid_record` naming the action and the
/// property when the property (or the object type) does not exist in
/// HubSpot; the catalog's own errors otherwise.
model::Result<std::vector<Definition>> build_definitions(const std::vector<mapping::Mapping>& mappings,
                                                         mapping::CrmCatalog& catalog,
                                                         const std::string& base_url);

/// The action name of a definition hubsync made: action_url is
/// base_url + "/" + a name without '/'; "" for any other definition. Pure.
std::string owned_name(const std::string& action_url, const std::string& base_url);

struct PlanItem {
  enum class Op {
    create,        ///< declared, not in HubSpot
    update,        ///< declared, in HubSpot, differs
    unchanged,     ///< declared, in HubSpot, the same
    not_declared,  ///< hubsync's (its URL), but no mapping declares it: left alone
  };
  Op op = Op::create;
  std::string name;
  std::string id;                    ///< HubSpot's definition id (update, unchanged, not_declared)
  Definition desired;                ///< create, update
  std::vector<std::string> changes;  ///< update: what differs ("label", "inputs", ...)
};
const char* to_string(PlanItem::Op op);

/// What apply would do to bring `existing` to `desired`. Definitions that
/// are not hubsync's (owned_name empty) never appear: apply never touches
/// them. Pure.
std::vector<PlanItem> plan_definitions(const std::vector<Definition>& desired,
                                       const std::vector<Registered>& existing, const std::string& base_url);

}  // namespace hubsync::actions
