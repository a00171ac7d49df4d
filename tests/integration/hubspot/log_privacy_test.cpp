// HubSpot's error messages can quote field values ("Email address bob@ is
// invalid"); logs carry the operation, status, category, codes and
// correlation id, never that text, at every level. Dead letters still get
// the message through model::Error (not logged).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "connectors/hubspot/oauth.h"
#include "tests/integration/hubspot/sim_env.h"

namespace hubsync::hubspot::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Everything logged at trace level and up, as the text sink formats it.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    log_ = std::make_shared<spdlog::logger>("hubspot-captured", sink_);
    log_->set_level(spdlog::level::trace);
    log_->flush_on(spdlog::level::trace);
  }
  std::shared_ptr<spdlog::logger> logger() const { return log_; }
  std::string text() {
    log_->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> log_;
};

class LogPrivacy : public SimTest {
 protected:
  // A client of the same simulator that logs into `captured_`.
  std::unique_ptr<HubSpotClient> logging_client(ClientConfig c = {}) {
    c = Stack::with_base(c, sim_->base_url());
    return std::make_unique<HubSpotClient>(stack_->transport, token_, stack_->limiter, stack_->clock, c,
                                           captured_.logger());
  }

  CapturedLog captured_;
};

constexpr const char* kBadEmail = "bob.leak7f3a@";
constexpr const char* kFirstName = "Zebulon7f3a";

// Both ways HubSpot refuses a record in a batch: per input in a 207 (with
// objectWriteTraceIds) and the whole batch in a 400 (without), which is
// then halved until the record stands alone.
TEST_F(LogPrivacy, RefusedRecordIsLoggedByCodeNeverByItsValues) {
  auto client = logging_client();
  HubSpotCrm crm(*client);
  for (bool trace_ids : {true, false}) {
    crm.objects().set_write_trace_ids(trace_ids);
    auto r = crm.upsert("contacts", "email", {contact(kBadEmail, kFirstName), contact("ok7f3a@example.com")});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    ASSERT_TRUE((*r)[0].error.has_value()) << trace_ids;
    EXPECT_EQ((*r)[0].error->code, "INVALID_EMAIL");
    // The dead letter keeps HubSpot's words, value included.
    EXPECT_THAT((*r)[0].error->message, HasSubstr(kBadEmail));
    EXPECT_TRUE((*r)[1].ok());
  }

  const std::string logs = captured_.text();
  EXPECT_THAT(logs, Not(HasSubstr("leak7f3a"))) << logs;
  EXPECT_THAT(logs, Not(HasSubstr(kFirstName))) << logs;
  EXPECT_THAT(logs, Not(HasSubstr("is invalid"))) << logs;
  // What the refusal is logged with instead.
  EXPECT_THAT(logs, HasSubstr("op=objects.batch_upsert")) << logs;
  EXPECT_THAT(logs, HasSubstr("status=400")) << logs;
  EXPECT_THAT(logs, HasSubstr("category=VALIDATION_ERROR")) << logs;
  EXPECT_THAT(logs, HasSubstr("INVALID_EMAIL")) << logs;
  EXPECT_THAT(logs, HasSubstr("correlation_id=")) << logs;
}

TEST_F(LogPrivacy, GivingUpLogsStatusAndCorrelationIdNotHubSpotsMessage) {
  sim::FaultRule always_500;
  always_500.route = "/crm/v3/objects/*/batch/*";
  always_500.pct_500 = 100;
  sim_->set_faults({always_500});
  ClientConfig c;
  c.max_attempts = 2;
  auto client = logging_client(c);
  HubSpotCrm crm(*client);
  auto r = crm.upsert("contacts", "email", {contact("giveup7f3a@example.com")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE((*r)[0].error.has_value());
  EXPECT_THAT((*r)[0].error->message, HasSubstr("injected by hubspot-sim"));

  const std::string logs = captured_.text();
  EXPECT_THAT(logs, HasSubstr("giving up")) << logs;
  EXPECT_THAT(logs, HasSubstr("status=500")) << logs;
  EXPECT_THAT(logs, HasSubstr("category=INTERNAL_ERROR")) << logs;
  EXPECT_THAT(logs, HasSubstr("correlation_id=")) << logs;
  EXPECT_THAT(logs, Not(HasSubstr("injected by hubspot-sim"))) << logs;
  EXPECT_THAT(logs, Not(HasSubstr("giveup7f3a"))) << logs;
}

TEST_F(LogPrivacy, RefusedRefreshIsLoggedWithoutHubSpotsMessage) {
  InMemoryTokenStore store;
  OAuthTokens stale;
  stale.refresh_token = "refresh-leak7f3a";
  ASSERT_TRUE(store.save("62515", stale).ok());
  OAuthApp app;
  app.client_id = sim::kOAuthClientId;
  app.client_secret = sim::kOAuthClientSecret;
  app.api_base = sim_->base_url();
  OAuthTokenProvider provider(stack_->transport, app, store, "62515", stack_->clock, captured_.logger());
  auto t = provider.access_token();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, model::ErrorKind::auth);

  const std::string logs = captured_.text();
  EXPECT_THAT(logs, HasSubstr("oauth refresh failed")) << logs;
  EXPECT_THAT(logs, HasSubstr("HTTP 400 BAD_REFRESH_TOKEN")) << logs;
  EXPECT_THAT(logs, HasSubstr("hubsync auth login")) << logs;
  EXPECT_THAT(logs, Not(HasSubstr("unknown refresh token"))) << logs;
  EXPECT_THAT(logs, Not(HasSubstr("leak7f3a"))) << logs;
  EXPECT_THAT(logs, Not(HasSubstr(sim::kOAuthClientSecret))) << logs;
}

// Certificate checks can be switched off in code (never by configuration):
// never silently.
TEST(CurlTransportTls, TurningVerificationOffIsWarned) {
  CapturedLog captured;
  CurlOptions on;
  on.log = captured.logger();
  CurlTransport verified(on);
  EXPECT_EQ(captured.text(), "");
  CurlOptions off = on;
  off.verify_tls = false;
  CurlTransport unverified(off);
  EXPECT_THAT(captured.text(), HasSubstr("verify_tls=false"));
  EXPECT_THAT(captured.text(), HasSubstr("TLS certificate verification is OFF"));
}

}  // namespace
}  // namespace hubsync::hubspot::testing
