#include "connectors/hubspot/actions_api.h"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "connectors/hubspot/action_codec.h"
#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/oauth.h"

namespace hubsync::hubspot {

namespace {

bool retryable(int status) { return status == 429 || status == 423 || status >= 500; }

}  // namespace

HubSpotActions::HubSpotActions(ActionsApiConfig config, HttpTransport& transport, HubSpotClient* client,
                               std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)), transport_(transport), client_(client),
      log_(log ? std::move(log) : spdlog::default_logger()) {}

model::Result<HttpResponse> HubSpotActions::developer_call(HttpMethod method, const std::string& path,
                                                           const std::string& query, std::string body,
                                                           const char* op) {
  HttpRequest req;
  req.method = method;
  req.url = config_.base_url + path + "?hapikey=" + url_encode(config_.developer_key) + query;
  req.headers = {{"Accept", "application/json"}};
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  auto wait = config_.first_wait;
  for (int attempt = 1;; ++attempt) {
    auto resp = transport_.send(req);
    const bool last = attempt >= config_.attempts;
    if (resp && resp->status / 100 == 2) return resp;
    if (resp && (!retryable(resp->status) || last)) {
      const auto e = parse_api_error(resp->status, resp->body);
      log_->warn("hubspot refused {}", log_fields(e, op));
      return to_error(e, op);
    }
    if (!resp && last) return std::move(resp).error();
    log_->warn("hubspot retry op={} attempt={} reason={}", op, attempt,
               resp ? fmt::format("status {}", resp->status) : resp.error().message);
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}

model::Result<std::vector<actions::Registered>> HubSpotActions::list_definitions() {
  std::vector<actions::Registered> all;
  std::string after;
  const std::string path = fmt::format("/automation/v4/actions/{}", config_.app_id);
  do {
    auto resp = developer_call(HttpMethod::get, path, "&limit=100" + (after.empty() ? "" : "&after=" + url_encode(after)),
                               "", "list action definitions");
    if (!resp) return std::move(resp).error();
    auto page = decode_definition_page(resp->body);
    if (!page) return std::move(page).error();
    for (auto& r : page->first) all.push_back(std::move(r));
    after = page->second;
  } while (!after.empty());
  return all;
}

model::Result<actions::Registered> HubSpotActions::create_definition(const actions::Definition& d) {
  auto resp = developer_call(HttpMethod::post, fmt::format("/automation/v4/actions/{}", config_.app_id), "",
                             encode_definition(d, true), "create action definition");
  if (!resp) return std::move(resp).error();
  return decode_definition(resp->body);
}

model::Result<actions::Registered> HubSpotActions::update_definition(const std::string& id,
                                                                     const actions::Definition& d) {
  auto resp = developer_call(HttpMethod::patch,
                             fmt::format("/automation/v4/actions/{}/{}", config_.app_id, url_encode(id)), "",
                             encode_definition(d, false), "update action definition");
  if (!resp) return std::move(resp).error();
  return decode_definition(resp->body);
}

model::Status HubSpotActions::complete_callback(const std::string& callback_id, const actions::Outputs& outputs) {
  if (client_ == nullptr) return model::make_error(model::ErrorKind::fatal, "no HubSpot client for callbacks");
  CallOptions opt;
  opt.op = "complete action callback";
  auto resp = client_->call(HttpMethod::post,
                            "/automation/v4/actions/callbacks/" + url_encode(callback_id) + "/complete",
                            encode_callback_completion(outputs), opt);
  if (!resp) return std::move(resp).error();
  if (resp->status / 100 != 2) return to_error(parse_api_error(resp->status, resp->body), opt.op);
  return {};
}

}  // namespace hubsync::hubspot
