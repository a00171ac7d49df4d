#pragma once

// The real hubsync binary run on a quick harness (a private database and a
// simulator on loopback), with its config and one mapping file written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "tests/integration/push/push_harness.h"
#include "tests/support/process.h"

namespace hubsync::test {

struct Cli {
  std::unique_ptr<PushHarness> h;
  std::filesystem::path config;
  /// Runs `hubsync --config <config> <args>`, stderr folded into the output.
  CommandOutput run(const std::string& args) {
    return run_command("'" HUBSYNC_BIN "' --config '" + config.string() + "' " + args + " 2>&1");
  }
  /// Rewrites the mapping file mappings/people.yaml.
  void write_mapping(const std::string& yaml) { std::ofstream(h->dir / "mappings" / "people.yaml") << yaml; }
};

/// A harness loaded with `sql`, mapping `mapping` (as people.yaml) and
/// config section `pull: <pull>`, after `migrate` and a first `run --once`.
inline Cli cli_after_first_run(const std::string& server, const std::string& mapping, const std::string& sql,
                               const std::string& pull = "{association_pass_every_s: 0}") {
  Cli c{quick_harness(server, sql, {mapping}), {}};
  std::filesystem::create_directories(c.h->dir / "mappings");
  c.write_mapping(mapping);
  c.config = c.h->dir / "hubsync.yaml";
  std::ofstream(c.config) << c.h->config_yaml() << "pull: " << pull << "\n";
  EXPECT_EQ(c.run("migrate").code, 0);
  EXPECT_EQ(c.run("run --once").code, 0);
  return c;
}

}  // namespace hubsync::test
