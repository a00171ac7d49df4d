// Webhook ingest: the real webhook::Server (Beast, v3 signature check,
// durable inbox append before the 200) on 127.0.0.1 with a real SQLite
// state store, driven by S concurrent senders (HubSpot's own concurrency is
// 10) posting signed batches of E events over keep-alive connections.
// Prints events/s and the ack latency (request written -> 200 read), then
// `RESULT key=value unit=...` lines for tests/bench/run_all.sh.
//
//   bench_ingest [--senders 10] [--events 100] [--seconds 10]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/hubspot/webhook_codec.h"
#include "engine/state/sqlite_state_store.h"
#include "engine/webhook/server.h"
#include "engine/webhook/signature.h"

namespace {

using namespace hubsync;
using Clock = std::chrono::steady_clock;
constexpr const char* kSecret = "bench-secret";
constexpr const char* kPath = "/webhooks/hubspot";

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string body_of(int sender, std::int64_t batch, int events) {
  std::string b = "[";
  for (int i = 0; i < events; ++i) {
    const std::int64_t id = (static_cast<std::int64_t>(sender) << 40) + batch * events + i;
    b += std::string(i ? "," : "") + "{\"eventId\":" + std::to_string(id) +
         ",\"subscriptionId\":7,\"portalId\":62515,\"appId\":1001,\"occurredAt\":" + std::to_string(wall_ms()) +
         ",\"subscriptionType\":\"contact.propertyChange\",\"attemptNumber\":0,\"objectId\":" +
         std::to_string(1000 + id % 5000) + ",\"propertyName\":\"firstname\",\"propertyValue\":\"x\"," +
         "\"changeSource\":\"CRM_UI\"}";
  }
  return b + "]";
}

// One keep-alive connection; returns false when the answer is not a 200.
bool post(int fd, int port, const std::string& body) {
  const std::string ts = std::to_string(wall_ms());
  const std::string uri = "http://127.0.0.1:" + std::to_string(port) + kPath;
  const std::string sig = webhook::sign_v3(kSecret, "POST", uri, body, ts);
  std::string req = std::string("POST ") + kPath + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nContent-Type: application/json\r\nX-HubSpot-Signature-v3: " + sig +
                    "\r\nX-HubSpot-Request-Timestamp: " + ts + "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  for (std::size_t off = 0; off < req.size();) {
    const auto n = write(fd, req.data() + off, req.size() - off);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[4096];
  while (true) {
    const auto n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    in.append(buf, static_cast<std::size_t>(n));
    const auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    const auto cl = in.find("Content-Length: ");
    const std::size_t len = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
    if (in.size() >= end + 4 + len) return in.compare(9, 3, "200") == 0;
  }
}

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int arg(int argc, char** argv, const char* name, int dflt) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  return dflt;
}

}  // namespace

int main(int argc, char** argv) {
  const int senders = arg(argc, argv, "--senders", 10), events = arg(argc, argv, "--events", 100);
  const int seconds = arg(argc, argv, "--seconds", 10);
  const auto dir = std::filesystem::temp_directory_path() / ("hubsync-bench-ingest-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  state::SqliteOptions so;
  so.path = (dir / "state.db").string();
  auto store = state::SqliteStateStore::open(so);
  if (!store.ok()) return std::fprintf(stderr, "state store: %s\n", store.error().message.c_str()), 1;
  webhook::ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.path = kPath;
  o.secrets = [] { return std::vector<std::string>{kSecret}; };
  o.decoder = hubspot::decode_webhook_events;
  o.store = store->get();
  o.max_connections = static_cast<std::size_t>(senders) + 4;
  auto server = webhook::Server::create(std::move(o));
  if (!server.ok()) return std::fprintf(stderr, "server: %s\n", server.error().message.c_str()), 1;
  auto port = (*server)->start();
  if (!port.ok()) return std::fprintf(stderr, "start: %s\n", port.error().message.c_str()), 1;

  std::atomic<std::int64_t> acked{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      std::vector<double> mine;
      int fd = connect_to(*port);
      for (std::int64_t b = 0; Clock::now() < until; ++b) {
        const std::string body = body_of(s, b, events);
        const auto t0 = Clock::now();
        if (fd < 0 || !post(fd, *port, body)) {
          ++failed;
          if (fd >= 0) close(fd);
          fd = connect_to(*port);
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        acked += events;
      }
      if (fd >= 0) close(fd);
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  const double took = std::chrono::duration<double>(Clock::now() - started).count();
  (*server)->stop();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  auto stored = (*store)->count_inbox_pending();
  std::printf("| senders | events/batch | events/s acked | ack p50 ms | ack p99 ms | failed requests | inbox rows |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::printf("| %d | %d | %.0f | %.1f | %.1f | %lld | %lld |\n", senders, events, acked.load() / took, pct(0.50),
              pct(0.99), static_cast<long long>(failed.load()),
              static_cast<long long>(stored.ok() ? static_cast<std::int64_t>(*stored) : -1));
  std::printf("goal: >= 10,000 events/s, p99 < 50 ms (HubSpot waits 5 s); every acked event is in the inbox: %s\n",
              stored.ok() && static_cast<std::int64_t>(*stored) == acked.load() ? "yes" : "NO");
  auto result = [](const char* key, double v, const char* unit) { std::printf("RESULT %s=%.6g unit=%s\n", key, v, unit); };
  result("ingest.senders", senders, "count");
  result("ingest.events_per_batch", events, "count");
  result("ingest.events_per_s", static_cast<double>(acked.load()) / took, "events/s");
  result("ingest.ack_p50_ms", pct(0.50), "ms");
  result("ingest.ack_p99_ms", pct(0.99), "ms");
  result("ingest.failed_requests", static_cast<double>(failed.load()), "count");
  result("ingest.all_in_inbox", stored.ok() && static_cast<std::int64_t>(*stored) == acked.load() ? 1 : 0, "bool");
  store->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
