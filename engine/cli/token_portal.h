// Which HubSpot portal the configured token is for, as HubSpot says: what
// the state store's links are checked against and recorded with.
#pragma once

#include <string>

#include "connectors/hubspot/client.h"
#include "engine/cli/mappings.h"
#include "engine/config/config.h"
#include "engine/state/state_store.h"

namespace hubsync::cli {

/// The portal run, plan, serve and status check the state store against
/// (pipeline::StoreIdentity::portal_id).
struct PortalIdentity {
  std::string portal;       ///< empty: unknown, and hubspot.portal_id not set
  bool from_token = false;  ///< HubSpot said so; else it is hubspot.portal_id
};

/// hubspot.portal_id alone (a check without asking HubSpot).
PortalIdentity configured_portal(const config::Config& cfg);

/// The portal of a private app token (an OAuth login's was checked against
/// hubspot.portal_id by `auth login`: configured_portal()). HubSpot is asked
/// (one GET /account-info/v3/details through `client`) only for a token
/// `store` has not seen (null: none yet, HubSpot is asked): the answer is kept there under a one-way
/// fingerprint of the token (with `record`), so a run with the same token
/// asks nothing. Sets `out` and returns:
/// - kExitOk with the token's portal, when it is hubspot.portal_id or that
///   key is unset;
/// - kExitError when it is another portal than hubspot.portal_id (every
///   linked object id would name another portal's record), or HubSpot
///   refused the token (401): an error to `report` naming both portals, or
///   the refusal, and the way out;
/// - kExitOk with configured_portal() when HubSpot would not say (403: a
///   token without the scope, or another 4xx): a warning;
/// - when HubSpot cannot be reached: kExitUnavailable with an error while
///   `store` holds links (a new token may be another portal's: nothing
///   must sync), else kExitOk with configured_portal() and a warning.
/// Messages never show the token, only where it came from. Errors of the
/// store are reported as errors (kExitUnavailable).
int learn_portal(const config::Config& cfg, hubspot::HubSpotClient& client, state::StateStore* store, bool record,
                 const Report& report, PortalIdentity& out);

}  // namespace hubsync::cli
