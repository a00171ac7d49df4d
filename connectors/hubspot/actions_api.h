#pragma once

// HubSpot's automation actions v4 API for one app (actions::ActionsPort):
// definitions through the app's developer API key (`hapikey`, as the
// OpenAPI document's developer_hapikey scheme says; sent on the query and
// never logged), callback completions through the portal's client (its
// token and rate limit).
#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "connectors/hubspot/client.h"
#include "connectors/hubspot/http_transport.h"
#include "engine/actions/action_types.h"

namespace hubsync::hubspot {

struct ActionsApiConfig {
  std::string base_url;       ///< e.g. https://api.hubapi.com (no trailing '/')
  std::int64_t app_id = 0;
  std::string developer_key;  ///< secret
  int attempts = 5;           ///< per developer call: 5xx, 429 and transport failures are retried
  std::chrono::milliseconds first_wait{1000};
};

class HubSpotActions final : public actions::ActionsPort {
 public:
  /// `transport` sends the developer calls; `client` (nullptr: callbacks
  /// cannot be completed, `fatal`) the callback completions. Both must
  /// outlive this.
  HubSpotActions(ActionsApiConfig config, HttpTransport& transport, HubSpotClient* client,
                 std::shared_ptr<spdlog::logger> log);

  model::Result<std::vector<actions::Registered>> list_definitions() override;
  model::Result<actions::Registered> create_definition(const actions::Definition& d) override;
  model::Result<actions::Registered> update_definition(const std::string& id, const actions::Definition& d) override;
  model::Status complete_callback(const std::string& callback_id, const actions::Outputs& outputs) override;

 private:
  /// One developer call with retries; the response when 2xx, else an error
  /// naming `op` and HubSpot's category (never the key).
  model::Result<HttpResponse> developer_call(HttpMethod method, const std::string& path, const std::string& query,
                                             std::string body, const char* op);

  ActionsApiConfig config_;
  HttpTransport& transport_;
  HubSpotClient* client_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace hubsync::hubspot
