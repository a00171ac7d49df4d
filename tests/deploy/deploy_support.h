#pragma once

// What the deploy/ tests (deploy_k8s_test.cpp, deploy_host_test.cpp) share:
// the paths of the repository's deploy/ tree and of the built binary, text
// and file helpers, a temporary directory, yaml-cpp navigation that never
// throws, and the real `hubsync config check`.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace hubsync::test {

// ---- paths ----------------------------------------------------------------

/// The repository's root (HUBSYNC_SOURCE_DIR).
extern const std::filesystem::path kSource;
/// deploy/ of the repository.
extern const std::filesystem::path kDeploy;
/// deploy/kubernetes/: one manifest per file.
extern const std::filesystem::path kKube;
/// deploy/systemd/: the units.
extern const std::filesystem::path kSystemd;
/// The built hubsync binary (HUBSYNC_BIN).
extern const std::string kBin;
/// Where every deployment keeps the config: the image's ENTRYPOINT, the
/// units' ExecStart=, the pods' mounts.
extern const std::string kConfigPath;
/// Where the image and the units install the binary.
extern const std::string kInstalledBin;

// ---- files and text -------------------------------------------------------

/// The whole content of `p` ("" when it cannot be read).
std::string read_text(const std::filesystem::path& p);
/// Replaces the content of `p` with `s`.
void write_text(const std::filesystem::path& p, const std::string& s);
/// Replaces the content of `p` with `n` dumped as YAML, and a newline.
void write_yaml(const std::filesystem::path& p, const YAML::Node& n);
/// The lines of `s`, without their '\n'.
std::vector<std::string> lines_of(const std::string& s);
/// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string trim(const std::string& s);
/// The whitespace-separated words of `s`.
std::vector<std::string> words(const std::string& s);
/// Whether `needle` occurs in `haystack`.
bool contains(const std::string& haystack, const std::string& needle);
/// `s` as a whole decimal int; -1 when it is not one.
int to_int(const std::string& s);
/// The port of a `host:port` listen address; -1 when it has none.
int port_of(const std::string& address);
/// Whether `s` is one of `v`.
bool has(const std::vector<std::string>& v, const std::string& s);

/// A fresh directory under the system temp dir, removed with its content on
/// destruction; path() is empty when it could not be made.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---- YAML -----------------------------------------------------------------

/// An undefined node: what the helpers below return for "missing".
YAML::Node undefined();
/// n[path[i]][path[i+1]]..., or an undefined node when a step is missing
/// (yaml-cpp throws on a chain through a missing key).
YAML::Node at(const YAML::Node& n, const std::vector<std::string>& path, std::size_t i = 0);
/// The scalar's text; "" for anything else.
std::string scalar(const YAML::Node& n);
/// The scalars of a sequence (""s for non-scalar items; empty if no sequence).
std::vector<std::string> strings(const YAML::Node& seq);
/// The first item of a sequence; undefined when empty or no sequence.
YAML::Node first(const YAML::Node& seq);
/// The item of a sequence whose `name` is `name`; undefined when none.
YAML::Node named(const YAML::Node& seq, const std::string& name);
/// The keys of a map, in order; empty when no map.
std::vector<std::string> map_keys(const YAML::Node& map);

// ---- hubsync config check -------------------------------------------------

/// `hubsync config check` with only `env` (NAME=value; and PATH, and the
/// sanitizers' options of a sanitizer build) in its environment.
CommandOutput config_check(const std::filesystem::path& config, const std::vector<std::string>& env);
/// Expects a check that passed, warned about no inline secret and showed
/// none of `secrets`.
void expect_clean_check(const CommandOutput& r, const std::vector<std::string>& secrets);

}  // namespace hubsync::test
