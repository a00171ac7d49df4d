#include "tests/bench/support/bench_support.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "connectors/hubspot/curl_transport.h"
#include "connectors/hubspot/json.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/support/pg.h"

namespace hubsync::bench {

namespace fs = std::filesystem;

std::int64_t SimCounters::calls(std::string_view route_part) const {
  std::int64_t n = 0;
  for (const auto& [route, count] : requests)
    if (route.find(route_part) != std::string::npos) n += count;
  return n;
}

std::int64_t SimCounters::total() const { return calls(""); }

std::int64_t SimCounters::write_requests() const {
  std::int64_t n = 0;
  for (const auto& [route, count] : requests)
    if (route.rfind("GET ", 0) != 0 && route.find("/search") == std::string::npos &&
        route.find("/batch/read") == std::string::npos)
      n += count;
  return n;
}

SimCounters SimCounters::operator-(const SimCounters& earlier) const {
  SimCounters d = *this;
  for (const auto& [route, count] : earlier.requests) d.requests[route] -= count;
  std::erase_if(d.requests, [](const auto& kv) { return kv.second == 0; });
  d.rate_limited -= earlier.rate_limited;
  d.inputs_written -= earlier.inputs_written;
  return d;
}

SimProcess::SimProcess(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  // The argument vector is built before the fork: a child of a threaded
  // process that allocates can hang on a lock another thread held.
  std::string bin = HUBSPOT_SIM_BIN;
  std::vector<std::string> copy = args;
  std::vector<char*> argv{bin.data()};
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  // The simulator prints one line when it listens: its URL.
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  auto at = line.find("http://");
  if (at == std::string::npos) throw std::runtime_error("hubspot-sim did not start: " + line);
  url_ = line.substr(at);
  hubspot::CurlOptions o;
  o.total_timeout = std::chrono::minutes(5);  // seeding 10,000 records at once
  http_ = std::make_unique<hubspot::CurlTransport>(o);
}

SimProcess::~SimProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

double SimProcess::cpu_seconds() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces) start after its ')'.
  auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream rest(text.substr(close_paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string SimProcess::admin(hubspot::HttpMethod method, const std::string& path, const std::string& body) {
  hubspot::HttpRequest req;
  req.method = method;
  req.url = url_ + "/_sim/" + path;
  req.body = body;
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  auto r = http_->send(req);
  if (!r.ok()) throw std::runtime_error("/_sim/" + path + ": " + r.error().message);
  if (r->status < 200 || r->status >= 300)
    throw std::runtime_error("/_sim/" + path + ": HTTP " + std::to_string(r->status) + " " + r->body);
  return r->body;
}

std::string SimProcess::api(hubspot::HttpMethod method, const std::string& path, const std::string& body) {
  hubspot::HttpRequest req;
  req.method = method;
  req.url = url_ + path;
  req.body = body;
  req.headers.emplace_back("Authorization", std::string("Bearer ") + sim::kOtherToken);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  auto r = http_->send(req);
  if (!r.ok()) throw std::runtime_error(path + ": " + r.error().message);
  if (r->status < 200 || r->status >= 300)
    throw std::runtime_error(path + ": HTTP " + std::to_string(r->status) + " " + r->body);
  return r->body;
}

std::vector<std::string> SimProcess::seed_contacts(int n) {
  std::vector<std::string> ids;
  for (int chunk = 0; n > 0; ++chunk) {
    const int count = std::min(n, 10000);
    // A seed per request: its records' emails carry it, so they never repeat.
    const std::string answer = admin(hubspot::HttpMethod::post, "seed",
                                     "{\"type\":\"contacts\",\"count\":" + std::to_string(count) +
                                         ",\"seed\":" + std::to_string(chunk + 1) + "}");
    auto d = hubspot::json::parse(answer);
    for (const auto& id : d["ids"].GetArray()) ids.emplace_back(id.GetString());
    n -= count;
  }
  return ids;
}

void SimProcess::import_contacts(int n, int per_import, std::int64_t newest_ms, std::int64_t step_ms) {
  static const char* kCities[] = {"Oslo", "Bergen", "Lisbon", "Austin", "Dublin", "Tokyo", "Berlin"};
  const int imports = (n + per_import - 1) / per_import;
  for (int k = 0; k < imports; ++k) {
    const std::int64_t stamp = newest_ms - static_cast<std::int64_t>(imports - 1 - k) * step_ms;
    std::string body = "{\"type\":\"contacts\",\"modifiedAt\":" + std::to_string(stamp) + ",\"rows\":[";
    for (int i = k * per_import; i < std::min(n, (k + 1) * per_import); ++i) {
      const std::string id = std::to_string(i);
      body += std::string(i > k * per_import ? "," : "") + "{\"email\":\"c" + id + "@example.com\",\"firstname\":\"First" +
              id + "\",\"lastname\":\"Last" + id + "\",\"city\":\"" + kCities[i % 7] + "\",\"phone\":\"+1 555 " +
              std::to_string(1000000 + i) + "\",\"jobtitle\":\"Engineer\"}";
    }
    admin(hubspot::HttpMethod::post, "ui/import", body + "]}");
  }
}

SimCounters SimProcess::counters() {
  auto d = hubspot::json::parse(admin(hubspot::HttpMethod::get, "counters"));
  SimCounters c;
  for (const auto& route : d["requests"].GetObject()) {
    const std::string name = route.name.GetString();
    if (name.find(" /_sim") != std::string::npos) continue;
    for (const auto& status : route.value.GetObject()) c.requests[name] += status.value.GetInt64();
  }
  c.rate_limited = hubspot::json::get_int(d, "rateLimited");
  if (const auto* written = hubspot::json::member(d, "inputsWritten"))
    for (const auto& type : written->GetObject()) c.inputs_written += type.value.GetInt64();
  return c;
}

void SimProcess::reset_counters() { admin(hubspot::HttpMethod::post, "counters/reset"); }

namespace {

std::string throwaway_script() { return std::string(HUBSYNC_SOURCE) + "/tests/pg/throwaway-pg.sh"; }

}  // namespace

PgServer::PgServer() : dsn_(test::test_pg_dsn()) {
  if (!dsn_.empty()) return;
  state_dir_ = (fs::temp_directory_path() / ("hubsync-bench-pg-" + std::to_string(getpid()))).string();
  if (std::system(("bash " + throwaway_script() + " start " + state_dir_ + " >/dev/null").c_str()) != 0)
    throw std::runtime_error("cannot start PostgreSQL (tests/pg/throwaway-pg.sh)");
  std::ifstream in(fs::path(state_dir_) / "dsn");
  std::getline(in, dsn_);
  if (dsn_.empty()) throw std::runtime_error("throwaway-pg.sh wrote no DSN");
}

PgServer::~PgServer() {
  if (state_dir_.empty()) return;
  (void)std::system(("bash " + throwaway_script() + " stop " + state_dir_ + " >/dev/null").c_str());
  std::error_code ec;
  fs::remove(state_dir_, ec);  // stop empties it; a directory still holding files stays for a look
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

namespace {

long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return 0;
}

}  // namespace

long rss_mib() { return status_kib("VmRSS") / 1024; }
long peak_rss_mib() { return status_kib("VmHWM") / 1024; }

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

double load_average() {
  double avg[1] = {0};
  return getloadavg(avg, 1) == 1 ? avg[0] : 0;
}

std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace hubsync::bench
