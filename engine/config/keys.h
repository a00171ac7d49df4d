#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace hubsync::config {

enum class KeyType { value, secret };

/// One configuration key: where it lives and how a text value is applied.
/// A secret key K is also assignable as K_env (names a variable) and K_file.
struct KeyDesc {
  const char* section;
  const char* key;
  KeyType type;
  /// Parses and stores a value; returns an error message on bad input.
  std::function<std::optional<std::string>(Config&, const std::string&)> set;
  /// For secrets: the Secret field to fill.
  std::function<Secret&(Config&)> secret;
};

const std::vector<KeyDesc>& key_table();
const std::vector<std::string>& sections();
/// Every key name a section accepts, secrets with their _env/_file forms.
std::vector<std::string> assignable_keys(const std::string& section);
/// The secret whose key, K_env or K_file form `key` is; nullptr otherwise.
const KeyDesc* find_secret_base(const std::string& section, const std::string& key);

}  // namespace hubsync::config
