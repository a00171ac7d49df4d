// libFuzzer target over what serve reads from HubSpot's requests: webhook
// bodies (hubspot::decode_webhook_events), workflow action requests
// (hubspot::decode_action_request) and the signature check
// (webhook::verify). Never a crash, a leak, a hang or an exception escaping;
// a failed decode says why; a decoded event or request carries its ids; a
// signature is valid exactly when it was computed with an accepted secret.
//
// Input: a first line naming the mode, then its payload:
//   events\n<webhook body>
//   action\n<action request body>
//   signature\n<request written like HTTP, see parse_request()>
// Any other first line picks a mode by the input's first byte, the payload
// still starting after the first line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hubspot/action_codec.h"
#include "connectors/hubspot/json.h"
#include "connectors/hubspot/webhook_codec.h"
#include "engine/webhook/signature.h"

namespace {

namespace hs = hubsync::hubspot;
namespace wh = hubsync::webhook;

// The secret of HubSpot's published test vectors, and the `now` the
// v3 vector was computed for, so those seeds verify as valid.
constexpr std::string_view kSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
constexpr std::string_view kOldSecret = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
constexpr std::string_view kWrongSecret = "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz";
constexpr std::int64_t kNow = 1'700'000'000'000;

[[noreturn]] void fail(const char* mode, const std::string& what) {
  std::fprintf(stderr, "webhook_fuzz [%s]: %s\n", mode, what.c_str());
  std::abort();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view next_line(std::string_view& rest) {
  const auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// ---------------------------------------------------------------- events

void check_events(std::string_view body) {
  auto r = hs::decode_webhook_events(body);
  if (!r.ok()) {
    if (r.error().message.empty()) fail("events", "failed decode without a message");
    if (r.error().kind != hubsync::model::ErrorKind::invalid_record) fail("events", "failed decode not invalid_record");
    return;
  }
  const auto& b = *r;
  if (b.events.size() + b.ignored_types.size() + b.own_writes != b.total)
    fail("events", "events + ignored + own writes != total");
  for (std::size_t i = 0; i < b.events.size(); ++i) {
    const auto& e = b.events[i];
    const std::string at = "event " + std::to_string(i) + ": ";
    if (e.event_id.empty()) fail("events", at + "empty event_id");
    if (e.object_id.empty()) fail("events", at + "empty object_id");
    if (e.object_type.empty()) fail("events", at + "empty object_type");
    if (e.subscription_type.empty()) fail("events", at + "empty subscription_type");
    if (e.subscription_type.find(".propertyChange") != std::string::npos && e.property_name.empty())
      fail("events", at + "propertyChange without property_name");
    // raw_json is stored in the inbox and parsed again by the pull.
    try {
      auto d = hs::json::parse(e.raw_json);
      if (!d.IsObject()) fail("events", at + "raw_json is not an object");
    } catch (const hs::JsonError& ex) {
      fail("events", at + "raw_json does not parse back: " + ex.what());
    }
  }
}

// ---------------------------------------------------------------- action

void check_action(std::string_view body) {
  auto r = hs::decode_action_request(body);
  if (!r.ok()) {
    if (r.error().message.empty()) fail("action", "failed decode without a message");
    if (r.error().kind != hubsync::model::ErrorKind::invalid_record) fail("action", "failed decode not invalid_record");
    return;
  }
  if (r->callback_id.empty()) fail("action", "empty callback_id");
  if (r->object_id.empty()) fail("action", "empty object_id");
  // The answer encoder takes any text (outputs can echo inputs): what it
  // writes reads back as the same map.
  const std::string answer = hs::encode_action_answer(r->inputs);
  try {
    auto d = hs::json::parse(answer);
    const auto* out = hs::json::member(d, "outputFields");
    if (out == nullptr || !out->IsObject() || out->MemberCount() != r->inputs.size())
      fail("action", "answer lacks outputFields or its size differs");
    for (const auto& m : out->GetObject()) {
      const std::string k(m.name.GetString(), m.name.GetStringLength());
      auto it = r->inputs.find(k);
      if (it == r->inputs.end() || !m.value.IsString() ||
          std::string_view(m.value.GetString(), m.value.GetStringLength()) != it->second)
        fail("action", "answer does not read back as written");
    }
  } catch (const hs::JsonError& ex) {
    fail("action", std::string("answer is not JSON: ") + ex.what());
  }
}

// ------------------------------------------------------------- signature

// A request as HTTP writes it:
//   <METHOD> <URI>
//   X-HubSpot-Signature-v3: ...        (and -Request-Timestamp, -Signature,
//   X-HubSpot-Signature-Version: v2     -Signature-Version)
//   X-Fuzz-Accept-V1V2: 1              (harness options, any value)
//   X-Fuzz-Rotation: 1                 (two secrets, the real one second)
//   <empty line>
//   <body, raw>
// The first header of a name wins; no empty line means no body.
struct FuzzRequest {
  std::string method, uri, body;
  std::optional<std::string> signature_v3, timestamp, signature, version;
  bool accept_v1_v2 = false;
  bool rotation = false;
};

FuzzRequest parse_request(std::string_view text) {
  FuzzRequest f;
  const std::string_view first = next_line(text);
  const auto sp = first.find(' ');
  f.method = std::string(first.substr(0, sp));
  if (sp != std::string_view::npos) f.uri = std::string(first.substr(sp + 1));
  while (!text.empty()) {
    const std::string_view line = next_line(text);
    if (line.empty()) {
      f.body = std::string(text);
      break;
    }
    const auto colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    auto set = [&](std::optional<std::string>& slot) {
      if (!slot) slot = std::string(value);
    };
    if (iequals(name, "X-HubSpot-Signature-v3")) set(f.signature_v3);
    else if (iequals(name, "X-HubSpot-Request-Timestamp")) set(f.timestamp);
    else if (iequals(name, "X-HubSpot-Signature")) set(f.signature);
    else if (iequals(name, "X-HubSpot-Signature-Version")) set(f.version);
    else if (iequals(name, "X-Fuzz-Accept-V1V2")) f.accept_v1_v2 = true;
    else if (iequals(name, "X-Fuzz-Rotation")) f.rotation = true;
  }
  return f;
}

wh::SignedRequest view(const FuzzRequest& f) {
  wh::SignedRequest r;
  r.method = f.method;
  r.uri = f.uri;
  r.body = f.body;
  if (f.signature_v3) r.signature_v3 = *f.signature_v3;
  if (f.timestamp) r.timestamp = *f.timestamp;
  if (f.signature) r.signature = *f.signature;
  if (f.version) r.signature_version = *f.version;
  return r;
}

std::optional<std::int64_t> decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = s.front() == '-';
  if (neg) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  __int128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > (static_cast<__int128>(INT64_MAX) + 1)) return std::nullopt;
  }
  if (neg) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

// What verify must answer, from signature.h's contract, computed apart from
// it (the signing functions are checked against HubSpot's vectors by the
// unit tests).
wh::Verdict expected(const FuzzRequest& f, const wh::VerifyOptions& o) {
  using wh::Verdict;
  if (f.signature_v3) {
    if (f.signature_v3->empty() || !f.timestamp) return Verdict::bad_signature;
    const auto ts = decimal(*f.timestamp);
    if (!ts) return Verdict::bad_signature;
    bool match = false;
    for (const auto& s : o.secrets)
      for (const auto& u : {f.uri, wh::decode_uri_for_v3(f.uri)})
        match = match || wh::sign_v3(s, f.method, u, f.body, *f.timestamp) == *f.signature_v3;
    if (!match) return Verdict::bad_signature;
    const __int128 skew = static_cast<__int128>(kNow) - *ts;
    return (skew > o.max_skew_ms || skew < -o.max_skew_ms) ? Verdict::stale : Verdict::valid;
  }
  if (!f.signature || !o.accept_v1_v2) return Verdict::missing;
  if (f.signature->empty()) return Verdict::bad_signature;
  const std::string version = f.version.value_or("v1");
  if (version != "v1" && version != "v2") return Verdict::bad_signature;
  for (const auto& s : o.secrets) {
    const std::string sig = version == "v1" ? wh::sign_v1(s, f.body) : wh::sign_v2(s, f.method, f.uri, f.body);
    if (sig == *f.signature) return Verdict::valid;
  }
  return Verdict::bad_signature;
}

void check_verdict(const char* what, const FuzzRequest& f, const wh::VerifyOptions& o,
                   std::optional<wh::Verdict> must = std::nullopt) {
  const auto v = wh::verify(view(f), o, kNow);
  const auto want = must ? *must : expected(f, o);
  if (v.verdict != want)
    fail("signature", std::string(what) + ": verify says " + wh::to_string(v.verdict) + ", expected " +
                          wh::to_string(want) + " (reason: " + v.reason + ")");
  if (v.verdict != wh::Verdict::valid && v.reason.empty()) fail("signature", std::string(what) + ": no reason");
  for (const auto& s : o.secrets)
    if (v.reason.find(s) != std::string::npos) fail("signature", std::string(what) + ": reason holds the secret");
}

void check_signature(std::string_view text) {
  const FuzzRequest f = parse_request(text);
  wh::VerifyOptions o;
  o.secrets = f.rotation ? std::vector<std::string>{std::string(kOldSecret), std::string(kSecret)}
                         : std::vector<std::string>{std::string(kSecret)};
  o.accept_v1_v2 = f.accept_v1_v2;

  // The request as given: exactly the contract's verdict, so never valid
  // unless signed with an accepted secret.
  check_verdict("as given", f, o);

  const std::string fresh = std::to_string(kNow);
  auto v3 = [&](std::string_view secret, std::string_view uri, const std::string& ts) {
    FuzzRequest g = f;
    g.signature_v3 = wh::sign_v3(secret, f.method, uri, f.body, ts);
    g.timestamp = ts;
    return g;
  };
  // Signed by HubSpot now, with every accepted secret: valid; over the
  // URI with HubSpot's decoding applied (a proxy re-encoded it): valid.
  for (const auto& s : o.secrets) {
    check_verdict("v3 signed now", v3(s, f.uri, fresh), o, wh::Verdict::valid);
    check_verdict("v3 signed now over the decoded URI", v3(s, wh::decode_uri_for_v3(f.uri), fresh), o,
                  wh::Verdict::valid);
  }
  // Signed with another secret: never valid, whatever the rest says.
  check_verdict("v3 signed with a wrong secret", v3(kWrongSecret, f.uri, fresh), o, wh::Verdict::bad_signature);
  // Signed correctly with the fuzzed timestamp: valid inside the window,
  // stale outside it, bad when the timestamp is not an integer.
  if (f.timestamp) check_verdict("v3 signed at the given timestamp", v3(kSecret, f.uri, *f.timestamp), o);

  // v1/v2 (no v3 header): valid only when accepted.
  FuzzRequest g = f;
  g.signature_v3.reset();
  g.signature = wh::sign_v1(kSecret, f.body);
  g.version.reset();
  check_verdict("v1 signed", g, o, o.accept_v1_v2 ? wh::Verdict::valid : wh::Verdict::missing);
  g.signature = wh::sign_v2(kSecret, f.method, f.uri, f.body);
  g.version = "v2";
  check_verdict("v2 signed", g, o, o.accept_v1_v2 ? wh::Verdict::valid : wh::Verdict::missing);
  g.signature = wh::sign_v2(kWrongSecret, f.method, f.uri, f.body);
  check_verdict("v2 signed with a wrong secret", g, o,
                o.accept_v1_v2 ? wh::Verdict::bad_signature : wh::Verdict::missing);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view mode_line = next_line(rest);
  int mode = size == 0 ? 0 : data[0] % 3;
  if (mode_line == "events") mode = 0;
  else if (mode_line == "action") mode = 1;
  else if (mode_line == "signature") mode = 2;
  const char* names[] = {"events", "action", "signature"};
  try {
    switch (mode) {
      case 0: check_events(rest); break;
      case 1: check_action(rest); break;
      default: check_signature(rest); break;
    }
  } catch (const std::exception& ex) {
    fail(names[mode], std::string("exception escaped: ") + ex.what());
  } catch (...) {
    fail(names[mode], "non-standard exception escaped");
  }
  return 0;
}
