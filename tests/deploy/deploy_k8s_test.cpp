// deploy/ for Kubernetes: the manifests (parsed with yaml-cpp, the fields
// that matter asserted), and the example config and the cluster's (the real
// `hubsync config check`, secrets from env and files). The shared helpers are
// in deploy_support.h.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/deploy/deploy_support.h"

namespace hubsync::test {
namespace {

namespace fs = std::filesystem;

// ---- secrets in configs ---------------------------------------------------

const std::set<std::string> kSecretKeys = {"postgres.dsn", "hubspot.token", "hubspot.client_secret",
                                           "hubspot.refresh_token", "webhook.client_secret", "serve.health_auth"};

struct Provided {
  std::vector<std::string> env;      // NAME=value, for env -i
  std::vector<std::string> secrets;  // every secret value handed to hubsync
};

// A recognisable secret for section.key (a DSN with it as the password for
// postgres); every value that must never be shown goes into `secrets`.
std::string secret_for(const std::string& section, const std::string& key,
                       std::vector<std::string>& secrets) {
  const std::string word = "s3cret-" + section + "-" + key + "-7f3a";
  secrets.push_back(word);
  if (section == "serve") return "ops:" + word;  // health_auth is user:password
  if (section != "postgres") return word;
  const std::string dsn = "host=db.example.internal dbname=app user=hubsync password=" + word;
  secrets.push_back(dsn);
  return dsn;
}

// Gives every *_env and *_file of `config` a value: a variable in the
// returned env, or a file in `dir` (the config is changed to name it).
Provided provide_secrets(YAML::Node& config, const fs::path& dir) {
  Provided p;
  for (auto section : config) {
    const std::string name = section.first.as<std::string>();
    for (auto kv : section.second) {
      const std::string key = kv.first.as<std::string>();
      if (key.ends_with("_env")) {
        p.env.push_back(kv.second.as<std::string>() + "=" + secret_for(name, key, p.secrets));
      } else if (key.ends_with("_file")) {
        const fs::path file = dir / fs::path(kv.second.as<std::string>()).filename();
        write_text(file, secret_for(name, key, p.secrets) + "\n");
        kv.second = file.string();
      }
    }
  }
  return p;
}

// No secret of a config is inline: each is a *_env or a *_file.
void expect_no_inline_secret(const YAML::Node& config, const std::string& what) {
  for (const auto& section : config)
    for (const auto& key : map_keys(section.second)) {
      const std::string full = section.first.as<std::string>() + "." + key;
      EXPECT_FALSE(kSecretKeys.count(full)) << what << ": " << full << " inline; use _env or _file";
    }
}

// The same, on the text (comments too): no `dsn:`/`token:`... with a value.
void expect_no_inline_secret_text(const std::string& text, const std::string& what) {
  const std::regex inline_secret(R"(^\s*#?\s*(dsn|token|client_secret|refresh_token)\s*:\s*\S)");
  for (const auto& line : lines_of(text))
    EXPECT_FALSE(std::regex_search(line, inline_secret)) << what << ": inline secret: " << line;
}

// ---- Kubernetes -----------------------------------------------------------

// The one object of a manifest file.
YAML::Node manifest(const std::string& file) {
  const auto docs = YAML::LoadAllFromFile((kKube / file).string());
  EXPECT_EQ(docs.size(), 1u) << file << ": one object per file";
  return docs.empty() ? undefined() : docs.front();
}

std::string kind(const YAML::Node& obj) { return scalar(at(obj, {"kind"})); }
std::string name_of(const YAML::Node& obj) { return scalar(at(obj, {"metadata", "name"})); }

// hubsync.yaml as the ConfigMap holds it.
YAML::Node cluster_config() {
  return YAML::Load(scalar(at(manifest("configmap.yaml"), {"data", "hubsync.yaml"})));
}

YAML::Node pod_spec(const YAML::Node& obj) {
  if (kind(obj) == "CronJob") return at(obj, {"spec", "jobTemplate", "spec", "template", "spec"});
  return at(obj, {"spec", "template", "spec"});
}

// The name of the pod volume whose `source.field` is `value` ("" if none).
std::string volume_from(const YAML::Node& spec, const std::string& source, const std::string& field,
                        const std::string& value) {
  const YAML::Node volumes = at(spec, {"volumes"});
  if (volumes.IsSequence())
    for (const auto& v : volumes)
      if (scalar(at(v, {source, field})) == value) return scalar(at(v, {"name"}));
  return "";
}

std::string mount_path(const YAML::Node& container, const std::string& volume) {
  return scalar(at(named(at(container, {"volumeMounts"}), volume), {"mountPath"}));
}

// A container's port given by number or by name; -1 when it has none such.
int resolve_port(const YAML::Node& container, const YAML::Node& port) {
  const std::string p = scalar(port);
  const YAML::Node ports = at(container, {"ports"});
  if (ports.IsSequence())
    for (const auto& cp : ports)
      if (scalar(at(cp, {"name"})) == p || scalar(at(cp, {"containerPort"})) == p)
        return to_int(scalar(at(cp, {"containerPort"})));
  return -1;
}

// File name -> Secret key of a secret volume (every key when it lists no items).
std::map<std::string, std::string> secret_volume_files(const YAML::Node& volume, const YAML::Node& secret) {
  std::map<std::string, std::string> out;
  const YAML::Node items = at(volume, {"secret", "items"});
  if (items.IsSequence()) {
    for (const auto& i : items) out[scalar(at(i, {"path"}))] = scalar(at(i, {"key"}));
    return out;
  }
  for (const auto& key : map_keys(at(secret, {"stringData"}))) out[key] = key;
  for (const auto& key : map_keys(at(secret, {"data"}))) out[key] = key;
  return out;
}

std::vector<std::string> secret_keys(const YAML::Node& secret) {
  auto keys = map_keys(at(secret, {"stringData"}));
  for (const auto& key : map_keys(at(secret, {"data"}))) keys.push_back(key);
  return keys;
}

void expect_non_root(const YAML::Node& spec) {
  EXPECT_EQ(scalar(at(spec, {"securityContext", "runAsNonRoot"})), "true");
  const std::string uid = scalar(at(spec, {"securityContext", "runAsUser"}));
  EXPECT_TRUE(!uid.empty() && uid != "0") << "runAsUser: '" << uid << "'";
  for (const char* list : {"initContainers", "containers"}) {
    const YAML::Node containers = at(spec, {list});
    if (!containers.IsSequence()) continue;
    for (const auto& c : containers)
      EXPECT_EQ(scalar(at(c, {"securityContext", "allowPrivilegeEscalation"})), "false")
          << scalar(at(c, {"name"}));
  }
}

// `hubsync migrate` runs first, with the same image, environment and mounts.
void expect_migrate_first(const YAML::Node& spec, const YAML::Node& main_c) {
  const YAML::Node init = first(at(spec, {"initContainers"}));
  ASSERT_TRUE(init.IsMap()) << "no initContainer";
  EXPECT_EQ(strings(at(init, {"args"})), std::vector<std::string>{"migrate"});
  for (const char* field : {"image", "env", "volumeMounts"})
    EXPECT_EQ(YAML::Dump(at(init, {field})), YAML::Dump(at(main_c, {field}))) << field;
}

// The PVC's volume is mounted where state.path lives.
void expect_state_volume(const YAML::Node& spec, const YAML::Node& main_c, const YAML::Node& config) {
  const std::string claim = name_of(manifest("pvc.yaml"));
  const std::string volume = volume_from(spec, "persistentVolumeClaim", "claimName", claim);
  ASSERT_FALSE(volume.empty()) << "no volume from PVC " << claim;
  const std::string state = scalar(at(config, {"state", "path"}));
  EXPECT_EQ(mount_path(main_c, volume), fs::path(state).parent_path().string()) << "state.path " << state;
}

// The ConfigMap gives kConfigPath, the mappings ConfigMap mappings.dir.
void expect_config_mounts(const YAML::Node& spec, const YAML::Node& main_c, const YAML::Node& config) {
  const std::string volume = volume_from(spec, "configMap", "name", name_of(manifest("configmap.yaml")));
  const YAML::Node mount = named(at(main_c, {"volumeMounts"}), volume);
  const std::string sub = scalar(at(mount, {"subPath"}));
  const std::string path = scalar(at(mount, {"mountPath"}));
  EXPECT_EQ(sub.empty() ? path + "/hubsync.yaml" : path, kConfigPath);
  if (!sub.empty()) {
    EXPECT_EQ(sub, "hubsync.yaml");
  }
  const fs::path dir = fs::path(kConfigPath).parent_path() / scalar(at(config, {"mappings", "dir"}));
  const std::string mappings = volume_from(spec, "configMap", "name", "hubsync-mappings");
  EXPECT_EQ(mount_path(main_c, mappings), dir.lexically_normal().string());
}

// The DSN's variable from a secretKeyRef; every *_file in the Secret's volume.
void expect_secrets(const YAML::Node& spec, const YAML::Node& main_c, const YAML::Node& config) {
  const YAML::Node secret = manifest("secret.example.yaml");
  const std::string dsn_env = scalar(at(config, {"postgres", "dsn_env"}));
  ASSERT_FALSE(dsn_env.empty()) << "postgres.dsn_env";
  const YAML::Node ref = at(named(at(main_c, {"env"}), dsn_env), {"valueFrom", "secretKeyRef"});
  EXPECT_EQ(scalar(at(ref, {"name"})), name_of(secret)) << dsn_env;
  EXPECT_TRUE(has(secret_keys(secret), scalar(at(ref, {"key"})))) << dsn_env;
  const std::string volume = volume_from(spec, "secret", "secretName", name_of(secret));
  const auto files = secret_volume_files(named(at(spec, {"volumes"}), volume), secret);
  for (const auto& section : config)
    for (const auto& key : map_keys(section.second)) {
      if (!key.ends_with("_file")) continue;
      const fs::path file = scalar(at(section.second, {key}));
      EXPECT_EQ(file.parent_path().string(), mount_path(main_c, volume)) << key;
      const auto it = files.find(file.filename().string());
      ASSERT_TRUE(it != files.end()) << key << ": " << file.string() << " not in the Secret's volume";
      EXPECT_TRUE(has(secret_keys(secret), it->second)) << it->second;
    }
}

// No container is handed a secret as a literal value.
void expect_no_literal_secret_env(const YAML::Node& spec) {
  const std::regex secretish("DSN|TOKEN|SECRET|PASSWORD");
  for (const char* list : {"initContainers", "containers"})
    for (const auto& c : at(spec, {list}))
      for (const auto& e : at(c, {"env"}))
        EXPECT_FALSE(std::regex_search(scalar(at(e, {"name"})), secretish) && at(e, {"value"}).IsDefined())
            << scalar(at(e, {"name"})) << " has a literal value";
}

// What every hubsync pod needs, serve or batch.
void expect_hubsync_pod(const YAML::Node& spec, const YAML::Node& config) {
  ASSERT_TRUE(at(spec, {"containers"}).IsSequence());
  EXPECT_EQ(at(spec, {"containers"}).size(), 1u);
  const YAML::Node main_c = first(at(spec, {"containers"}));
  expect_non_root(spec);
  expect_migrate_first(spec, main_c);
  expect_state_volume(spec, main_c, config);
  expect_config_mounts(spec, main_c, config);
  expect_secrets(spec, main_c, config);
  expect_no_literal_secret_env(spec);
}

void expect_probe(const YAML::Node& container, const std::string& probe, const std::string& path,
                  int port) {
  const YAML::Node get = at(container, {probe, "httpGet"});
  EXPECT_EQ(scalar(at(get, {"path"})), path) << probe;
  EXPECT_EQ(resolve_port(container, at(get, {"port"})), port) << probe;
}

TEST(DeployKubernetes, EveryManifestIsOneKnownObject) {
  const std::map<std::string, std::string> kinds = {
      {"configmap.yaml", "ConfigMap"},   {"secret.example.yaml", "Secret"},
      {"pvc.yaml", "PersistentVolumeClaim"}, {"deployment.yaml", "Deployment"},
      {"service.yaml", "Service"},       {"cronjob.yaml", "CronJob"}};
  std::set<std::string> seen;
  for (const auto& entry : fs::directory_iterator(kKube))
    if (entry.path().extension() == ".yaml") seen.insert(entry.path().filename().string());
  for (const auto& [file, expected] : kinds) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(seen.count(file)) << "missing";
    const YAML::Node obj = manifest(file);
    EXPECT_EQ(kind(obj), expected);
    EXPECT_FALSE(scalar(at(obj, {"apiVersion"})).empty());
    EXPECT_FALSE(name_of(obj).empty());
  }
  EXPECT_EQ(seen.size(), kinds.size()) << "a manifest this test does not check";
}

TEST(DeployKubernetes, ConfigMapHoldsACheckedConfigWithoutSecrets) {
  const YAML::Node cm = manifest("configmap.yaml");
  expect_no_inline_secret_text(scalar(at(cm, {"data", "hubsync.yaml"})), "configmap.yaml");
  YAML::Node config = cluster_config();
  expect_no_inline_secret(config, "configmap.yaml");
  // Probes come from the kubelet, not from inside the pod: not loopback.
  const std::string address = scalar(at(config, {"webhook", "listen"}));
  EXPECT_TRUE(address.starts_with("0.0.0.0:") || address.starts_with("[::]:")) << address;
  TempDir tmp;
  const Provided p = provide_secrets(config, tmp.path());
  write_yaml(tmp.path() / "hubsync.yaml", config);
  expect_clean_check(config_check(tmp.path() / "hubsync.yaml", p.env), p.secrets);
}

TEST(DeployKubernetes, DeploymentIsOneRecreatedReplicaWithProbes) {
  const YAML::Node d = manifest("deployment.yaml");
  const YAML::Node config = cluster_config();
  EXPECT_EQ(scalar(at(d, {"spec", "replicas"})), "1");
  EXPECT_EQ(scalar(at(d, {"spec", "strategy", "type"})), "Recreate");
  for (const auto& kv : at(d, {"spec", "selector", "matchLabels"}))
    EXPECT_EQ(scalar(at(d, {"spec", "template", "metadata", "labels", kv.first.as<std::string>()})),
              kv.second.as<std::string>());
  const YAML::Node spec = pod_spec(d);
  const YAML::Node serve = first(at(spec, {"containers"}));
  EXPECT_EQ(strings(at(serve, {"args"})), std::vector<std::string>{"serve"});
  const int port = port_of(scalar(at(config, {"webhook", "listen"})));
  expect_probe(serve, "livenessProbe", "/healthz", port);
  expect_probe(serve, "readinessProbe", "/readyz", port);
  expect_hubsync_pod(spec, config);
}

TEST(DeployKubernetes, CronJobRunsOnceAndNeverTwiceAtATime) {
  const YAML::Node cj = manifest("cronjob.yaml");
  EXPECT_EQ(scalar(at(cj, {"spec", "concurrencyPolicy"})), "Forbid");
  EXPECT_FALSE(scalar(at(cj, {"spec", "schedule"})).empty());
  const YAML::Node spec = pod_spec(cj);
  const std::string restart = scalar(at(spec, {"restartPolicy"}));
  EXPECT_TRUE(restart == "Never" || restart == "OnFailure") << restart;
  const std::vector<std::string> once = {"run", "--once"};
  EXPECT_EQ(strings(at(first(at(spec, {"containers"})), {"args"})), once);
  expect_hubsync_pod(spec, cluster_config());
}

TEST(DeployKubernetes, ServiceTargetsTheServePort) {
  const YAML::Node svc = manifest("service.yaml");
  const YAML::Node d = manifest("deployment.yaml");
  const YAML::Node serve = first(at(pod_spec(d), {"containers"}));
  const YAML::Node port = first(at(svc, {"spec", "ports"}));
  const int container_port = resolve_port(serve, at(port, {"targetPort"}));
  EXPECT_EQ(container_port, port_of(scalar(at(cluster_config(), {"webhook", "listen"}))));
  EXPECT_EQ(to_int(scalar(at(port, {"port"}))), container_port);
  const YAML::Node selector = at(svc, {"spec", "selector"});
  EXPECT_GT(map_keys(selector).size(), 0u);
  for (const auto& kv : selector)
    EXPECT_EQ(scalar(at(d, {"spec", "template", "metadata", "labels", kv.first.as<std::string>()})),
              kv.second.as<std::string>());
}

TEST(DeployKubernetes, StateClaimIsReadWriteOnce) {
  const YAML::Node pvc = manifest("pvc.yaml");
  EXPECT_TRUE(has(strings(at(pvc, {"spec", "accessModes"})), "ReadWriteOnce"));
  EXPECT_FALSE(scalar(at(pvc, {"spec", "resources", "requests", "storage"})).empty());
}

// ---- the example config ---------------------------------------------------

TEST(DeployConfig, ExampleTakesEverySecretFromEnvOrFile) {
  const fs::path example = kDeploy / "hubsync.example.yaml";
  expect_no_inline_secret_text(read_text(example), "hubsync.example.yaml");
  YAML::Node config = YAML::LoadFile(example.string());
  expect_no_inline_secret(config, "hubsync.example.yaml");
  TempDir tmp;
  const Provided p = provide_secrets(config, tmp.path());
  EXPECT_FALSE(p.env.empty()) << "no *_env secret";
  EXPECT_GE(p.secrets.size(), 4u) << "DSN (and its password), token, webhook secret";
  write_yaml(tmp.path() / "hubsync.yaml", config);
  expect_clean_check(config_check(tmp.path() / "hubsync.yaml", p.env), p.secrets);
}

}  // namespace
}  // namespace hubsync::test
