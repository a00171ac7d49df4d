#pragma once

// JSON of HubSpot's workflow custom actions (automation actions v4,
// HUBSPOT-API.md "Workflow custom actions"): execution requests and
// answers for serve's action endpoint, definitions and callback
// completions for HubSpotActions. Thread-safe; never throws.
#include <string>
#include <string_view>
#include <vector>

#include "engine/actions/action_types.h"
#include "engine/model/result.h"

namespace hubsync::hubspot {

/// An execution request: `callbackId`, `origin` {portalId,
/// actionDefinitionId, actionDefinitionVersion}, `object` {objectId,
/// objectType}, `inputFields` (scalars as text; null or absent: not given).
/// `invalid_record` naming the missing or mistyped member (never a value)
/// when it is not JSON, not an object, or lacks callbackId or object.objectId.
model::Result<actions::ActionRequest> decode_action_request(std::string_view body);

/// {"outputFields": {...}}.
std::string encode_action_answer(const actions::Outputs& outputs);

/// A PublicActionDefinitionEgg (create) or PublicActionDefinitionPatch
/// (update): actionUrl, objectTypes, published, inputFields (typeDefinition
/// + isRequired + supportedValueTypes), outputFields, labels.en (actionName,
/// actionDescription, appDisplayName, input/output field labels); create
/// adds `functions: []`.
std::string encode_definition(const actions::Definition& d, bool create);

/// A PublicActionDefinition -> Registered (fields and labels read back the
/// way encode_definition writes them). `invalid_record` when it has no id.
model::Result<actions::Registered> decode_definition(std::string_view json);

/// A page of GET /automation/v4/actions/{appId}: its definitions and the
/// `paging.next.after` cursor ("" on the last page).
model::Result<std::pair<std::vector<actions::Registered>, std::string>> decode_definition_page(
    std::string_view json);

/// A CallbackCompletionRequest: {"outputFields": {...}, "typedOutputs": {}}.
std::string encode_callback_completion(const actions::Outputs& outputs);

}  // namespace hubsync::hubspot
