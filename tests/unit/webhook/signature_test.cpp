// HubSpot's webhook signatures as hubsync computes and checks them, against
// the test vectors of HUBSPOT-API.md (computed by HubSpot's documented
// algorithm, independently of this code).
#include "engine/webhook/signature.h"

#include <gtest/gtest.h>

#include <string>

namespace hubsync::webhook {
namespace {

constexpr const char* kSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
constexpr const char* kV1Body =
    R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,)"
    R"("subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",)"
    R"("changeFlag":"NEW","appId":54321}])";
constexpr const char* kUri = "https://www.example.com/webhook_uri";
constexpr const char* kPostBody = R"({"example_field":"example_value"})";
constexpr const char* kV3 = "rQEKkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=";
constexpr std::int64_t kTs = 1700000000000;

TEST(Signature, HubSpotTestVectors) {
  EXPECT_EQ(sign_v1(kSecret, kV1Body), "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
  EXPECT_EQ(sign_v2(kSecret, "GET", kUri, ""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e");
  EXPECT_EQ(sign_v2(kSecret, "POST", kUri, kPostBody),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900");
  EXPECT_EQ(sign_v3(kSecret, "POST", kUri, kPostBody, "1700000000000"), kV3);
}

SignedRequest v3_request(const char* signature = kV3, const char* timestamp = "1700000000000") {
  SignedRequest r;
  r.method = "POST";
  r.uri = kUri;
  r.body = kPostBody;
  r.signature_v3 = signature;
  r.timestamp = timestamp;
  return r;
}

VerifyOptions options() {
  VerifyOptions o;
  o.secrets = {kSecret};
  return o;
}

TEST(Signature, V3VerifiesTheVectorAndRejectsTampering) {
  EXPECT_EQ(verify(v3_request(), options(), kTs).verdict, Verdict::valid);

  auto body = v3_request();
  body.body = R"({"example_field":"example_valuE"})";
  EXPECT_EQ(verify(body, options(), kTs).verdict, Verdict::bad_signature);

  auto uri = v3_request();
  uri.uri = "https://www.example.com/webhook_uri2";
  EXPECT_EQ(verify(uri, options(), kTs).verdict, Verdict::bad_signature);

  auto method = v3_request();
  method.method = "PUT";
  EXPECT_EQ(verify(method, options(), kTs).verdict, Verdict::bad_signature);

  // The timestamp is signed: changing it to look fresh breaks the signature.
  EXPECT_EQ(verify(v3_request(kV3, "1700000000001"), options(), kTs).verdict, Verdict::bad_signature);
  EXPECT_EQ(verify(v3_request(kV3, "17e11"), options(), kTs).verdict, Verdict::bad_signature);
  EXPECT_EQ(verify(v3_request(""), options(), kTs).verdict, Verdict::bad_signature);

  auto no_ts = v3_request();
  no_ts.timestamp.reset();
  EXPECT_EQ(verify(no_ts, options(), kTs).verdict, Verdict::bad_signature);

  auto other_secret = options();
  other_secret.secrets = {"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"};
  EXPECT_EQ(verify(v3_request(), other_secret, kTs).verdict, Verdict::bad_signature);
  other_secret.secrets.clear();
  EXPECT_EQ(verify(v3_request(), other_secret, kTs).verdict, Verdict::bad_signature);
}

TEST(Signature, TimestampWindowEdgesEitherWay) {
  const auto o = options();  // 300000 ms
  EXPECT_EQ(verify(v3_request(), o, kTs + 300000).verdict, Verdict::valid);
  EXPECT_EQ(verify(v3_request(), o, kTs + 300001).verdict, Verdict::stale);
  EXPECT_EQ(verify(v3_request(), o, kTs - 300000).verdict, Verdict::valid);
  EXPECT_EQ(verify(v3_request(), o, kTs - 300001).verdict, Verdict::stale);
  auto tight = options();
  tight.max_skew_ms = 1000;
  EXPECT_EQ(verify(v3_request(), tight, kTs + 1000).verdict, Verdict::valid);
  EXPECT_EQ(verify(v3_request(), tight, kTs + 1001).verdict, Verdict::stale);
  // A forged request with an old timestamp is a bad signature, not stale.
  EXPECT_EQ(verify(v3_request("AAAAkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o="), o, kTs + 10'000'000).verdict,
            Verdict::bad_signature);
}

TEST(Signature, V1AndV2OnlyWhenAcceptedAndOnlyWithoutV3) {
  SignedRequest v1;
  v1.method = "POST";
  v1.uri = kUri;
  v1.body = kV1Body;
  v1.signature = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
  auto o = options();
  EXPECT_EQ(verify(v1, o, kTs).verdict, Verdict::missing);
  o.accept_v1_v2 = true;
  EXPECT_EQ(verify(v1, o, kTs).verdict, Verdict::valid);
  v1.signature_version = "v1";
  EXPECT_EQ(verify(v1, o, kTs).verdict, Verdict::valid);
  v1.body = "[]";
  EXPECT_EQ(verify(v1, o, kTs).verdict, Verdict::bad_signature);

  for (const char* method : {"GET", "POST"}) {
    SignedRequest v2;
    v2.method = method;
    v2.uri = kUri;
    v2.body = std::string(method) == "GET" ? "" : kPostBody;
    v2.signature = std::string(method) == "GET"
                       ? "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
                       : "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900";
    v2.signature_version = "v2";
    EXPECT_EQ(verify(v2, o, kTs).verdict, Verdict::valid) << method;
    v2.uri = "https://www.example.com/other";
    EXPECT_EQ(verify(v2, o, kTs).verdict, Verdict::bad_signature) << method;
  }

  // A v3 header decides alone: a valid v1 does not rescue a wrong v3.
  auto both = v3_request("AAAAkaNUiu+1qGF//O/pw4BCzstSqO1PyUnGICmf+7o=");
  both.signature = sign_v1(kSecret, kPostBody);
  EXPECT_EQ(verify(both, o, kTs).verdict, Verdict::bad_signature);

  SignedRequest none;
  none.method = "POST";
  none.uri = kUri;
  EXPECT_EQ(verify(none, o, kTs).verdict, Verdict::missing);
  SignedRequest v9 = v1;
  v9.signature_version = "v9";
  EXPECT_EQ(verify(v9, o, kTs).verdict, Verdict::bad_signature);
}

TEST(Signature, EveryComparisonIsConstantTime) {
  const auto before = constant_time_compares();
  auto o = options();
  o.secrets.push_back("second-secret-during-rotation");
  EXPECT_EQ(verify(v3_request(), o, kTs).verdict, Verdict::valid);
  // Two secrets x one URI spelling, each compared with CRYPTO_memcmp, and
  // no early exit after the first match.
  EXPECT_EQ(constant_time_compares() - before, 2u);

  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Signature, RotatedSecretsBothVerify) {
  auto o = options();
  o.secrets = {"new-secret-0000", kSecret};
  EXPECT_EQ(verify(v3_request(), o, kTs).verdict, Verdict::valid);
}

TEST(Signature, UriDecodingFollowsHubSpotsTable) {
  EXPECT_EQ(decode_uri_for_v3("https://x.example/h?a=b%3Ac%2fd%40e%21%24%27%28%29%2A%2C%3B%3F"),
            "https://x.example/h?a=b:c/d@e!$'()*,;?");
  // Other encodings (space, %, &, =) stay encoded; a broken escape stays.
  EXPECT_EQ(decode_uri_for_v3("https://x.example/h?q=a%20b%25c%26d%3De%2"),
            "https://x.example/h?q=a%20b%25c%26d%3De%2");
  // HubSpot signs the decoded form; a request arriving encoded verifies.
  const std::string signed_uri = "https://x.example/h?from=a:b";
  const std::string sig = sign_v3(kSecret, "POST", signed_uri, "[]", "1700000000000");
  SignedRequest r;
  r.method = "POST";
  r.uri = "https://x.example/h?from=a%3Ab";
  r.body = "[]";
  r.signature_v3 = sig;
  r.timestamp = "1700000000000";
  EXPECT_EQ(verify(r, options(), kTs).verdict, Verdict::valid);
}

}  // namespace
}  // namespace hubsync::webhook
