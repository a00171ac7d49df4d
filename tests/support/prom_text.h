#pragma once

// A strict parser of the Prometheus text exposition format 0.0.4, for tests
// of /metrics: every line is `# HELP`, `# TYPE`, another comment, or a sample
// `name{label="value",...} value [timestamp]`; names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*, label values
// use only the escapes \\ \" \n; a family's TYPE comes before its samples,
// its samples form one group, no sample repeats, and a histogram's buckets
// are cumulative with +Inf equal to _count. Header-only.
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hubsync::test {

struct PromSample {
  std::string name;  ///< as written (e.g. x_bucket)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string help;
  std::string type;  ///< counter | gauge | histogram | summary | untyped
  std::vector<PromSample> samples;
};

struct PromText {
  std::string error;  ///< empty when the text is valid
  std::map<std::string, PromFamily> families;

  bool ok() const { return error.empty(); }
  /// The value of the sample `name` with exactly these labels, if present.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& [_, f] : families)
      for (const auto& s : f.samples)
        if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
};

namespace prom_detail {

inline bool metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool a = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!(a || (i > 0 && c >= '0' && c <= '9'))) return false;
  }
  return true;
}

inline bool label_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool a = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!(a || (i > 0 && c >= '0' && c <= '9'))) return false;
  }
  return true;
}

inline std::optional<double> number(std::string_view s) {
  if (s == "+Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  if (s == "NaN") return std::nan("");
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return std::nullopt;
  std::string t(s);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

// Unescapes HELP text (only \\ and \n are allowed).
inline std::optional<std::string> unescape(std::string_view s, bool allow_quote) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    if (s[i] == '\\') out += '\\';
    else if (s[i] == 'n') out += '\n';
    else if (s[i] == '"' && allow_quote) out += '"';
    else return std::nullopt;
  }
  return out;
}

// The family a sample name belongs to, given the declared types.
inline std::string family_of(const std::string& sample, const std::map<std::string, PromFamily>& fams) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string_view sv(sample), suf(suffix);
    if (sv.size() > suf.size() && sv.substr(sv.size() - suf.size()) == suf) {
      std::string base(sv.substr(0, sv.size() - suf.size()));
      auto it = fams.find(base);
      if (it != fams.end() && (it->second.type == "histogram" || it->second.type == "summary") &&
          !(suf == "_bucket" && it->second.type == "summary"))
        return base;
    }
  }
  return sample;
}

}  // namespace prom_detail

/// Parses `text` strictly; PromText::error names the first offending line.
inline PromText parse_prometheus_text(std::string_view text) {
  using namespace prom_detail;
  PromText r;
  if (!text.empty() && text.back() != '\n') {
    r.error = "text does not end with a newline";
    return r;
  }
  std::set<std::string> finished;  // families whose sample group ended
  std::string current;             // family of the previous sample
  std::set<std::string> seen_samples;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  auto fail = [&](const std::string& why, std::string_view line) {
    r.error = "line " + std::to_string(line_no) + ": " + why + ": " + std::string(line);
  };
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line.empty()) return fail("empty line", line), r;
    if (line[0] == '#') {
      std::string_view rest = line.substr(1);
      bool help = rest.rfind(" HELP ", 0) == 0, type = rest.rfind(" TYPE ", 0) == 0;
      if (!help && !type) continue;  // a plain comment
      rest = rest.substr(6);
      auto sp = rest.find(' ');
      std::string name(rest.substr(0, sp));
      if (!metric_name(name)) return fail("bad metric name in comment", line), r;
      if (sp == std::string_view::npos) return fail("HELP/TYPE without text", line), r;
      std::string_view arg = rest.substr(sp + 1);
      auto& fam = r.families[name];
      fam.name = name;
      if (help) {
        if (!fam.help.empty()) return fail("second HELP", line), r;
        auto h = unescape(arg, false);
        if (!h) return fail("bad escape in HELP", line), r;
        fam.help = h->empty() ? " " : *h;
      } else {
        if (!fam.type.empty()) return fail("second TYPE", line), r;
        if (!fam.samples.empty()) return fail("TYPE after samples", line), r;
        if (arg != "counter" && arg != "gauge" && arg != "histogram" && arg != "summary" &&
            arg != "untyped")
          return fail("unknown type", line), r;
        fam.type = std::string(arg);
      }
      continue;
    }
    // A sample.
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    std::string name(line.substr(0, i));
    if (!metric_name(name)) return fail("bad metric name", line), r;
    PromSample s;
    s.name = name;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) return fail("label without =", line), r;
        std::string lname(line.substr(i, eq - i));
        if (!label_name(lname)) return fail("bad label name", line), r;
        if (eq + 1 >= line.size() || line[eq + 1] != '"') return fail("label value not quoted", line), r;
        std::size_t j = eq + 2;
        std::string raw;
        while (j < line.size() && line[j] != '"') {
          if (line[j] == '\\' && j + 1 < line.size()) raw += line[j++];
          raw += line[j++];
        }
        if (j >= line.size()) return fail("unterminated label value", line), r;
        auto v = unescape(raw, true);
        if (!v) return fail("bad escape in label value", line), r;
        if (!s.labels.emplace(lname, *v).second) return fail("label repeated", line), r;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
        else if (i < line.size() && line[i] == '}') continue;
        else return fail("expected , or } after a label", line), r;
      }
    }
    if (i >= line.size() || line[i] != ' ') return fail("no space before the value", line), r;
    std::string_view rest = line.substr(i + 1);
    auto sp = rest.find(' ');
    auto v = number(rest.substr(0, sp));
    if (!v) return fail("bad value", line), r;
    if (sp != std::string_view::npos) {
      std::string_view ts = rest.substr(sp + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos)
        return fail("bad timestamp", line), r;
    }
    s.value = *v;
    std::string fam_name = family_of(name, r.families);
    auto it = r.families.find(fam_name);
    if (it == r.families.end() || it->second.type.empty())
      return fail("sample before its family's TYPE", line), r;
    if (fam_name != current) {
      if (finished.count(fam_name)) return fail("family's samples are not one group", line), r;
      if (!current.empty()) finished.insert(current);
      current = fam_name;
    }
    std::string key = name;
    for (const auto& [k, lv] : s.labels) key += "\x1f" + k + "=" + lv;
    if (!seen_samples.insert(key).second) return fail("sample repeated", line), r;
    if (it->second.type == "histogram" && name == fam_name + "_bucket" && !s.labels.count("le"))
      return fail("bucket without le", line), r;
    it->second.samples.push_back(std::move(s));
  }
  // Histograms: buckets cumulative per label set, +Inf == _count.
  for (const auto& [fname, f] : r.families) {
    if (f.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    for (const auto& s : f.samples) {
      auto labels = s.labels;
      if (s.name == fname + "_bucket") {
        auto le = number(labels["le"]);
        if (!le) return r.error = "histogram " + fname + ": bad le", r;
        labels.erase("le");
        buckets[labels].emplace_back(*le, s.value);
      } else if (s.name == fname + "_count") {
        counts[labels] = s.value;
      }
    }
    for (const auto& [labels, bs] : buckets) {
      for (std::size_t k = 1; k < bs.size(); ++k)
        if (bs[k].first <= bs[k - 1].first || bs[k].second < bs[k - 1].second)
          return r.error = "histogram " + fname + ": buckets not ascending and cumulative", r;
      if (bs.empty() || !std::isinf(bs.back().first))
        return r.error = "histogram " + fname + ": no +Inf bucket", r;
      if (!counts.count(labels) || counts[labels] != bs.back().second)
        return r.error = "histogram " + fname + ": +Inf bucket differs from _count", r;
    }
  }
  return r;
}

}  // namespace hubsync::test
