#include "tests/deploy/deploy_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace hubsync::test {

namespace fs = std::filesystem;

// ---- paths ----------------------------------------------------------------

const fs::path kSource{HUBSYNC_SOURCE_DIR};
const fs::path kDeploy = kSource / "deploy";
const fs::path kKube = kDeploy / "kubernetes";
const fs::path kSystemd = kDeploy / "systemd";
const std::string kBin{HUBSYNC_BIN};
const std::string kConfigPath = "/etc/hubsync/hubsync.yaml";
const std::string kInstalledBin = "/usr/local/bin/hubsync";

// ---- files and text -------------------------------------------------------

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

void write_yaml(const fs::path& p, const YAML::Node& n) {
  std::ofstream out(p, std::ios::trunc);
  out << n << '\n';
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int to_int(const std::string& s) {
  int v = -1;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : -1;
}

int port_of(const std::string& address) {
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? -1 : to_int(address.substr(colon + 1));
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "hubsync-deploy.XXXXXX").string();
  if (char* p = mkdtemp(tmpl.data())) path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

// ---- YAML -----------------------------------------------------------------

YAML::Node undefined() { return YAML::Node(YAML::NodeType::Undefined); }

YAML::Node at(const YAML::Node& n, const std::vector<std::string>& path, std::size_t i) {
  if (i == path.size()) return n;
  if (!n.IsMap() || !n[path[i]]) return undefined();
  return at(n[path[i]], path, i + 1);
}

std::string scalar(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : ""; }

std::vector<std::string> strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  if (seq.IsSequence())
    for (const auto& item : seq) out.push_back(scalar(item));
  return out;
}

YAML::Node first(const YAML::Node& seq) {
  return seq.IsSequence() && seq.size() > 0 ? seq[0] : undefined();
}

YAML::Node named(const YAML::Node& seq, const std::string& name) {
  if (seq.IsSequence())
    for (const auto& item : seq)
      if (scalar(at(item, {"name"})) == name) return item;
  return undefined();
}

std::vector<std::string> map_keys(const YAML::Node& map) {
  std::vector<std::string> out;
  if (map.IsMap())
    for (const auto& kv : map) out.push_back(kv.first.as<std::string>());
  return out;
}

// ---- hubsync config check -------------------------------------------------

CommandOutput config_check(const fs::path& config, const std::vector<std::string>& env) {
  std::string cmd = "env -i PATH=/usr/bin:/bin";
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) cmd += " " + shell_quote(std::string(name) + "=" + v);
  for (const auto& e : env) cmd += " " + shell_quote(e);
  return run_command(cmd + " " + shell_quote(kBin) + " config check --config " +
                     shell_quote(config.string()));
}

void expect_clean_check(const CommandOutput& r, const std::vector<std::string>& secrets) {
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "# ok")) << r.out;
  EXPECT_FALSE(contains(r.out, "secret written in the config file")) << r.out;
  for (const auto& s : secrets) EXPECT_FALSE(contains(r.out, s)) << "secret shown: " << s << "\n" << r.out;
}

}  // namespace hubsync::test
