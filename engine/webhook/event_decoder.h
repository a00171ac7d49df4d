#pragma once

// The port through which the receiver turns HubSpot's webhook body into
// inbox events. The implementation parses JSON, so it lives with the one
// RapidJSON wrapper in connectors/hubspot (webhook_codec.h) and the
// composition root injects it; engine/ never includes a connector.
// Header-only: plain types and a std::function.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/result.h"
#include "engine/state/state_store.h"

namespace hubsync::webhook {

/// What one webhook body held.
struct DecodedBatch {
  /// How many events the body held (the JSON array's length), handled or not.
  std::size_t total = 0;
  /// The events hubsync handles, as inbox events (received_at_ms 0: the
  /// store stamps it), in body order.
  std::vector<state::InboxEvent> events;
  /// subscriptionType of each event skipped because hubsync does not handle
  /// it (e.g. conversation.*, line_item.*), in body order.
  std::vector<std::string> ignored_types;
  /// Events of hubsync's own writes (`changeSource` INTEGRATION with the
  /// `sourceId` of the app the event is for): acknowledged, not stored. Its
  /// state already holds what it wrote; any other change to the object comes
  /// as an event of its own (and the sweep repairs a lost one).
  std::size_t own_writes = 0;
  /// The `portalId` (0 when absent) of each event dropped because it came
  /// from another portal than the one the decoder was asked for: not
  /// decoded, not stored, in body order.
  std::vector<std::int64_t> other_portals;
};

/// Decodes a webhook body. Error kind `invalid_record` when the body is not
/// a JSON array of event objects, or an event lacks what every event must
/// carry (eventId, subscriptionType, an object id; objectTypeId for
/// `object.*`): the message says what, never quoting values. `portal_id`
/// non-zero: an event whose `portalId` differs (or is missing) is listed in
/// other_portals instead of decoded (an app's webhooks from every portal
/// that installed it are signed with the same secret); 0: any portal. Must
/// be thread-safe and must not throw.
using EventDecoder = std::function<model::Result<DecodedBatch>(std::string_view body, std::int64_t portal_id)>;

}  // namespace hubsync::webhook
