#pragma once

// What the pipeline benchmarks share: the simulator as a process of its own
// (so the CPU time and RSS a benchmark prints are hubsync's alone), a
// PostgreSQL server for the run, and this process's CPU and memory.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/hubspot/http_transport.h"

namespace hubsync::bench {

/// Requests the simulator answered, by route ("POST /crm/v3/objects/{type}/search"),
/// every status together; the admin API (/_sim/) left out.
struct SimCounters {
  std::map<std::string, std::int64_t> requests;
  std::int64_t rate_limited = 0;    ///< 429s answered
  std::int64_t inputs_written = 0;  ///< objects the portal wrote (its own write counter, every type)

  /// Requests of the routes containing `route_part`.
  std::int64_t calls(std::string_view route_part) const;
  std::int64_t total() const;
  /// Requests that may write: every method but GET, less searches and
  /// batch reads (which are POSTs).
  std::int64_t write_requests() const;
  SimCounters operator-(const SimCounters& earlier) const;
};

/// The hubspot-sim binary (HUBSPOT_SIM_BIN) started with `args`, stopped
/// (SIGTERM, waited for) on destruction. Throws std::runtime_error when it
/// does not start.
class SimProcess {
 public:
  explicit SimProcess(const std::vector<std::string>& args);
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  const std::string& url() const { return url_; }
  /// CPU seconds (user + system) the simulator has used so far.
  double cpu_seconds() const;
  /// One call to the admin API (`path` under /_sim/, e.g. "seed"); the
  /// answer's body. Throws std::runtime_error on a non-2xx answer.
  std::string admin(hubspot::HttpMethod method, const std::string& path, const std::string& body = "");
  /// One call to the HubSpot API (`path` from /crm/...) as the other app
  /// (sim::kOtherToken), so hubsync's own budget is not spent; the body.
  /// Throws std::runtime_error on a non-2xx answer.
  std::string api(hubspot::HttpMethod method, const std::string& path, const std::string& body = "");
  /// Creates `n` contacts in requests of at most 10,000 (the simulator's
  /// seed knob: realistic values, unique emails); returns their ids.
  std::vector<std::string> seed_contacts(int n);
  /// Creates `n` contacts c<i>@example.com (six properties) by bulk
  /// imports of `per_import` rows; every row of an import gets the same
  /// last-modified time, the newest import `newest_ms`, each earlier one
  /// `step_ms` before the next.
  void import_contacts(int n, int per_import, std::int64_t newest_ms, std::int64_t step_ms);
  SimCounters counters();
  void reset_counters();

 private:
  pid_t pid_ = 0;
  std::string url_;
  std::unique_ptr<hubspot::HttpTransport> http_;
};

/// The PostgreSQL server of a run: $HUBSYNC_TEST_PG_DSN (tests/support/pg.h)
/// when set, else a throwaway cluster (tests/pg/throwaway-pg.sh) stopped and
/// removed on destruction. Throws std::runtime_error when none can be had.
class PgServer {
 public:
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  const std::string& dsn() const { return dsn_; }

 private:
  std::string dsn_;
  std::string state_dir_;  ///< non-empty when this object started the cluster
};

/// CPU seconds (user + system, every thread) this process has used.
double cpu_seconds();
/// This process's resident set now, and its peak since start or since the
/// last reset_peak_rss(), in MiB (/proc/self/status VmRSS, VmHWM).
long rss_mib();
long peak_rss_mib();
/// Starts a new peak (/proc/self/clear_refs); false when the kernel refuses.
bool reset_peak_rss();
/// The 1-minute load average (the machine is shared: print it with figures).
double load_average();
/// Integer with thousands separators ("100,000").
std::string grouped(std::int64_t n);

}  // namespace hubsync::bench
