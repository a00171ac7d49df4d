// Metric labels from API paths: no record id, no email, no query string.
#include "connectors/hubspot/routes.h"

#include <gtest/gtest.h>

namespace hubsync::hubspot {
namespace {

TEST(ApiRoute, KeepsTheRouteAndDropsWhatNamesARecord) {
  EXPECT_EQ(api_route("/crm/v3/objects/contacts/batch/update"), "/crm/v3/objects/contacts/batch/update");
  EXPECT_EQ(api_route("/crm/v3/objects/contacts/search"), "/crm/v3/objects/contacts/search");
  EXPECT_EQ(api_route("/crm/v3/objects/contacts/123?archived=true"), "/crm/v3/objects/contacts/{id}");
  EXPECT_EQ(api_route("/crm/v3/objects/contacts/jane@x.io?idProperty=email"), "/crm/v3/objects/contacts/{id}");
  EXPECT_EQ(api_route("/crm/v3/objects/p4242_cars/batch/read"), "/crm/v3/objects/p4242_cars/batch/read");
  EXPECT_EQ(api_route("/crm/v3/objects/2-456/77"), "/crm/v3/objects/2-456/{id}");
  EXPECT_EQ(api_route("/crm/v4/associations/contacts/companies/batch/create"),
            "/crm/v4/associations/contacts/companies/batch/create");
  EXPECT_EQ(api_route("/crm/v4/objects/contacts/9/associations/companies/10"),
            "/crm/v4/objects/contacts/{id}/associations/companies/{id}");
  EXPECT_EQ(api_route("/crm/v3/properties/contacts"), "/crm/v3/properties/contacts");
  EXPECT_EQ(api_route("/automation/v4/actions/callbacks/cb-1a2b/complete"),
            "/automation/v4/actions/callbacks/{id}/complete");
  EXPECT_EQ(api_route("/oauth/v1/access-tokens/secret-token-value"), "/oauth/v1/access-tokens/{id}");
  EXPECT_EQ(api_route(""), "/");
}

TEST(ApiRoute, AnIdThatLooksLikeAWordOrATypeIsStillAnId) {
  // After the type slot is used, a lower-case id is an id, not a type.
  EXPECT_EQ(api_route("/crm/v3/objects/contacts/abc"), "/crm/v3/objects/contacts/{id}");
  // A segment of odd characters is never kept, wherever it is.
  EXPECT_EQ(api_route("/crm/v3/objects/Jane Doe"), "/crm/v3/objects/{id}");
  EXPECT_EQ(api_route("/crm/v3/objects/a%40b/x"), "/crm/v3/objects/{id}/{id}");
}

}  // namespace
}  // namespace hubsync::hubspot
