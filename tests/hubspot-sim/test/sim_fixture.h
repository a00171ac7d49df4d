#pragma once

// A simulator on a loopback port with a controllable clock, for the
// integration tests.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "tests/hubspot-sim/simulator.h"
#include "tests/hubspot-sim/test/http_client.h"

namespace hubsync::sim::test {

class SimTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void start(SimulatorOptions o) {
    client_.reset();
    sim_.reset();
    o.clock = [this] { return now_.load(); };
    customize(o);
    sim_ = std::make_unique<Simulator>(o);
    sim_->start();
    client_ = std::make_unique<Client>(sim_->base_url());
  }
  virtual void customize(SimulatorOptions&) {}
  void advance(std::int64_t ms) { now_ += ms; }

  std::atomic<std::int64_t> now_{1700000000000};
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<Client> client_;
};

/// `{"inputs":[...]}` with n contact inputs built by `make(i)`.
template <class F>
std::string inputs(int n, F make) {
  std::string s = "{\"inputs\":[";
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + make(i);
  return s + "]}";
}

}  // namespace hubsync::sim::test
