#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/ops/metrics.h"
#include "engine/ratelimit/rate_limiter.h"
#include "engine/service/service.h"

namespace hubsync::service {

/// The service's metrics in the registry /metrics renders. Names are
/// `hubsync_*` with units in the names; labels carry mapping names only
/// (never a secret or a field value). Counters follow ServiceStats and
/// ApiCounts (which only grow); gauges are set from each Snapshot.
class ServiceMetrics {
 public:
  explicit ServiceMetrics(ops::Registry& registry);
  /// Publishes the service's counters and a snapshot. Thread-safe with
  /// /metrics readers; called by one thread.
  void publish(const ServiceStats& stats, const Snapshot& snap);

 private:
  void advance(ops::Counter& c, std::int64_t now_value, std::int64_t& last);
  /// Advances counter `name{labels}` to the running total `value`.
  void count(const std::string& name, const std::string& help, const std::vector<std::string>& label_names,
             const std::vector<std::string>& labels, std::int64_t value);
  void publish_service(const ServiceStats& s);
  void publish_records(const ServiceStats& s);
  void publish_api(const ApiCounts& a);
  void publish_budget(const ratelimit::LimiterStats& l);
  void publish_backlog(const Snapshot& snap);
  ops::Registry& r_;
  std::map<std::string, std::int64_t> last_;
};

}  // namespace hubsync::service
