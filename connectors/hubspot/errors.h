#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hubspot/http_transport.h"
#include "engine/model/result.h"

namespace hubsync::hubspot {

/// One entry of an error's `errors[]` (per property or per input).
struct ErrorDetail {
  std::string message;
  std::string code;  ///< e.g. INVALID_EMAIL, PROPERTY_DOESNT_EXIST
  std::map<std::string, std::vector<std::string>> context;
};

/// A HubSpot error body, as far as it could be read. For batch responses
/// each entry of the top-level `errors[]` is one of these too.
struct ApiError {
  int http_status = 0;
  std::string category;        ///< VALIDATION_ERROR, OBJECT_NOT_FOUND, CONFLICT, RATE_LIMIT…
  std::string message;         ///< may hold field values: never log at info
  std::string correlation_id;
  std::string policy_name;     ///< on 429: TEN_SECONDLY_ROLLING, SECONDLY, DAILY
  std::string sub_category;
  std::map<std::string, std::vector<std::string>> context;
  std::vector<ErrorDetail> details;
  std::optional<std::string> existing_id;  ///< parsed from a 409 "Existing ID: N"

  /// Every value in `context` and the details' contexts: the inputs this
  /// error talks about (ids, emails, objectWriteTraceIds).
  std::vector<std::string> context_values() const;
};

/// Reads "… Existing ID: 37765128953" out of a CONFLICT message.
std::optional<std::string> parse_existing_id(std::string_view message);

/// Parses an error response body; tolerates non-JSON bodies.
ApiError parse_api_error(int http_status, std::string_view body);

/// Parses one error object of a batch response's errors[] (status is given
/// by the caller, the batch item carries "status":"error").
ApiError parse_batch_error_item(std::string_view item_json, int http_status);

/// The ErrorKind for a final (non-retried) HTTP status and category:
/// 429 rate_limited; 5xx, 408, 423 transient; 401 auth; 403 auth
/// (MISSING_SCOPES and other refusals stop the direction); 409 conflict;
/// 400 and 404 invalid_record; 414 and other 4xx fatal (a bug in the caller).
model::ErrorKind classify(int http_status, std::string_view category);

/// The engine error for an API error: kind from classify(), status,
/// category, first detail code, and a message that names the operation and
/// the correlationId, then HubSpot's own message last (it can quote field
/// values: dead letters keep it, logs never do; see loggable()).
model::Error to_error(const ApiError& e, std::string_view op);

/// What may be logged about an API error, at any level:
/// "op=… status=… category=… codes=A,B correlation_id=…". Never HubSpot's
/// message text.
std::string log_fields(const ApiError& e, std::string_view op);

/// The part of an engine error that may be logged at any level: for an
/// error made by to_error(), its message without HubSpot's text; other
/// errors (transport, local) as they are, since they carry none.
std::string loggable(const model::Error& e);

/// Shortcut for a non-2xx response.
model::Error response_error(const HttpResponse& r, std::string_view op);

/// True for a 2xx status.
inline bool is_2xx(int status) { return status >= 200 && status < 300; }

/// A batch call given more inputs than HubSpot takes (`max`): fatal, named.
model::Error too_many_inputs(const char* op, std::size_t n, std::size_t max);

}  // namespace hubsync::hubspot
