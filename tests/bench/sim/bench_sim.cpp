// bench_sim: how many batch/upsert requests (100 small contacts each) the
// simulator serves per second with latency injection and rate limits off,
// for the shipped binary (jemalloc) and, side by side in the same run, the
// same binary on glibc's malloc (hubspot-sim-glibc). Not a ctest test: it
// prints figures. Usage:
//   bench_sim [--seconds 10] [--rounds 2] [--connections 4] [--server-threads 2] [--pool 20000]
//             [--versus PATH]
// --versus adds a third side, another hubspot-sim binary (an older build, to
// measure a change to the simulator side by side with it).
// --seconds is each side's total, split over rounds that alternate which
// side goes first. The simulator runs as a subprocess so its CPU time is
// measured apart from the load generator's. Ends with `RESULT key=value
// unit=...` lines for tests/bench/run_all.sh.
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef HUBSPOT_SIM_BIN
#error "HUBSPOT_SIM_BIN must be defined"
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int seconds = 10, rounds = 2, connections = 4, server_threads = 2, pool = 20000;
  std::string versus;  ///< another simulator binary, run as a third side
};

struct Side {
  const char* key;  ///< RESULT key prefix
  const char* bin;
  std::string allocator;
  long requests = 0, errors = 0;
  double wall = 0, server_cpu = 0, client_cpu = 0;
  std::vector<double> latencies_ms;
};

struct Worker {
  std::vector<double> latencies_ms;
  long requests = 0;
  long errors = 0;
};

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

double proc_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t pos = close + 2;
  while (pos < s.size()) {
    auto sp = s.find(' ', pos);
    if (sp == std::string::npos) sp = s.size();
    fields.push_back(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
  // fields[0] is state (field 3); utime is field 14, stime 15
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string body_for(long seq, int pool) {
  std::string s = "{\"inputs\":[";
  for (int i = 0; i < 100; ++i) {
    long n = (seq * 100 + i) % pool;
    if (i) s += ",";
    s += "{\"id\":\"c" + std::to_string(n) + "@bench.example\",\"idProperty\":\"email\",\"properties\":{\"firstname\":\"F" +
         std::to_string(seq % 97) + "\",\"lastname\":\"L" + std::to_string(n) + "\",\"city\":\"Oslo\"}}";
  }
  return s + "]}";
}

// What `bin --version` says of its allocator.
std::string allocator_of(const char* bin) {
  std::string cmd = std::string("'") + bin + "' --version 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::array<char, 256> buf{};
  std::string out;
  while (p && fgets(buf.data(), static_cast<int>(buf.size()), p.get())) out += buf.data();
  auto at = out.find("allocator: ");
  if (at == std::string::npos) return "unknown";
  auto end = out.find(')', at);
  return out.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
}

// Starts the simulator; returns its pid and base URL, or pid -1.
std::pair<pid_t, std::string> start_sim(const char* bin, int server_threads) {
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return {-1, ""};
  const std::string threads = std::to_string(server_threads);  // no allocation after the fork
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    close(out_pipe[0]);
    execl(bin, "hubspot-sim", "--port", "0", "--no-rate-limit", "--log-level", "warn", "--threads", threads.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  std::string line;
  char c;
  while (read(out_pipe[0], &c, 1) == 1 && c != '\n') line += c;
  close(out_pipe[0]);
  auto at = line.find("http://");
  if (at == std::string::npos) {
    std::fprintf(stderr, "bench_sim: %s did not start: %s\n", bin, line.c_str());
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    return {-1, ""};
  }
  return {pid, line.substr(at)};
}

// One connection's closed loop of batch upserts until the deadline.
void load_loop(const std::string& base, const Options& o, std::atomic<long>& seq, Clock::time_point deadline,
               Worker& me) {
  CURL* curl = curl_easy_init();
  curl_slist* h = nullptr;
  h = curl_slist_append(h, "Authorization: Bearer pat-sim-hubsync");
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Expect:");
  std::string url = base + "/crm/v3/objects/contacts/batch/upsert";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  while (Clock::now() < deadline) {
    std::string body = body_for(seq++, o.pool);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    auto s = Clock::now();
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    me.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    ++me.requests;
    if (rc != CURLE_OK || status != 200) ++me.errors;
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(curl);
}

// One round of one side: a fresh simulator under load for `seconds`.
bool run_round(Side& side, const Options& o, double seconds) {
  auto [pid, base] = start_sim(side.bin, o.server_threads);
  if (pid < 0) return false;
  std::vector<Worker> workers(static_cast<size_t>(o.connections));
  std::atomic<long> seq{0};
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  double server_cpu0 = proc_cpu_seconds(pid), client_cpu0 = self_cpu_seconds();
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&, w = &w] { load_loop(base, o, seq, deadline, *w); });
  for (auto& t : threads) t.join();
  side.wall += std::chrono::duration<double>(Clock::now() - t0).count();
  side.server_cpu += proc_cpu_seconds(pid) - server_cpu0;
  side.client_cpu += self_cpu_seconds() - client_cpu0;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  for (auto& w : workers) {
    side.latencies_ms.insert(side.latencies_ms.end(), w.latencies_ms.begin(), w.latencies_ms.end());
    side.requests += w.requests;
    side.errors += w.errors;
  }
  return true;
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

const Side* side_of(const std::vector<Side>& sides, const std::string& key) {
  for (const auto& s : sides)
    if (key == s.key) return &s;
  return nullptr;
}

double rate(const Side& s) { return s.wall > 0 ? static_cast<double>(s.requests) / s.wall : 0.0; }
double us_per_request(const Side& s) {
  return s.requests ? 1e6 * s.server_cpu / static_cast<double>(s.requests) : 0.0;
}

void print_table(std::vector<Side>& sides, const Options& o) {
  std::printf("hubspot-sim batch/upsert benchmark (100 contacts per request, pool %d emails, %d connections, "
              "%d server threads, %d round(s))\n",
              o.pool, o.connections, o.server_threads, o.rounds);
  auto row = [&](const char* name, auto cell) {
    std::printf("%-30s", name);
    for (auto& s : sides) std::printf(" %-26s", cell(s).c_str());
    std::printf("\n");
  };
  auto num = [](double v, int decimals) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return std::string(b);
  };
  row("allocator", [](Side& s) { return s.allocator; });
  row("duration s", [&](Side& s) { return num(s.wall, 1); });
  row("requests", [&](Side& s) { return std::to_string(s.requests); });
  row("errors (non-200)", [&](Side& s) { return std::to_string(s.errors); });
  row("requests/s", [&](Side& s) { return num(rate(s), 0); });
  row("records/s", [&](Side& s) { return num(rate(s) * 100, 0); });
  row("latency p50 ms", [&](Side& s) { return num(pct(s.latencies_ms, 0.50), 2); });
  row("latency p99 ms", [&](Side& s) { return num(pct(s.latencies_ms, 0.99), 2); });
  row("server cores", [&](Side& s) { return num(s.wall > 0 ? s.server_cpu / s.wall : 0, 2); });
  row("load generator cores", [&](Side& s) { return num(s.wall > 0 ? s.client_cpu / s.wall : 0, 2); });
  row("server CPU us/request", [&](Side& s) { return num(us_per_request(s), 0); });
  if (const Side* g = side_of(sides, "sim.glibc"); g && rate(*g) > 0)
    std::printf("%-30s %.2f\n", "requests/s, shipped / glibc", rate(sides[0]) / rate(*g));
  if (const Side* v = side_of(sides, "sim.versus"); v && rate(*v) > 0)
    std::printf("%-30s %.2f\n", "requests/s, shipped / versus", rate(sides[0]) / rate(*v));
  double l[1] = {0};
  std::printf("%-30s %.2f\n", "machine load average (1 min)", getloadavg(l, 1) == 1 ? l[0] : 0.0);
}

void print_results(std::vector<Side>& sides) {
  auto result = [](const std::string& key, double v, const char* unit) {
    std::printf("RESULT %s=%.6g unit=%s\n", key.c_str(), v, unit);
  };
  for (auto& s : sides) {
    std::string k = s.key;
    result(k + ".requests_per_s", rate(s), "requests/s");
    result(k + ".latency_p50_ms", pct(s.latencies_ms, 0.50), "ms");
    result(k + ".latency_p99_ms", pct(s.latencies_ms, 0.99), "ms");
    result(k + ".server_cpu_cores", s.wall > 0 ? s.server_cpu / s.wall : 0, "cores");
    result(k + ".server_cpu_us_per_request", us_per_request(s), "us");
    result(k + ".errors", static_cast<double>(s.errors), "count");
  }
  if (const Side* g = side_of(sides, "sim.glibc"); g && rate(*g) > 0)
    result("sim.allocator_ratio", rate(sides[0]) / rate(*g), "ratio");
  if (const Side* v = side_of(sides, "sim.versus"); v && rate(*v) > 0)
    result("sim.versus_ratio", rate(sides[0]) / rate(*v), "ratio");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--versus") {
      o.versus = argv[i + 1];
      continue;
    }
    int v = std::atoi(argv[i + 1]);
    if (a == "--seconds") o.seconds = v;
    else if (a == "--rounds") o.rounds = std::max(1, v);
    else if (a == "--connections") o.connections = v;
    else if (a == "--server-threads") o.server_threads = v;
    else if (a == "--pool") o.pool = v;
  }
  std::vector<Side> sides{{"sim", HUBSPOT_SIM_BIN, "", 0, 0, 0, 0, 0, {}}};
#ifdef HUBSPOT_SIM_GLIBC_BIN
  sides.push_back({"sim.glibc", HUBSPOT_SIM_GLIBC_BIN, "", 0, 0, 0, 0, 0, {}});
#endif
  if (!o.versus.empty()) sides.push_back({"sim.versus", o.versus.c_str(), "", 0, 0, 0, 0, 0, {}});
  for (auto& s : sides) s.allocator = allocator_of(s.bin);
  curl_global_init(CURL_GLOBAL_ALL);
  double per_round = static_cast<double>(o.seconds) / o.rounds;
  for (int r = 0; r < o.rounds; ++r)
    for (size_t i = 0; i < sides.size(); ++i) {
      Side& s = sides[(i + static_cast<size_t>(r)) % sides.size()];
      if (!run_round(s, o, per_round)) return 1;
    }
  curl_global_cleanup();
  print_table(sides, o);
  print_results(sides);
  long errors = 0;
  for (auto& s : sides) errors += s.errors;
  return errors == 0 ? 0 : 2;
}
