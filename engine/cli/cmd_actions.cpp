// `hubsync actions plan|apply`: registers the mappings' workflow actions
// with the configured HubSpot app, idempotently; never deletes a definition,
// and never touches one whose actionUrl is not under hubsync's action URL.
#include <iostream>

#include "connectors/hubspot/actions_api.h"
#include "connectors/hubspot/hubspot_catalog.h"
#include "engine/actions/definitions.h"
#include "engine/cli/app.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/cli/mappings.h"
#include "engine/ops/logging.h"

namespace hubsync::cli {

namespace {

int exit_for(const model::Error& e) {
  return e.kind == model::ErrorKind::transient || e.kind == model::ErrorKind::rate_limited ? kExitUnavailable
                                                                                            : kExitError;
}

// The settings actions need, or why they are missing.
bool check_settings(const config::Config& cfg) {
  std::vector<std::string> missing;
  if (cfg.actions.app_id == 0) missing.push_back("actions.app_id (the HubSpot app that owns the actions)");
  if (!cfg.actions.developer_api_key.set())
    missing.push_back("actions.developer_api_key (or _env/_file: the app's developer API key)");
  if (config::actions_base_url(cfg).empty())
    missing.push_back("actions.public_url or webhook.public_url (where HubSpot calls the actions)");
  for (const auto& m : missing) std::cerr << "actions: set " << m << '\n';
  return missing.empty();
}

void print_item(const actions::PlanItem& p) {
  std::cout << "  " << actions::to_string(p.op) << ' ' << p.name;
  if (!p.id.empty()) std::cout << " (definition " << p.id << ')';
  if (p.op == actions::PlanItem::Op::update) {
    std::cout << ":";
    for (const auto& c : p.changes) std::cout << ' ' << c;
  }
  if (p.op == actions::PlanItem::Op::not_declared)
    std::cout << (p.changes.empty() ? ": no mapping declares it; left as it is"
                                    : ": a second definition of this action; left as it is");
  if (p.op == actions::PlanItem::Op::create || p.op == actions::PlanItem::Op::update)
    std::cout << " -> " << p.desired.action_url;
  std::cout << '\n';
}

}  // namespace

int cmd_actions(const GlobalOptions& global, bool apply) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;
  if (!check_settings(cfg)) return kExitError;
  const std::string base = config::actions_base_url(cfg);
  ratelimit::SystemClock clock;
  HubSpotStack hubspot(cfg, nullptr, clock, std::nullopt, /*interactive=*/true);
  hubspot::HubSpotCatalog catalog(hubspot.client);
  hubspot::HubSpotActions api({cfg.hubspot.base_url, cfg.actions.app_id, cfg.actions.developer_api_key.value},
                              hubspot.transport, &hubspot.client, ops::logger("hubspot"));

  auto desired = actions::build_definitions(mappings, catalog, base);
  if (!desired) {
    std::cerr << "actions: " << config::redact(cfg, desired.error().message) << '\n';
    return exit_for(desired.error());
  }
  auto existing = api.list_definitions();
  if (!existing) {
    std::cerr << "actions: could not list the app's definitions: " << config::redact(cfg, existing.error().message)
              << '\n';
    return exit_for(existing.error());
  }
  const auto plan = actions::plan_definitions(*desired, *existing, base);
  std::cout << "app " << cfg.actions.app_id << ", actions at " << base << "/{name}:\n";
  int changes = 0;
  for (const auto& p : plan) {
    print_item(p);
    if (p.op == actions::PlanItem::Op::create || p.op == actions::PlanItem::Op::update) ++changes;
  }
  if (plan.empty()) std::cout << "  (no mapping declares an action)\n";
  if (!apply) {
    std::cout << changes << " change(s) planned" << (changes ? ": run `hubsync actions apply` to make them" : "")
              << '\n';
    return kExitOk;
  }
  int done = 0;
  for (const auto& p : plan) {
    model::Result<actions::Registered> r = model::make_error(model::ErrorKind::fatal, "");
    if (p.op == actions::PlanItem::Op::create) r = api.create_definition(p.desired);
    else if (p.op == actions::PlanItem::Op::update) r = api.update_definition(p.id, p.desired);
    else continue;
    if (!r) {
      std::cerr << "actions: " << p.name << ": " << config::redact(cfg, r.error().message) << '\n';
      std::cout << done << " change(s) applied before the failure\n";
      return exit_for(r.error());
    }
    ++done;
    std::cout << "  " << actions::to_string(p.op) << "d " << p.name << " (definition " << r->id << ", revision "
              << r->revision_id << ")\n";
  }
  std::cout << done << " change(s) applied\n";
  return kExitOk;
}

}  // namespace hubsync::cli
