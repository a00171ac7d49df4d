#include "connectors/hubspot/account.h"

#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"

namespace hubsync::hubspot {

model::Result<AccountDetails> account_details(HubSpotClient& client) {
  constexpr const char* op = "account.details";
  auto r = client.call(HttpMethod::get, "/account-info/v3/details", "", {.op = op});
  if (!r.ok()) return std::move(r).error();
  if (!is_2xx(r->status)) return response_error(*r, op);
  AccountDetails out;
  try {
    auto d = json::parse(r->body);
    out.portal_id = json::get_int(d, "portalId");
    out.account_type = json::get_string(d, "accountType");
    out.time_zone = json::get_string(d, "timeZone");
    out.ui_domain = json::get_string(d, "uiDomain");
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string(op) + ": unreadable response: " + ex.what());
  }
  if (out.portal_id <= 0)
    return model::make_error(model::ErrorKind::transient, std::string(op) + ": unreadable response: no portalId");
  return out;
}

}  // namespace hubsync::hubspot
