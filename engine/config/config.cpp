#include "engine/config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <regex>
#include <sstream>
#include <tuple>

#include <yaml-cpp/yaml.h>

#include "engine/config/keys.h"
#include "engine/config/urls.h"
#include "engine/model/suggest.h"

namespace hubsync::config {

namespace fs = std::filesystem;

std::string ConfigIssue::format() const {
  std::ostringstream out;
  out << (file.empty() ? "<config>" : file);
  if (line > 0) out << ':' << line << ':' << column;
  out << ": " << (severity == Severity::error ? "error" : "warning") << ": ";
  if (!key.empty()) out << key << ": ";
  out << message;
  return out.str();
}

bool LoadResult::ok() const {
  return std::none_of(issues.begin(), issues.end(),
                      [](const ConfigIssue& i) { return i.severity == Severity::error; });
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::int64_t default_daily_limit(int tier) {
  switch (tier) {
    case 100: return 250'000;
    case 110: return 250'000;
    case 190: return 625'000;
    case 250: return 1'000'000;
    default: return 250'000;
  }
}

namespace {

// A key name as an error may quote it: a mangled line ("token:'pat-…'"
// without a space after the colon) makes the value part of the key, so
// only what comes before the first separator is shown.
std::string shown_name(const std::string& key) {
  const auto cut = key.find_first_of(":= \t'\"#");
  if (cut == std::string::npos && key.size() <= 48) return key;
  return key.substr(0, std::min<std::size_t>(cut, 48)) + "…";
}

// The key an unknown `section.key` most likely meant: a near spelling in the
// same section, else the same or a near key in another section
// (`hubspot.tier` -> `rate_limit.tier`), named in full.
std::string key_hint(const std::string& section, const std::string& key, const std::vector<std::string>& names) {
  if (auto near = model::closest_match(key, names); !near.empty()) return near;
  std::vector<std::string> elsewhere;
  for (const auto& other : sections()) {
    if (other == section) continue;
    for (const auto& k : assignable_keys(other)) {
      if (k == key) return other + "." + k;
      elsewhere.push_back(other + "." + k);
    }
  }
  std::vector<std::string> bare;
  for (const auto& full : elsewhere) bare.push_back(full.substr(full.find('.') + 1));
  const auto near = model::closest_match(key, bare);
  if (near.empty()) return "";
  for (const auto& full : elsewhere)
    if (full.substr(full.find('.') + 1) == near) return full;
  return "";
}

// One raw assignment of a key, from the file or the environment.
struct Assignment {
  std::string value;
  int line = 0;
  int column = 0;
  std::string origin;  // "file" or "env NAME"
};

std::string env_name(const std::string& section, const std::string& key) {
  std::string out = "HUBSYNC_" + section + "_" + key;
  for (auto& c : out) c = static_cast<char>(c == '.' ? '_' : std::toupper(static_cast<unsigned char>(c)));
  return out;
}

class Loader {
 public:
  Loader(std::string path, const EnvLookup& env, std::vector<std::string> env_names)
      : path_(std::move(path)), env_(env), env_names_(std::move(env_names)) {}

  LoadResult run() {
    result_.config.file = path_;
    read_file();
    // Nothing else is worth saying about a file that does not read: every
    // "required" that would follow is a consequence, listed before the cause.
    if (unreadable_) {
      scrub_secrets();
      return std::move(result_);
    }
    warn_unknown_overrides();
    read_env_overrides();
    apply();
    cross_check();
    scrub_secrets();
    std::stable_sort(result_.issues.begin(), result_.issues.end(),
                     [](const ConfigIssue& a, const ConfigIssue& b) {
                       return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    return std::move(result_);
  }

 private:
  bool unreadable_ = false;  ///< not found, or not YAML
  // A malformed file can make a secret part of another key's value (an
  // unclosed quote swallows the lines after it) that a message then quotes
  // back. Whatever the file's structure, text written after a secret key
  // (`token: ...`, also in flow mappings) is masked in every message.
  void scrub_secrets() {
    std::error_code ec;
    if (!fs::is_regular_file(path_, ec)) return;  // nothing read from it, nothing to scrub
    std::ifstream in(path_, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    static const std::regex pattern = [] {
      std::string names;
      for (const auto& k : key_table())
        if (k.type == KeyType::secret) names += (names.empty() ? "" : "|") + std::string(k.key);
      return std::regex("\\b(?:" + names + ")[ \\t]*:[ \\t]*(?:'([^'\\n]*)'?|\"([^\"\\n]*)\"?|([^\\s,}#]+))");
    }();
    std::vector<std::string> values;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern); it != std::sregex_iterator(); ++it)
      for (int g = 1; g <= 3; ++g)
        if ((*it)[g].matched && (*it)[g].length() >= 4) values.push_back((*it)[g].str());
    for (auto& i : result_.issues)
      for (const auto& v : values)
        for (auto at = i.message.find(v); at != std::string::npos; at = i.message.find(v, at + 4))
          i.message.replace(at, v.size(), "****");
  }

  void issue(const std::string& key, const std::string& message, int line = 0, int col = 0,
             Severity sev = Severity::error) {
    result_.issues.push_back({sev, path_, line, col, key, message});
  }

  void read_file() {
    std::error_code ec;
    if (!fs::exists(path_, ec)) {
      issue("", "config file not found");
      unreadable_ = true;
      return;
    }
    if (fs::is_directory(path_, ec)) {
      issue("", "is a directory, not a config file");
      unreadable_ = true;
      return;
    }
    YAML::Node root;
    try {
      root = YAML::LoadFile(path_);
    } catch (const YAML::Exception& e) {
      issue("", "invalid YAML: " + e.msg, e.mark.line + 1, e.mark.column + 1);
      unreadable_ = true;
      return;
    }
    if (root.IsNull()) return;
    if (!root.IsMap()) {
      issue("", "the top level must be a mapping of sections", root.Mark().line + 1,
            root.Mark().column + 1);
      return;
    }
    std::vector<std::string> section_names;
    for (const auto& s : sections()) section_names.push_back(s);
    for (const auto& entry : root) {
      const auto section = entry.first.as<std::string>("");
      const auto& mark = entry.first.Mark();
      if (std::find(section_names.begin(), section_names.end(), section) == section_names.end()) {
        std::string hint = model::closest_match(section, section_names);
        issue(shown_name(section), "unknown section" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
              mark.line + 1, mark.column + 1);
        continue;
      }
      // YAML keeps both of a key given twice and lookups see the first:
      // either way one of the two values would be dropped in silence.
      if (auto first = section_marks_.find(section); first != section_marks_.end()) {
        issue(section, "section given twice (first at line " + std::to_string(first->second.first) +
                           "): merge them into one", mark.line + 1, mark.column + 1);
        continue;
      }
      section_marks_[section] = {mark.line + 1, mark.column + 1};
      if (entry.second.IsNull()) continue;
      if (!entry.second.IsMap()) {
        issue(section, "must be a mapping of keys", entry.second.Mark().line + 1,
              entry.second.Mark().column + 1);
        continue;
      }
      auto names = assignable_keys(section);
      for (const auto& kv : entry.second) {
        const auto key = kv.first.as<std::string>("");
        const auto& km = kv.first.Mark();
        const std::string full = section + "." + key;
        if (std::find(names.begin(), names.end(), key) == names.end()) {
          std::string hint = key_hint(section, key, names);
          issue(section + "." + shown_name(key), "unknown key" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"),
                km.line + 1, km.column + 1);
          continue;
        }
        if (auto first = raw_.find(full); first != raw_.end()) {
          issue(full, "set twice (first at line " + std::to_string(first->second.line) + "): keep one",
                km.line + 1, km.column + 1);
          continue;
        }
        if (!kv.second.IsScalar()) {
          issue(full, "must be a single value", kv.second.Mark().line + 1,
                kv.second.Mark().column + 1);
          continue;
        }
        raw_[full] = {kv.second.Scalar(), kv.second.Mark().line + 1, kv.second.Mark().column + 1,
                      "file"};
      }
    }
  }

  void warn_unknown_overrides() {
    std::set<std::string> known, own;
    for (const auto& section : sections())
      for (const auto& key : assignable_keys(section)) known.insert(env_name(section, key));
    for (const auto& [key, raw] : raw_)
      if (key.size() > 4 && key.compare(key.size() - 4, 4, "_env") == 0) own.insert(raw.value);
    for (const auto& name : env_names_) {
      if (name.rfind("HUBSYNC_", 0) != 0 || known.count(name) || own.count(name)) continue;
      for (const auto& section : sections()) {
        const std::string prefix = env_name(section, "");
        if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) continue;
        std::vector<std::string> candidates;
        for (const auto& key : assignable_keys(section)) candidates.push_back(env_name(section, key));
        const std::string hint = model::closest_match(name, candidates);
        issue(name, "not a setting: the environment override is ignored" +
                        (hint.empty() ? std::string() : " (did you mean " + hint + "?)"),
              0, 0, Severity::warning);
        break;
      }
    }
  }

  void read_env_overrides() {
    for (const auto& section : sections()) {
      for (const auto& key : assignable_keys(section)) {
        const std::string name = env_name(section, key);
        auto v = env_(name);
        if (!v) continue;
        const std::string full = section + "." + key;
        // An env override of any form of a secret replaces every form the
        // file gave, so `token_env:` in the file and HUBSYNC_HUBSPOT_TOKEN
        // in the environment do not collide.
        if (const KeyDesc* d = find_secret_base(section, key)) {
          for (const char* suffix : {"", "_env", "_file"})
            raw_.erase(section + "." + d->key + suffix);
        }
        raw_[full] = {*v, 0, 0, "env " + name};
      }
    }
  }

  void apply() {
    for (const auto& d : key_table()) {
      const std::string base = std::string(d.section) + "." + d.key;
      if (d.type == KeyType::secret) {
        apply_secret(d, base);
        continue;
      }
      auto it = raw_.find(base);
      if (it == raw_.end()) continue;
      if (auto err = d.set(result_.config, it->second.value))
        issue(base, *err + where(it->second), it->second.line, it->second.column);
    }
  }

  void apply_secret(const KeyDesc& d, const std::string& base) {
    const Assignment* forms[3] = {nullptr, nullptr, nullptr};
    const char* suffixes[3] = {"", "_env", "_file"};
    int n = 0;
    for (int i = 0; i < 3; ++i) {
      auto it = raw_.find(base + suffixes[i]);
      if (it != raw_.end()) {
        forms[i] = &it->second;
        ++n;
      }
    }
    if (n == 0) return;
    Secret& secret = d.secret(result_.config);
    if (n > 1) {
      const Assignment* at = forms[0] ? forms[0] : forms[1] ? forms[1] : forms[2];
      issue(base, "set more than one way (" + base + ", " + base + "_env, " + base +
                      "_file): keep one", at->line, at->column);
      return;
    }
    if (forms[0]) {
      secret.value = forms[0]->value;
      secret.source = forms[0]->origin == "file" ? "config file" : forms[0]->origin;
      if (forms[0]->origin == "file") inline_secrets_.push_back(base);
    } else if (forms[1]) {
      const std::string& var = forms[1]->value;
      auto v = env_(var);
      if (!v || v->empty()) {
        // Set but empty is what a secret store that failed to inject leaves.
        issue(base + "_env", "environment variable " + var + (v ? " is set but empty" : " is not set") +
                                 where(*forms[1]),
              forms[1]->line, forms[1]->column);
        return;
      }
      secret.value = *v;
      secret.source = "env " + var;
    } else {
      std::string file = resolve_path(forms[2]->value);
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        issue(base + "_file", "cannot read secret file " + file + where(*forms[2]),
              forms[2]->line, forms[2]->column);
        return;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      std::string v = ss.str();
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
      if (v.empty()) {
        issue(base + "_file", "secret file " + file + " is empty", forms[2]->line,
              forms[2]->column);
        return;
      }
      secret.value = v;
      secret.source = "file " + file;
    }
  }

  static std::string where(const Assignment& a) {
    return a.origin == "file" ? "" : " (from " + a.origin + ")";
  }

  std::string resolve_path(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    fs::path dir = fs::path(path_).parent_path();
    return (dir / p).lexically_normal().string();
  }

  // The place of a key, or of whichever form (K, K_env, K_file) of a secret
  // was given, or of its section.
  std::pair<int, int> mark_of(const std::string& key) const {
    for (const char* suffix : {"", "_env", "_file"})
      if (auto it = raw_.find(key + suffix); it != raw_.end()) return {it->second.line, it->second.column};
    auto section = key.substr(0, key.find('.'));
    if (auto it = section_marks_.find(section); it != section_marks_.end()) return it->second;
    return {0, 0};
  }

  // True when some form of the key (K, K_env, K_file) was given: a problem
  // with it was reported already, "required" would only repeat it.
  bool given(const std::string& key) const {
    return raw_.count(key) || raw_.count(key + "_env") || raw_.count(key + "_file");
  }

  void require(bool ok, const std::string& key, const std::string& message) {
    if (ok || given(key)) return;
    auto [line, col] = mark_of(key);
    issue(key, message, line, col);
  }

  void cross_check() {
    Config& c = result_.config;
    c.state.path = resolve_path(c.state.path);
    c.mappings.dir = resolve_path(c.mappings.dir);
    if (c.rate_limit.daily_limit == 0) c.rate_limit.daily_limit = default_daily_limit(c.rate_limit.tier);

    require(c.postgres.dsn.set(), "postgres.dsn",
            "required: set postgres.dsn, postgres.dsn_env or postgres.dsn_file");
    if (c.hubspot.auth == AuthMode::private_app) {
      require(c.hubspot.token.set(), "hubspot.token",
              "required with auth: private_app: set hubspot.token_env or hubspot.token_file");
    } else {
      require(!c.hubspot.client_id.empty(), "hubspot.client_id", "required with auth: oauth");
      require(c.hubspot.client_secret.set(), "hubspot.client_secret",
              "required with auth: oauth: set hubspot.client_secret_env or _file");
    }
    check_dsn(c.postgres);
    check_transport(c.hubspot);
    if (c.serve.health_auth.set() && c.serve.health_auth.value.find(':') == std::string::npos)
      require(false, "serve.health_auth", "must be user:password (HTTP basic auth for the health page)");
    if (!c.webhook.public_url.empty() && !c.webhook.client_secret.set() &&
        !c.hubspot.client_secret.set()) {
      require(false, "webhook.client_secret",
              "required when webhook.public_url is set: events cannot be verified without it");
    }
    if (c.actions.path == c.webhook.path || c.actions.path.rfind(c.webhook.path + "/", 0) == 0) {
      auto [line, col] = mark_of("actions.path");
      issue("actions.path", "must differ from webhook.path and not lie under it", line, col);
    }
    if (!c.postgres.logical && !c.postgres.relay_stream) warn_unused("postgres.relay", "postgres.capture is trigger");
    if (c.postgres.logical && c.postgres.notify) warn_unused("postgres.notify", "postgres.capture is logical");
    for (const auto& key : inline_secrets_) {
      auto [line, col] = mark_of(key);
      result_.issues.push_back({Severity::warning, path_, line, col, key,
                                "secret written in the config file; prefer " + key + "_env or " +
                                    key + "_file"});
    }
  }

  // A key given that the rest of the configuration makes meaningless.
  void warn_unused(const std::string& key, const std::string& because) {
    auto [line, col] = mark_of(key);
    result_.issues.push_back({Severity::warning, path_, line, col, key, "has no effect: " + because});
  }

  // libpq would refuse an unreadable DSN, quoting it in its error: say what
  // is wrong here instead, without any of its text. Also notes where the
  // password comes from.
  void check_dsn(PostgresConfig& pg) {
    if (!pg.dsn.set()) return;
    const auto info = inspect_dsn(pg.dsn.value);
    if (!info.valid) {
      auto [line, col] = mark_of("postgres.dsn");
      issue("postgres.dsn", "not a valid libpq connection string: " + info.problem + " (not shown: it may hold the password)",
            line, col);
    }
    if (!info.passwords.empty()) {
      pg.password = {info.passwords.front(), "postgres.dsn"};
    } else if (auto v = env_("PGPASSWORD"); v && !v->empty()) {
      pg.password = {*v, "PGPASSWORD"};
    }
  }

  void check_transport(const HubSpotConfig& h) {
    if (insecure_http_in_use(h)) {
      if (!h.allow_insecure_http) {
        auto [line, col] = mark_of("hubspot.base_url");
        issue("hubspot.base_url",
              "plain http:// to a host that is not loopback would send the HubSpot token and CRM data "
              "unencrypted: use https://, or set hubspot.allow_insecure_http: true to accept that risk",
              line, col);
      } else {
        auto [line, col] = mark_of("hubspot.allow_insecure_http");
        issue("hubspot.allow_insecure_http",
              "hubspot.base_url is plain http:// to a host that is not loopback: the HubSpot token and "
              "CRM data travel unencrypted",
              line, col, Severity::warning);
      }
    }
    if (h.auth == AuthMode::oauth && !authorize_url(h)) {
      auto [line, col] = mark_of("hubspot.base_url");
      issue("hubspot.authorize_url",
            "required with auth: oauth when hubspot.base_url is neither a HubSpot API host "
            "(api.hubapi.com, api-<dc>.hubapi.com) nor loopback: the consent page cannot be derived",
            line, col);
    }
  }

  std::string path_;
  const EnvLookup& env_;
  LoadResult result_;
  std::map<std::string, Assignment> raw_;
  std::map<std::string, std::pair<int, int>> section_marks_;
  std::vector<std::string> env_names_;
  std::vector<std::string> inline_secrets_;
};

}  // namespace

LoadResult load_config(const std::string& path, const EnvLookup& env) { return Loader(path, env, {}).run(); }

LoadResult load_config(const std::string& path, const EnvLookup& env, const std::vector<std::string>& env_names) {
  return Loader(path, env, env_names).run();
}

std::vector<std::string> process_env_names() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    out.emplace_back(entry.substr(0, entry.find('=')));
  }
  return out;
}

}  // namespace hubsync::config
