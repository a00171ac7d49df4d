#pragma once

// Internal to the mapping parser: walks yaml-cpp nodes and collects findings
// with their marks. Not part of the public API.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/mapping/types.h"

namespace hubsync::mapping::detail {

struct Entry {
  YAML::Node key;
  YAML::Node value;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  SourceMark mark(const YAML::Node& node) const;
  const std::string& file() const { return file_; }
  Findings& findings() { return findings_; }

  void error(const SourceMark& at, std::string message);
  void warning(const SourceMark& at, std::string message);
  void error(const YAML::Node& at, std::string message) { error(mark(at), std::move(message)); }

  /// The entries of a map node, keyed by name; reports a node that is not a
  /// map, non-scalar keys, duplicate keys and unknown keys (with a hint).
  std::map<std::string, Entry> entries(const YAML::Node& node, const std::string& context,
                                       const std::vector<std::string>& allowed);
  /// The scalar text of a node, or an error naming `what`.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& what);
  /// A scalar or a sequence of scalars, as a list.
  std::optional<std::vector<std::string>> scalar_list(const YAML::Node& node,
                                                      const std::string& what);
  /// One of `names`, with a did-you-mean hint when it is not.
  std::optional<std::string> one_of(const YAML::Node& node, const std::string& what,
                                    const std::vector<std::string>& names);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& what);

  /// " (did you mean `x`?)" or "".
  static std::string hint(const std::string& word, const std::vector<std::string>& names);

 private:
  std::string file_;
  Findings findings_;
};

}  // namespace hubsync::mapping::detail
