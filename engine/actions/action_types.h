#pragma once

// Workflow custom actions (docs/architecture.md, "Workflow actions"): the
// values passed between the mapping's `actions:` block, HubSpot's action
// APIs (connectors/hubspot/actions_api.h implements ActionsPort) and serve's
// action endpoint. No JSON here: the connector encodes and decodes.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"

namespace hubsync::actions {

/// Output names every hubsync action answers with (besides its own).
inline constexpr const char* kExecutionState = "hs_execution_state";  ///< SUCCESS | FAIL_CONTINUE | BLOCK
inline constexpr const char* kOutcome = "hubsync_outcome";
inline constexpr const char* kReason = "hubsync_reason";
inline constexpr const char* kExpiration = "hs_expiration_duration";

using Outputs = std::map<std::string, std::string>;

/// One execution request as HubSpot POSTs it to the action URL.
struct ActionRequest {
  std::string callback_id;
  std::int64_t portal_id = 0;
  std::string definition_id;
  std::int64_t definition_version = 0;
  std::string object_type;  ///< as HubSpot spells it: CONTACT, COMPANY, 2-123, ...
  std::string object_id;
  std::map<std::string, std::string> inputs;  ///< inputFields, values as strings
};

/// Decodes a request body; `invalid_record` saying what is missing or
/// malformed (never quoting values). Pure, thread-safe.
using RequestDecoder = std::function<model::Result<ActionRequest>(std::string_view body)>;
/// {"outputFields": {...}} for `outputs`. Pure, thread-safe.
using AnswerEncoder = std::function<std::string(const Outputs& outputs)>;

/// One input or output field of a definition, typed like the HubSpot
/// property it carries.
struct FieldDef {
  std::string name;        ///< the property's name
  std::string label;
  std::string type;        ///< string, number, bool, enumeration, date, datetime, phone_number
  std::string field_type;  ///< text, number, booleancheckbox, select, checkbox, date, ...
  std::vector<mapping::PropertyOption> options;
  bool required = false;   ///< inputs only
  friend bool operator==(const FieldDef&, const FieldDef&);
};

/// The definition hubsync registers for one ActionSpec.
struct Definition {
  std::string name;     ///< ActionSpec::name; the last segment of action_url
  std::string mapping;  ///< the mapping that declares it
  std::string action_url;
  std::vector<std::string> object_types;  ///< CONTACT, COMPANY, DEAL, TICKET or a custom objectTypeId
  std::string label, description;
  std::vector<FieldDef> inputs, outputs;
  bool published = true;
  friend bool operator==(const Definition&, const Definition&);
};

/// A definition as HubSpot holds it.
struct Registered {
  std::string id;
  std::string revision_id;
  Definition definition;  ///< name/mapping empty when action_url is not one of hubsync's
};

/// HubSpot's automation actions v4 API for the configured app.
/// Errors: `auth` when the developer key or token is refused, `transient`
/// when HubSpot could not be reached or kept failing, `invalid_record` when
/// HubSpot refused the body (its message quoted), `fatal` otherwise.
class ActionsPort {
 public:
  virtual ~ActionsPort() = default;
  /// Every definition of the app that is not archived (all pages).
  virtual model::Result<std::vector<Registered>> list_definitions() = 0;
  /// Creates a published definition; returns it with HubSpot's id.
  virtual model::Result<Registered> create_definition(const Definition& d) = 0;
  /// Replaces the definition's fields with `d`'s (PATCH: a new revision).
  virtual model::Result<Registered> update_definition(const std::string& id, const Definition& d) = 0;
  /// Completes a blocked execution with its outputs (the portal's token).
  /// `invalid_record` when HubSpot refuses it for good (unknown or expired
  /// callback): retrying cannot help.
  virtual model::Status complete_callback(const std::string& callback_id, const Outputs& outputs) = 0;
};

/// HubSpot's objectTypes spelling for a mapping's object: CONTACT, COMPANY,
/// DEAL, TICKET, else the objectTypeId (2-<n>), else the path (p_<name>).
std::string object_type_of(const mapping::HubspotObject& object);

}  // namespace hubsync::actions
