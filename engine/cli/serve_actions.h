#pragma once

// serve's workflow actions: the HTTP endpoint (started once, with the
// server) and the executor of the mappings being served (replaced on each
// reload), wired into the service's worker.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/hubspot/actions_api.h"
#include "connectors/hubspot/hubspot_catalog.h"
#include "engine/actions/endpoint.h"
#include "engine/actions/executor.h"
#include "engine/actions/runner.h"
#include "engine/cli/hubspot_stack.h"
#include "engine/config/config.h"
#include "engine/service/service.h"

namespace hubsync::cli {

class ServeActions {
 public:
  /// Every reference must outlive this.
  /// `portal_id`: the portal whose calls are served (0: any).
  ServeActions(const config::Config& cfg, state::StateStore& store, ops::Registry& registry, HubSpotStack& hubspot,
               std::int64_t portal_id);
  ~ServeActions();

  /// ServerOptions::actions: any io thread. 400 when no mapping declares
  /// actions (yet).
  webhook::Response handle(const webhook::Request& request);

  /// Serves the actions of `mappings` from now on (a new executor; blocked
  /// executions of a previous one are re-queued from the state store), and
  /// installs its hooks in `options`. `wake` wakes the service's worker.
  void attach(const std::vector<mapping::Mapping>& mappings, service::ServiceOptions& options,
              pipeline::DatabasePort& db, pipeline::CrmPort& crm, ratelimit::Clock& clock,
              std::function<void()> wake, std::function<void(const std::string&)> push_soon);

  /// How many actions the served mappings declare.
  std::size_t count() const;

 private:
  struct Current;
  const config::Config& cfg_;
  std::int64_t portal_id_;
  state::StateStore& store_;
  ops::Registry& registry_;
  hubspot::HubSpotActions api_;
  hubspot::HubSpotCatalog catalog_;  // the worker's only: property definitions for write actions
  mutable std::mutex mu_;
  std::shared_ptr<Current> current_;  // guarded by mu_
};

}  // namespace hubsync::cli
