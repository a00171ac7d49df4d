#pragma once

// HubSpot's webhook body -> inbox events: the implementation of the
// receiver's EventDecoder port (engine/webhook/event_decoder.h). It lives
// here because it parses JSON, and connectors/hubspot holds the project's
// one RapidJSON wrapper (json.h); the engine never includes a connector.
#include <cstdint>
#include <string_view>

#include "engine/model/result.h"
#include "engine/webhook/event_decoder.h"

namespace hubsync::hubspot {

/// Decodes a webhook body: a JSON array of event objects (HUBSPOT-API.md,
/// "Webhooks"). Each handled event becomes a state::InboxEvent:
/// - subscription_type: `subscriptionType` as sent;
/// - object_type: `contacts`, `companies`, `deals`, `tickets` for the
///   contact.* / company.* / deal.* / ticket.* subscriptions, the event's
///   `objectTypeId` (e.g. `2-1`, or `0-1` for contacts) for `object.*`;
/// - object_id: `objectId`, or for an associationChange without one its
///   `fromObjectId`;
/// - event_id, subscription_id (empty when absent), occurred_at_ms
///   (`occurredAt`), property_name / property_value (propertyChange only;
///   a null value stays nullopt);
/// - raw_json: the event object re-serialised whole, so every field the
///   pull needs later stays available: merge (`primaryObjectId`,
///   `mergedObjectIds`, `newObjectId`), associationChange (`fromObjectId`,
///   `toObjectId`, `associationType`, `associationRemoved`), `changeSource`,
///   `sourceId`, `attemptNumber`...
/// An event whose `changeSource` is INTEGRATION and whose `sourceId` is the
/// event's own `appId` records a write of the receiving app (hubsync): it is
/// counted in own_writes and not decoded. With `portal_id` non-zero, a
/// handled event whose `portalId` is another (or absent) is listed in
/// other_portals and not decoded.
/// Handled kinds: creation, deletion, propertyChange, merge, restore,
/// associationChange, privacyDeletion. Other subscription types
/// (conversation.*, line_item.*, product.*, unknown kinds) are listed in
/// ignored_types, not decoded.
/// Errors (`invalid_record`, nothing decoded): the body is not JSON or not an
/// array; an element is not an object; a handled event lacks eventId,
/// subscriptionType, an object id, or (object.*) objectTypeId. Messages name
/// the element index and the field, never a value. Thread-safe; never throws.
model::Result<webhook::DecodedBatch> decode_webhook_events(std::string_view body, std::int64_t portal_id = 0);

}  // namespace hubsync::hubspot
