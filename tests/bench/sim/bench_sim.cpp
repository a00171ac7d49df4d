// bench_sim: how many batch/upsert requests (100 small contacts each) the
// simulator serves per second with latency injection and rate limits off.
// Not a ctest test: it prints figures. Usage:
//   bench_sim [--seconds 10] [--connections 4] [--server-threads 2] [--pool 20000]
// The simulator runs as a subprocess (the hubspot-sim binary) so its CPU time
// is measured apart from the load generator's. Ends with `RESULT key=value
// unit=...` lines for tests/bench/run_all.sh.
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#ifndef HUBSPOT_SIM_BIN
#error "HUBSPOT_SIM_BIN must be defined"
#endif

namespace {

using Clock = std::chrono::steady_clock;

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

}  // namespace

int main(int argc, char** argv) {
  int seconds = 10, connections = 4, server_threads = 2, pool = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--seconds") seconds = v;
    else if (a == "--connections") connections = v;
    else if (a == "--server-threads") server_threads = v;
    else if (a == "--pool") pool = v;
  }
  int out_pipe[2];
  if (pipe(out_pipe) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    close(out_pipe[0]);
    std::string threads = std::to_string(server_threads);
    execl(HUBSPOT_SIM_BIN, "hubspot-sim", "--port", "0", "--no-rate-limit", "--log-level", "warn", "--threads", threads.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  std::string line;
  char c;
  while (read(out_pipe[0], &c, 1) == 1 && c != '\n') line += c;
  auto at = line.find("http://");
  if (at == std::string::npos) {
    std::fprintf(stderr, "bench_sim: simulator did not start: %s\n", line.c_str());
    return 1;
  }
  std::string base = line.substr(at);
  curl_global_init(CURL_GLOBAL_ALL);

  std::vector<Worker> workers(static_cast<size_t>(connections));
  std::atomic<long> seq{0};
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  double server_cpu0 = proc_cpu_seconds(pid), client_cpu0 = self_cpu_seconds();
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < connections; ++w) {
    threads.emplace_back([&, w] {
      Worker& me = workers[static_cast<size_t>(w)];
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
        std::string body = body_for(seq++, pool);
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
    });
  }
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  double server_cpu = proc_cpu_seconds(pid) - server_cpu0, client_cpu = self_cpu_seconds() - client_cpu0;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);

  std::vector<double> all;
  long requests = 0, errors = 0;
  for (auto& w : workers) {
    all.insert(all.end(), w.latencies_ms.begin(), w.latencies_ms.end());
    requests += w.requests;
    errors += w.errors;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))]; };
  std::printf("hubspot-sim batch/upsert benchmark (100 contacts per request, pool %d emails)\n", pool);
  std::printf("%-28s %s\n", "metric", "value");
  std::printf("%-28s %d\n", "connections", connections);
  std::printf("%-28s %d\n", "server threads", server_threads);
  std::printf("%-28s %.1f\n", "duration s", wall);
  std::printf("%-28s %ld\n", "requests", requests);
  std::printf("%-28s %ld\n", "errors (non-200)", errors);
  std::printf("%-28s %.0f\n", "requests/s", static_cast<double>(requests) / wall);
  std::printf("%-28s %.0f\n", "records/s", static_cast<double>(requests) * 100 / wall);
  std::printf("%-28s %.2f\n", "latency p50 ms", pct(0.50));
  std::printf("%-28s %.2f\n", "latency p99 ms", pct(0.99));
  std::printf("%-28s %.2f (%.0f%% of one core)\n", "server CPU s", server_cpu, 100 * server_cpu / wall);
  std::printf("%-28s %.2f (%.0f%% of one core)\n", "load generator CPU s", client_cpu, 100 * client_cpu / wall);
  double us_per_request = requests ? 1e6 * server_cpu / static_cast<double>(requests) : 0.0;
  std::printf("%-28s %.0f\n", "server CPU us/request", us_per_request);
  std::printf("%-28s %.0f\n", "CPU-bound capacity, 2 cores", us_per_request > 0 ? 2e6 / us_per_request : 0.0);
  std::printf("%-28s %.2f\n", "machine load average (1 min)", [] {
    double l[1] = {0};
    return getloadavg(l, 1) == 1 ? l[0] : 0.0;
  }());
  auto result = [](const char* key, double v, const char* unit) { std::printf("RESULT %s=%.6g unit=%s\n", key, v, unit); };
  result("sim.requests_per_s", static_cast<double>(requests) / wall, "requests/s");
  result("sim.latency_p50_ms", pct(0.50), "ms");
  result("sim.latency_p99_ms", pct(0.99), "ms");
  result("sim.server_cpu_cores", server_cpu / wall, "cores");
  result("sim.server_cpu_us_per_request", us_per_request, "us");
  result("sim.errors", static_cast<double>(errors), "count");
  curl_global_cleanup();
  return errors == 0 ? 0 : 2;
}
