#pragma once

#include <optional>
#include <string>
#include <vector>

#include "connectors/hubspot/http_transport.h"
#include "engine/pipeline/crm_port.h"

namespace hubsync::hubspot {

/// How a batch response's results and errors find their inputs: by the
/// objectWriteTraceId we sent (the input's index), else by a key HubSpot
/// echoes (the id for updates, the unique property's value for upserts,
/// compared case-insensitively), else by position when the counts agree.
struct BatchKeys {
  std::vector<std::string> keys;   ///< per input; empty: no key
  std::string key_property;        ///< where a result carries the key ("" = its id)
};

/// Per-input outcomes of a 2xx batch write response (200, 201 or 207), in
/// input order, each answered one with HubSpot's id, `new` and the result's
/// non-null `properties` as WriteOutcome::stored. An input neither answered
/// nor named by an error gets a transient error (nothing may be dropped in
/// silence).
std::vector<pipeline::WriteOutcome> parse_batch_write(const HttpResponse& resp, std::size_t n,
                                                      const BatchKeys& keys, const char* op);

}  // namespace hubsync::hubspot
