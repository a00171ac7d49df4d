// SearchApi::sweep against search answers HubSpot should not give but a
// sweep must survive: an object the search did not ask for (at the
// cursor's own time) must not hold the cursor where it was, or the pull
// would ask for the same page forever (found by hubspot_response_fuzz).
#include <gtest/gtest.h>

#include "connectors/hubspot/search.h"
#include "tests/unit/hubspot/canned_transport.h"

namespace hubsync::hubspot {
namespace {

constexpr std::int64_t kT = 1'700'000'000'000;

class SweepPage : public ::testing::Test, protected CannedHubSpot {
 protected:
  // A full page of two: id 5 at `first_ms`, then `second` a millisecond
  // after kT.
  void answer(std::int64_t first_ms, const std::string& second = "6") {
    http.body = R"({"total":9,"results":[)"
                R"({"id":"5","properties":{"hs_object_id":"5","lastmodifieddate":")" +
                std::to_string(first_ms) + R"("}},)"
                R"({"id":")" + second + R"(","properties":{"hs_object_id":")" + second + R"(","lastmodifieddate":")" +
                std::to_string(kT + 1) + R"("}}]})";
  }

  SearchApi api{client};
};

std::vector<std::string> ids(const pipeline::SweepPage& page) {
  std::vector<std::string> out;
  for (const auto& r : page.records) out.push_back(r.hubspot_id);
  return out;
}

TEST_F(SweepPage, AnObjectAtTheCursorsTimeIsLeftOutWhenOnlyLaterOnesWereAskedFor) {
  // The cursor asks for objects modified after kT (no ids handed on): id 5
  // at kT is not the window's.
  answer(kT);
  auto r = api.sweep("contacts", pipeline::SweepCursor{kT, "", false}, {"email"}, 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(ids(r->page), std::vector<std::string>{"6"});
  EXPECT_EQ(r->page.next, (pipeline::SweepCursor{kT + 1, "", false, {"6"}}));
}

TEST_F(SweepPage, AnObjectAtTheCursorsTimeDoesNotHoldTheCursorWhereItWas) {
  // The later run cannot be handed on by id (not decimal), so the page
  // keeps what is older than it and starts again before it; id 5, older,
  // is not the window's, so nothing is, and the run is read by id next.
  answer(kT, "6a");
  const pipeline::SweepCursor from{kT, "", false};
  auto r = api.sweep("contacts", from, {"email"}, 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->page.done);
  EXPECT_NE(r->page.next, from) << "the same page would be asked for forever";
  EXPECT_TRUE(ids(r->page).empty());
  EXPECT_EQ(r->page.next, (pipeline::SweepCursor{kT + 1, "", true, {}}));
}

TEST_F(SweepPage, AnObjectAtTheCursorsTimeNotReadBeforeIsKeptWhenIdsWereHandedOn) {
  // The cursor hands on id 4 of kT's run: the search asked for the rest of
  // that run, so id 5 is the window's.
  answer(kT);
  auto r = api.sweep("contacts", pipeline::SweepCursor{kT, "", false, {"4"}}, {"email"}, 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(ids(r->page), (std::vector<std::string>{"5", "6"}));
  EXPECT_EQ(r->page.next, (pipeline::SweepCursor{kT + 1, "", false, {"6"}}));
}

TEST_F(SweepPage, AnObjectBeforeTheCursorsTimeAtThePagesEndFailsThePage) {
  // The last-modified time went backwards: the property is not what the
  // search sorted by, and no cursor can be trusted.
  http.body = R"({"total":2,"results":[)"
              R"({"id":"5","properties":{"hs_object_id":"5","lastmodifieddate":")" +
              std::to_string(kT - 5) + R"("}}]})";
  auto r = api.sweep("contacts", pipeline::SweepCursor{kT, "", false}, {"email"}, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not modified after the cursor"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hubsync::hubspot
