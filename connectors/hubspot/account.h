#pragma once

#include <cstdint>
#include <string>

#include "connectors/hubspot/client.h"

namespace hubsync::hubspot {

/// What HubSpot says about the account (portal) a token belongs to.
struct AccountDetails {
  std::int64_t portal_id = 0;  ///< the portal (hub) id
  std::string account_type;    ///< STANDARD, SANDBOX, DEVELOPER_TEST or APP_DEVELOPER
  std::string time_zone;       ///< e.g. "US/Eastern"
  std::string ui_domain;       ///< e.g. "app.hubspot.com"
};

/// Asks HubSpot which portal the client's token is for: one
/// `GET /account-info/v3/details` through `client` (its limiter, retries and
/// token). Errors: the client's (transient when HubSpot cannot be reached,
/// auth for a refused token), response_error() for any other non-2xx answer
/// (403: the token may not read account details), and `transient`
/// ("unreadable") for an answer without a positive portalId.
model::Result<AccountDetails> account_details(HubSpotClient& client);

}  // namespace hubsync::hubspot
