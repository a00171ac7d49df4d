// libFuzzer target over everything that reads HubSpot's answers: the
// decoders of connectors/hubspot that take a body (errors, batch writes,
// action definitions) and the typed APIs (objects, search and sweep,
// associations, properties and schemas, OAuth) answered through a canned
// HttpTransport, so their private decoders and the client's handling of
// statuses and headers run on the fuzzed answer. They never throw: any
// exception escaping, crash, leak or hang is a bug; so is an error without
// a message, a batch answer that loses or invents inputs, or a sweep page
// that neither ends nor moves its cursor.
//
// Input, written like an HTTP answer:
//   <decoder> [status]        one of kDecoders' names; status 200 if absent
//   <Header: value>...        optional, up to an empty line
//   <empty line>
//   <body>
// When no empty line follows the first line, all of the rest is the body.
// An unknown decoder name picks one by the input's first byte.
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hubspot/action_codec.h"
#include "connectors/hubspot/associations.h"
#include "connectors/hubspot/auth.h"
#include "connectors/hubspot/batch_codec.h"
#include "connectors/hubspot/client.h"
#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/oauth.h"
#include "connectors/hubspot/objects.h"
#include "connectors/hubspot/properties.h"
#include "connectors/hubspot/search.h"
#include "engine/ratelimit/fake_clock.h"
#include "engine/ratelimit/rate_limiter.h"

namespace {

using namespace std::chrono_literals;
using namespace hubsync;
using namespace hubsync::hubspot;

const char* g_decoder = "?";

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "hubspot_response_fuzz [%s]: %s\n", g_decoder, what.c_str());
  std::abort();
}

void check_error(const model::Error& e, const char* op) {
  if (e.message.empty()) fail(std::string(op) + ": error without a message");
}

template <class T>
void check(const model::Result<T>& r, const char* op) {
  if (!r.ok()) check_error(r.error(), op);
}

void check_outcomes(const std::vector<pipeline::WriteOutcome>& out, std::size_t n, const char* op) {
  if (out.size() != n) fail(std::string(op) + ": " + std::to_string(out.size()) + " outcomes for " + std::to_string(n) + " inputs");
  for (const auto& o : out)
    if (o.error) check_error(*o.error, op);
}

// Answers the first kFuzzedSends requests of each API call with the fuzzed
// answer (a retry sees it again), later ones with an empty 200, so paging
// and retries end.
constexpr int kFuzzedSends = 2;

class CannedTransport final : public HttpTransport {
 public:
  explicit CannedTransport(HttpResponse answer) : answer_(std::move(answer)) {}
  model::Result<HttpResponse> send(const HttpRequest&) override {
    if (++sends_ <= kFuzzedSends) return answer_;
    return HttpResponse{200, {}, "{}", 0ms};
  }
  void next_call() { sends_ = 0; }

 private:
  HttpResponse answer_;
  int sends_ = 0;
};

std::shared_ptr<spdlog::logger> quiet_logger() {
  static auto log = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  return log;
}

// A fresh client per input: the limiter learns from headers, and a crash
// must reproduce from its input alone.
struct Env {
  explicit Env(HttpResponse answer)
      : http(std::move(answer)),
        limiter(clock, {.burst_limit = 100}),
        client(http, token, limiter, clock, {.base_url = "http://hubspot.test", .max_attempts = 2, .seed = 1},
               quiet_logger()) {}

  // Runs one API call on a transport that answers it afresh.
  template <class F>
  auto call(F&& f) {
    http.next_call();
    return f();
  }

  ratelimit::FakeClock clock;
  CannedTransport http;
  PrivateAppToken token{"pat-fuzz"};
  ratelimit::RateLimiter limiter;
  HubSpotClient client;
};

struct Answer {
  int status = 200;
  Headers headers;
  std::string body;
};

// ------------------------------------------------------------- decoders

void api_error(Env&, const Answer& a) {
  for (const auto& e : {parse_api_error(a.status, a.body), parse_batch_error_item(a.body, a.status)}) {
    if (e.http_status != a.status) fail("http_status differs from the status given");
    if (e.existing_id && (e.existing_id->empty() ||
                          !std::all_of(e.existing_id->begin(), e.existing_id->end(), [](char c) { return c >= '0' && c <= '9'; })))
      fail("existing_id is not a number");
    (void)e.context_values();
    const auto err = to_error(e, "fuzz.op");
    check_error(err, "to_error");
    if (err.message.rfind(loggable(err), 0) != 0) fail("loggable() is not a prefix of the message");
    if (log_fields(e, "fuzz.op").empty()) fail("empty log_fields");
  }
}

void existing_id(Env&, const Answer& a) {
  if (auto id = parse_existing_id(a.body))
    if (id->empty() || !std::all_of(id->begin(), id->end(), [](char c) { return c >= '0' && c <= '9'; }))
      fail("parse_existing_id gave a non-number");
}

void batch_write(Env&, const Answer& a) {
  const HttpResponse resp{a.status, a.headers, a.body, 0ms};
  check_outcomes(parse_batch_write(resp, 0, {}, "fuzz.batch"), 0, "create, no inputs");
  check_outcomes(parse_batch_write(resp, 1, {}, "fuzz.batch"), 1, "create");
  check_outcomes(parse_batch_write(resp, 3, {}, "fuzz.batch"), 3, "create");
  check_outcomes(parse_batch_write(resp, 3, {{"1", "2", "3"}, ""}, "fuzz.batch"), 3, "update");
  check_outcomes(parse_batch_write(resp, 2, {{"A@x.io", "b@x.io"}, "email"}, "fuzz.batch"), 2, "upsert");
}

void action_definition(Env&, const Answer& a) {
  auto r = decode_definition(a.body);
  check(r, "decode_definition");
  if (r.ok() && r->id.empty()) fail("decoded definition without an id");
  check(decode_definition_page(a.body), "decode_definition_page");
}

void objects_get(Env& env, const Answer&) {
  ObjectsApi api(env.client);
  check(env.call([&] { return api.get("contacts", "1", {"email", "firstname"}); }), "objects.get");
  check(env.call([&] { return api.get("contacts", "a@x.io", {"email"}, "email"); }), "objects.get by email");
}

void objects_list(Env& env, const Answer&) {
  ObjectsApi api(env.client);
  check(env.call([&] { return api.list("companies", {"name", "domain"}, "", 100, false); }), "objects.list");
  check(env.call([&] { return api.list("contacts", {}, "abc", 10, true); }), "objects.list archived");
}

void check_reads(const model::Result<std::vector<pipeline::ReadOutcome>>& r, const std::vector<std::string>& ids,
                 const pipeline::ReadRequest& req, const char* op) {
  check(r, op);
  if (!r.ok()) return;
  if (r->size() != ids.size()) fail(std::string(op) + ": outcomes differ in number from the ids");
  for (const auto& o : *r) {
    if (o.error) check_error(*o.error, op);
    if (!o.record && !o.history.empty()) fail(std::string(op) + ": history without a record");
    for (const auto& [p, versions] : o.history) {
      if (std::find(req.history.begin(), req.history.end(), p) == req.history.end())
        fail(std::string(op) + ": history of a property not asked for");
      for (std::size_t i = 1; i < versions.size(); ++i)
        if (versions[i - 1].timestamp_ms < versions[i].timestamp_ms) fail(std::string(op) + ": history not newest first");
    }
  }
}

void objects_batch_read(Env& env, const Answer&) {
  ObjectsApi api(env.client);
  const std::vector<std::string> ids{"100", "200", "900", "100"};
  const pipeline::ReadRequest plain{};
  check_reads(env.call([&] { return api.batch_read("contacts", ids, plain); }), ids, plain, "objects.batch_read");
  const std::vector<std::string> emails{"ADA@example.com", "b@x.io"};
  const pipeline::ReadRequest hist{{"email"}, {"firstname", "lastname"}, "email", false};
  check_reads(env.call([&] { return api.batch_read("contacts", emails, hist); }), emails, hist,
              "objects.batch_read history");
}

void objects_write(Env& env, const Answer&) {
  ObjectsApi api(env.client);
  const model::Fields f{{"email", model::Value::text("a@x.io")}, {"city", model::Value::null()}};
  check(env.call([&] { return api.create("contacts", f); }), "objects.create");
  check(env.call([&] { return api.update("contacts", "1", f); }), "objects.update");
  check(env.call([&] { return api.merge("contacts", "1", "2"); }), "objects.merge");
  check(env.call([&] { return api.archive("contacts", "1"); }), "objects.archive");
}

void objects_batch_write(Env& env, const Answer&) {
  ObjectsApi api(env.client);
  const model::Fields f{{"email", model::Value::text("a@x.io")}};
  for (bool trace : {true, false}) {
    api.set_write_trace_ids(trace);
    for (std::size_t n : {1u, 3u}) {
      std::vector<model::Fields> creates(n, f);
      std::vector<pipeline::UpdateInput> updates;
      std::vector<UpsertInput> upserts;
      std::vector<std::string> ids;
      for (std::size_t i = 0; i < n; ++i) {
        updates.push_back({std::to_string(i + 1), f});
        upserts.push_back({"user" + std::to_string(i) + "@x.io", f});
        ids.push_back(std::to_string(i + 1));
      }
      auto created = env.call([&] { return api.batch_create("contacts", creates); });
      check(created, "objects.batch_create");
      if (created.ok()) check_outcomes(*created, n, "objects.batch_create");
      auto updated = env.call([&] { return api.batch_update("contacts", updates); });
      check(updated, "objects.batch_update");
      if (updated.ok()) check_outcomes(*updated, n, "objects.batch_update");
      auto upserted = env.call([&] { return api.batch_upsert("contacts", "email", upserts); });
      check(upserted, "objects.batch_upsert");
      if (upserted.ok()) check_outcomes(*upserted, n, "objects.batch_upsert");
      auto archived = env.call([&] { return api.batch_archive("contacts", ids); });
      check(archived, "objects.batch_archive");
      if (archived.ok()) check_outcomes(*archived, n, "objects.batch_archive");
    }
  }
}

void search(Env& env, const Answer&) {
  SearchApi api(env.client);
  SearchRequest q;
  q.filter_groups = {{{"email", "EQ", "a@x.io", {}, {}}}};
  q.sorts = {{"hs_object_id", true}};
  q.properties = {"email", "lastmodifieddate"};
  q.limit = 2;
  check(env.call([&] { return api.search("contacts", q); }), "objects.search");
}

void sweep(Env& env, const Answer&) {
  SearchApi api(env.client);
  // Properties too many for one search body: the sweep then asks for its
  // own only (SweepResult::complete false).
  std::vector<std::string> wide;
  for (int i = 0; i < 120; ++i) wide.push_back("a_property_name_long_enough_to_count_" + std::to_string(i));
  constexpr std::int64_t t = 1'700'000'000'000;
  // A small page so that a fuzzed answer fills it and the tie, the ids
  // handed on and the window's end all run.
  for (const auto& from : {pipeline::SweepCursor{t, "", false}, pipeline::SweepCursor{t, "", true},
                           pipeline::SweepCursor{t, "100", true}, pipeline::SweepCursor{-1, "", false},
                           pipeline::SweepCursor{t, "", false, {"100", "101"}},
                           pipeline::SweepCursor{t, "", false, {}, t + 100'000}}) {
    for (const char* type : {"contacts", "deals"}) {
      const bool narrow = from.until_ms != pipeline::SweepCursor::kUnbounded;
      auto r = env.call([&] { return api.sweep(type, from, narrow ? wide : std::vector<std::string>{"email"}, 2); });
      check(r, "objects.sweep");
      if (!r.ok()) continue;
      const std::string at = std::string(" (") + type + " modified_ms=" + std::to_string(from.modified_ms) +
                             " after_id=" + from.after_id + " in_tie=" + (from.in_tie ? "true" : "false") +
                             " seen=" + std::to_string(from.seen.size()) + ")";
      // The puller asks for page->next until a page is done: a page that
      // is not done must move the cursor, or the pull never ends.
      if (!r->page.done && r->page.next == from)
        fail("objects.sweep: a page that is not done leaves the cursor where it was" + at);
      if (r->page.next.modified_ms < from.modified_ms) fail("objects.sweep: the cursor went back in time" + at);
      if (r->page.next.until_ms != from.until_ms) fail("objects.sweep: the cursor left its window" + at);
      if (r->complete == narrow) fail("objects.sweep: complete says the wrong thing about the properties" + at);
    }
  }
}

void associations(Env& env, const Answer&) {
  AssociationsApi api(env.client);
  const std::vector<pipeline::AssociationInput> inputs{{"1", "2", {"HUBSPOT_DEFINED", 279, ""}},
                                                       {"3", "4", {"USER_DEFINED", 7, "Billing"}}};
  auto created = env.call([&] { return api.batch_create("contacts", "companies", inputs); });
  check(created, "associations.batch_create");
  if (created.ok()) check_outcomes(*created, inputs.size(), "associations.batch_create");
  const std::vector<std::string> ids{"1", "2", "3"};
  auto read = env.call([&] { return api.batch_read("contacts", "companies", ids); });
  check(read, "associations.batch_read");
  if (read.ok()) {
    if (read->size() != ids.size()) fail("associations.batch_read: outcomes differ in number from the ids");
    for (std::size_t i = 0; i < ids.size(); ++i)
      if ((*read)[i].from_id != ids[i]) fail("associations.batch_read: outcome for another id");
  }
  const std::vector<std::pair<std::string, std::string>> pairs{{"1", "2"}};
  check(env.call([&] { return api.batch_archive("contacts", "companies", pairs); }), "associations.batch_archive");
  check(env.call([&] { return api.batch_archive_labels("contacts", "companies", inputs); }),
        "associations.batch_archive_labels");
  check(env.call([&] { return api.labels("contacts", "companies"); }), "associations.labels");
}

void properties(Env& env, const Answer&) {
  PropertiesApi api(env.client);
  check(env.call([&] { return api.list("contacts"); }), "properties.list");
  check(env.call([&] { return api.get("contacts", "email"); }), "properties.get");
  PropertyDef def{"tier", "Tier", "enumeration", "select", "contactinformation", "", false, false, false, false,
                  {{"Gold", "gold"}}};
  check(env.call([&] { return api.create("contacts", def); }), "properties.create");
  check(env.call([&] { return api.list_groups("contacts"); }), "properties.groups");
}

void schemas(Env& env, const Answer&) {
  PropertiesApi api(env.client);
  check(env.call([&] { return api.list_schemas(); }), "schemas.list");
  check(env.call([&] { return api.get_schema("machines"); }), "schemas.get");
  SchemaSpec spec;
  spec.name = "machines";
  spec.label_singular = "Machine";
  spec.label_plural = "Machines";
  spec.primary_display_property = "serial";
  spec.required_properties = {"serial"};
  spec.properties = {{"serial", "Serial", "string", "text", "", "", true, false, false, false, {}}};
  spec.associated_objects = {"CONTACT"};
  check(env.call([&] { return api.create_schema(spec); }), "schemas.create");
  check(env.call([&] { return api.add_schema_association("2-123", "2-123", "0-1", "machine_to_contact"); }),
        "schemas.add_association");
}

void oauth(Env& env, const Answer&) {
  OAuthApp app;
  app.client_id = "client-id";
  app.client_secret = "client-secret";
  app.redirect_uri = "http://127.0.0.1:8085/oauth/callback";
  app.api_base = "http://hubspot.test";
  auto check_tokens = [](const model::Result<OAuthTokens>& r, const char* op) {
    check(r, op);
    if (r.ok() && r->access_token.empty()) fail(std::string(op) + ": tokens without an access token");
  };
  check_tokens(env.call([&] { return exchange_code(env.http, app, "code", env.clock); }), "oauth.exchange_code");
  check_tokens(env.call([&] { return refresh_tokens(env.http, app, "refresh", env.clock); }), "oauth.refresh_tokens");
  check(env.call([&] { return access_token_info(env.http, app.api_base, "token"); }), "oauth.token_info");
  check(env.call([&] { return revoke_refresh_token(env.http, app.api_base, "refresh"); }), "oauth.revoke");
}

struct Decoder {
  const char* name;
  void (*run)(Env&, const Answer&);
};

// The seeds under tests/fuzz/seeds/hubspot_response/<name>/ use these names.
constexpr Decoder kDecoders[] = {
    {"api_error", api_error},
    {"existing_id", existing_id},
    {"batch_write", batch_write},
    {"action_definition", action_definition},
    {"objects.get", objects_get},
    {"objects.list", objects_list},
    {"objects.batch_read", objects_batch_read},
    {"objects.write", objects_write},
    {"objects.batch_write", objects_batch_write},
    {"search", search},
    {"sweep", sweep},
    {"associations", associations},
    {"properties", properties},
    {"schemas", schemas},
    {"oauth", oauth},
};

std::string_view next_line(std::string_view& rest) {
  const auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view first = next_line(rest);
  const auto sp = first.find(' ');
  const std::string_view name = first.substr(0, sp);
  const Decoder* decoder = &kDecoders[data[0] % std::size(kDecoders)];
  for (const auto& d : kDecoders)
    if (name == d.name) decoder = &d;
  g_decoder = decoder->name;

  Answer a;
  if (sp != std::string_view::npos) {
    const std::string_view st = first.substr(sp + 1);
    if (!st.empty() && st.size() <= 3 && std::all_of(st.begin(), st.end(), [](char c) { return c >= '0' && c <= '9'; }))
      a.status = std::stoi(std::string(st));
  }
  if (const auto blank = ("\n" + std::string(rest)).find("\n\n"); blank != std::string::npos) {
    std::string_view head = rest.substr(0, blank);
    rest.remove_prefix(std::min(rest.size(), blank + 1));
    while (!head.empty()) {
      const std::string_view line = next_line(head);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      a.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
  }
  a.body = std::string(rest);

  try {
    Env env(HttpResponse{a.status, a.headers, a.body, 0ms});
    decoder->run(env, a);
  } catch (const std::exception& ex) {
    fail(std::string("exception escaped: ") + ex.what());
  } catch (...) {
    fail("non-standard exception escaped");
  }
  return 0;
}
