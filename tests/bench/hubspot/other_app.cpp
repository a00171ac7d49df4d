#include "tests/bench/hubspot/other_app.h"

#include <algorithm>

namespace hubsync::bench {

OtherApp::OtherApp(std::string base_url, std::string token, int per_window, std::chrono::milliseconds window,
                   int threads)
    : url_(std::move(base_url) + "/crm/v3/objects/contacts?limit=1"),
      token_(std::move(token)),
      gap_(std::chrono::duration_cast<std::chrono::nanoseconds>(window) / std::max(1, per_window)),
      threads_(std::max(1, threads)) {}

OtherApp::~OtherApp() { stop(); }

void OtherApp::start() {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < threads_; ++i) senders_.emplace_back([this, i, t0] { sender(i, t0); });
}

void OtherApp::stop() {
  stop_ = true;
  for (auto& t : senders_)
    if (t.joinable()) t.join();
}

OtherApp::Counts OtherApp::counts() const { return {sent_.load(), ok_.load(), r429_.load(), failed_.load()}; }

std::vector<std::chrono::steady_clock::time_point> OtherApp::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

void OtherApp::sender(int index, std::chrono::steady_clock::time_point t0) {
  hubspot::HttpRequest req;
  req.method = hubspot::HttpMethod::get;
  req.url = url_;
  req.headers.emplace_back("Authorization", "Bearer " + token_);
  // Request k goes out at t0 + k * gap; sender i sends k = i, i + threads, ...
  // A late sender (a loaded machine) catches up at once rather than drift.
  for (std::int64_t k = index; !stop_; k += threads_) {
    std::this_thread::sleep_until(t0 + gap_ * k);
    if (stop_) break;
    ++sent_;
    auto r = http_.send(req);
    if (!r.ok()) ++failed_;
    else if (r->status == 429) {
      ++r429_;
      std::lock_guard lock(mu_);
      refused_.push_back(std::chrono::steady_clock::now());
    }
    else if (r->status / 100 == 2) ++ok_;
    else ++failed_;
  }
}

}  // namespace hubsync::bench
