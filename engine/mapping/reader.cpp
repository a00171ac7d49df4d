#include "engine/mapping/reader.h"

#include "engine/model/suggest.h"

namespace hubsync::mapping::detail {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

SourceMark Reader::mark(const YAML::Node& node) const {
  SourceMark m{file_, 0, 0};
  if (!node.IsDefined()) return m;
  YAML::Mark ym = node.Mark();
  if (ym.is_null()) return m;
  m.line = ym.line + 1;
  m.column = ym.column + 1;
  return m;
}

void Reader::error(const SourceMark& at, std::string message) {
  findings_.push_back(Finding{Severity::error, at, std::move(message)});
}

void Reader::warning(const SourceMark& at, std::string message) {
  findings_.push_back(Finding{Severity::warning, at, std::move(message)});
}

std::string Reader::hint(const std::string& word, const std::vector<std::string>& names) {
  std::string best = model::closest_match(word, names);
  if (best.empty()) {
    // camelCase spellings of our snake_case keys (fieldType, hasUniqueValue).
    std::string snake;
    for (char c : word) {
      if (c >= 'A' && c <= 'Z') {
        snake += '_';
        snake += static_cast<char>(c - 'A' + 'a');
      } else {
        snake += c;
      }
    }
    if (snake != word) best = model::closest_match(snake, names);
  }
  return best.empty() ? std::string() : " (did you mean `" + best + "`?)";
}

std::map<std::string, Entry> Reader::entries(const YAML::Node& node, const std::string& context,
                                             const std::vector<std::string>& allowed) {
  std::map<std::string, Entry> out;
  if (!node.IsMap()) {
    error(node, context + " must be a mapping of keys (" + join(allowed) + ")");
    return out;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, "a key in " + context + " must be a plain name");
      continue;
    }
    const std::string name = key.Scalar();
    bool known = false;
    for (const auto& a : allowed) known = known || a == name;
    if (!known) {
      error(key, "unknown key `" + name + "` in " + context + hint(name, allowed) +
                     "; expected one of: " + join(allowed));
      continue;
    }
    if (auto first = out.find(name); first != out.end()) {
      error(key, "duplicate key `" + name + "` in " + context + " (first at line " +
                     std::to_string(first->second.key.Mark().line + 1) + ")");
      continue;
    }
    out.emplace(name, Entry{key, it->second});
  }
  return out;
}

std::optional<std::string> Reader::scalar(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) {
    error(node, what + " must be a single value" + (node.IsNull() ? " (it is empty)" : ""));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::vector<std::string>> Reader::scalar_list(const YAML::Node& node,
                                                            const std::string& what) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) {
    error(node, what + " must be a name or a list of names");
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      error(item, "each item of " + what + " must be a single name");
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> Reader::one_of(const YAML::Node& node, const std::string& what,
                                          const std::vector<std::string>& names) {
  auto s = scalar(node, what);
  if (!s) return std::nullopt;
  for (const auto& n : names)
    if (n == *s) return s;
  error(node, "unknown " + what + " `" + *s + "`" + hint(*s, names) + "; expected one of: " +
                  join(names));
  return std::nullopt;
}

std::optional<bool> Reader::boolean(const YAML::Node& node, const std::string& what) {
  auto s = scalar(node, what);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes") return true;
  if (*s == "false" || *s == "no") return false;
  error(node, what + " must be true or false, not `" + *s + "`");
  return std::nullopt;
}

}  // namespace hubsync::mapping::detail
