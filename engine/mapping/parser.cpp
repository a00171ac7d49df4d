#include "engine/mapping/parser.h"

#include <yaml-cpp/eventhandler.h>

#include <fstream>
#include <utility>
#include <sstream>

#include "engine/mapping/parse_parts.h"

namespace hubsync::mapping {

using detail::Entry;
using detail::Reader;
using model::Value;

namespace {

const std::vector<std::string> kTopKeys = {"name",    "postgres", "hubspot",      "direction",
                                           "conflict", "filter",  "deletes",      "max_deletes", "fields",
                                           "associations", "schema", "link", "actions"};
const std::vector<std::string> kFieldKeys = {"column", "columns",   "property", "properties",
                                             "type",   "direction", "conflict", "transform",
                                             "default"};

bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

// Parses `schema.table`, either part optionally "quoted" (keeps case and
// spaces, "" escapes a quote); unquoted parts fold to lower case.
std::optional<TableName> parse_table(const std::string& s, std::string& why) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (true) {
    std::string part;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            part += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        part += s[i++];
      }
      if (!closed) {
        why = "unterminated quoted identifier";
        return std::nullopt;
      }
    } else {
      while (i < s.size() && s[i] != '.') {
        char c = s[i++];
        if (c == '"' || c == ' ' || c == '\t') {
          why = "unquoted names cannot contain spaces or quotes; write \"My Table\" in quotes";
          return std::nullopt;
        }
        part += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      }
    }
    if (part.empty()) {
      why = "empty name";
      return std::nullopt;
    }
    parts.push_back(part);
    if (i == s.size()) break;
    if (s[i] != '.') {
      why = "expected '.' after a quoted name";
      return std::nullopt;
    }
    ++i;
  }
  if (parts.size() > 2) {
    why = "expected schema.table";
    return std::nullopt;
  }
  TableName t;
  if (parts.size() == 2) t.schema = parts[0];
  t.table = parts.back();
  return t;
}

ValueType kind_of(FieldType t) {
  switch (t) {
    case FieldType::integer: return ValueType::integer;
    case FieldType::decimal: return ValueType::decimal;
    case FieldType::boolean: return ValueType::boolean;
    case FieldType::date: return ValueType::date;
    case FieldType::datetime: return ValueType::datetime;
    case FieldType::multi_select: return ValueType::list;
    default: return ValueType::text;
  }
}

class MappingParser {
 public:
  explicit MappingParser(Reader& r) : r_(r) {}

  void parse(const YAML::Node& root) {
    auto top = r_.entries(root, "the mapping", kTopKeys);
    if (!root.IsMap()) return;
    m_.mark = SourceMark{r_.file(), 0, 0};
    if (auto it = top.find("name"); it != top.end()) {
      if (auto s = r_.scalar(it->second.value, "name")) {
        if (!is_name(*s))
          r_.error(it->second.value, "name `" + *s + "` must be lower-case letters, digits, '_' or '-'");
        m_.name = *s;
      }
    } else {
      r_.error(root, "missing `name`");
    }
    if (auto it = top.find("direction"); it != top.end())
      if (auto s = r_.one_of(it->second.value, "direction", direction_names()))
        m_.direction = *parse_direction(*s);
    if (auto it = top.find("conflict"); it != top.end())
      if (auto s = r_.one_of(it->second.value, "conflict policy", conflict_names()))
        m_.conflict = *parse_conflict(*s);
    if (auto it = top.find("postgres"); it != top.end())
      parse_postgres(it->second.value);
    else
      r_.error(root, "missing `postgres` (table and key)");

    if (auto it = top.find("link"); it != top.end()) {
      m_.kind = MappingKind::link;
      m_.link = detail::parse_link(r_, it->second.value);
      for (const char* k : {"hubspot", "fields", "associations", "schema", "filter", "deletes",
                            "max_deletes", "conflict", "actions"})
        if (auto other = top.find(k); other != top.end())
          r_.error(other->second.key, std::string("`") + k + "` does not apply to a link mapping");
      return;
    }
    if (auto it = top.find("hubspot"); it != top.end())
      parse_hubspot(it->second.value);
    else
      r_.error(root, "missing `hubspot` (object and match)");
    if (auto it = top.find("filter"); it != top.end()) parse_filter(it->second.value);
    if (auto it = top.find("deletes"); it != top.end()) parse_deletes(it->second.value);
    if (auto it = top.find("max_deletes"); it != top.end()) parse_max_deletes(it->second.value);
    if (auto it = top.find("fields"); it != top.end())
      parse_fields(it->second.value);
    else
      r_.error(root, "missing `fields`");
    if (auto it = top.find("associations"); it != top.end())
      detail::parse_associations(r_, it->second.value, m_);
    if (auto it = top.find("schema"); it != top.end()) m_.schema = detail::parse_schema(r_, it->second.value);
    if (auto it = top.find("actions"); it != top.end())
      detail::parse_actions(r_, it->second.value, m_, had_bad_field_);
  }

  Mapping& mapping() { return m_; }

 private:
  void parse_postgres(const YAML::Node& node) {
    auto e = r_.entries(node, "`postgres`", {"table", "key"});
    if (!node.IsMap()) return;
    if (auto it = e.find("table"); it != e.end()) {
      if (auto s = r_.scalar(it->second.value, "postgres.table")) {
        std::string why;
        m_.table_mark = r_.mark(it->second.value);
        if (auto t = parse_table(*s, why))
          m_.table = *t;
        else
          r_.error(it->second.value, "postgres.table `" + *s + "`: " + why);
      }
    } else {
      r_.error(node, "missing `table` in `postgres`");
    }
    if (auto it = e.find("key"); it != e.end()) {
      if (auto k = r_.scalar_list(it->second.value, "postgres.key")) {
        if (k->empty()) r_.error(it->second.value, "postgres.key needs at least one column");
        for (std::size_t i = 0; i < k->size(); ++i)
          for (std::size_t j = 0; j < i; ++j)
            if ((*k)[i] == (*k)[j])
              r_.error(it->second.value, "key column `" + (*k)[i] + "` is listed twice");
        m_.key = *k;
        m_.key_mark = r_.mark(it->second.value);
      }
    } else {
      r_.error(node, "missing `key` in `postgres` (the primary key column or columns)");
    }
  }

  void parse_hubspot(const YAML::Node& node) {
    auto e = r_.entries(node, "`hubspot`", {"object", "match"});
    if (!node.IsMap()) return;
    if (auto it = e.find("object"); it != e.end()) {
      if (auto s = r_.scalar(it->second.value, "hubspot.object")) {
        // One name per standard object (`0-1` is `contacts`): the email
        // rules and the checks of a set compare names.
        const std::string standard = standard_object_name(*s);
        m_.object.name = standard.empty() ? *s : standard;
        m_.object_mark = r_.mark(it->second.value);
        m_.object.object_type_id = standard_object_type_id(*s);
        if (m_.object.object_type_id.empty()) {
          m_.object.custom = true;
          bool id_form = s->size() > 2 && s->rfind("2-", 0) == 0 &&
                         s->find_first_not_of("0123456789", 2) == std::string::npos;
          if (id_form) {
            m_.object.object_type_id = *s;
          } else if (!is_name(*s) || s->rfind("0-", 0) == 0) {  // 0-<n>: HubSpot's ids of its own objects
            r_.error(it->second.value, "hubspot.object `" + *s +
                                           "` is neither a standard object (contacts, companies, "
                                           "deals, tickets, or by id 0-1, 0-2, 0-3, 0-5), a custom "
                                           "object name nor 2-<n>");
          } else {
            std::string near = Reader::hint(*s, {"contacts", "companies", "deals", "tickets"});
            if (!near.empty())
              r_.warning(r_.mark(it->second.value),
                         "hubspot.object `" + *s + "` is taken as a custom object" + near);
          }
        }
      }
    } else {
      r_.error(node, "missing `object` in `hubspot`");
    }
    if (auto it = e.find("match"); it != e.end()) {
      if (auto s = r_.scalar(it->second.value, "hubspot.match")) {
        m_.match_property = *s;
        m_.match_mark = r_.mark(it->second.value);
      }
    } else {
      r_.error(node, "missing `match` in `hubspot` (the unique property used for upserts, e.g. email)");
    }
  }

  void parse_filter(const YAML::Node& node) {
    if (node.IsScalar()) {
      set_pg_filter(node);
      return;
    }
    auto e = r_.entries(node, "`filter`", {"postgres", "hubspot", "leaving"});
    if (auto it = e.find("postgres"); it != e.end()) set_pg_filter(it->second.value);
    if (auto it = e.find("hubspot"); it != e.end()) detail::parse_hubspot_filters(r_, it->second.value, m_);
    if (auto it = e.find("leaving"); it != e.end()) {
      if (auto s = r_.one_of(it->second.value, "filter.leaving", {"archive", "keep"})) m_.keep_leaving = *s == "keep";
      if (e.find("postgres") == e.end())
        r_.error(it->second.key, "`filter.leaving` says what a row leaving filter.postgres does; there is none");
    }
  }

  void set_pg_filter(const YAML::Node& node) {
    auto s = r_.scalar(node, "filter.postgres");
    if (!s) return;
    m_.filter_mark = r_.mark(node);
    int depth = 0;
    bool quoted = false, bad = false;
    for (char c : *s) {
      if (c == '\'') quoted = !quoted;
      if (quoted) continue;
      if (c == '(') ++depth;
      if (c == ')' && --depth < 0) bad = true;
      if (c == ';') {
        r_.error(node, "filter.postgres must be one boolean expression (no ';')");
        return;
      }
    }
    if (s->find_first_not_of(" \t\n") == std::string::npos)
      r_.error(node, "filter.postgres is empty");
    else if (quoted || depth != 0 || bad)
      r_.error(node, "filter.postgres has unbalanced quotes or parentheses");
    m_.pg_filter = *s;
  }

  void parse_deletes(const YAML::Node& node) {
    const std::string usage = "; expected archive, ignore or {soft: {column: deleted_at}}";
    if (node.IsScalar()) {
      if (auto s = r_.one_of(node, "deletes policy", {"archive", "ignore", "soft"})) {
        if (*s == "archive") m_.deletes = DeletePolicy::archive;
        if (*s == "ignore") m_.deletes = DeletePolicy::ignore;
        if (*s == "soft") r_.error(node, "`deletes: soft` needs a column" + usage);
      }
      return;
    }
    auto e = r_.entries(node, "`deletes`", {"soft"});
    auto it = e.find("soft");
    if (it == e.end()) {
      if (node.IsMap() && e.empty()) r_.error(node, "`deletes` is empty" + usage);
      return;
    }
    m_.deletes = DeletePolicy::soft;
    const YAML::Node& v = it->second.value;
    std::optional<std::string> col;
    if (v.IsScalar()) {
      col = v.Scalar();
    } else {
      auto se = r_.entries(v, "`deletes.soft`", {"column"});
      if (auto c = se.find("column"); c != se.end())
        col = r_.scalar(c->second.value, "deletes.soft.column");
      else if (v.IsMap())
        r_.error(v, "missing `column` in `deletes.soft`");
    }
    if (col) m_.soft_delete_column = *col;
  }

  void parse_max_deletes(const YAML::Node& node) {
    auto s = r_.scalar(node, "max_deletes");
    if (!s) return;
    if (auto limit = parse_delete_limit(*s))
      m_.max_deletes = *limit;
    else
      r_.error(node, "`max_deletes: " + *s + "` is not a count (100), a percentage of the linked records "
                     "(10%, 1 to 100) or off");
  }

  void parse_fields(const YAML::Node& node) {
    if (!node.IsSequence()) {
      r_.error(node, "`fields` must be a list of {column, property, ...} entries");
      return;
    }
    if (node.size() == 0) r_.error(node, "`fields` is empty");
    for (const auto& item : node) parse_field(item);
  }

  void parse_field(const YAML::Node& node) {
    auto e = r_.entries(node, "a field", kFieldKeys);
    if (!node.IsMap()) {
      had_bad_field_ = true;
      return;
    }
    FieldMapping f;
    f.mark = r_.mark(node);
    f.direction = m_.direction;
    f.conflict = m_.conflict;
    bool ok = true;
    auto names = [&](const char* one, const char* many, std::vector<std::string>& out) {
      auto a = e.find(one), b = e.find(many);
      if (a != e.end() && b != e.end()) {
        r_.error(b->second.key, std::string("a field has either `") + one + "` or `" + many + "`, not both");
        ok = false;
      } else if (a != e.end()) {
        if (auto s = r_.scalar(a->second.value, one)) out.push_back(*s); else ok = false;
      } else if (b != e.end()) {
        if (auto l = r_.scalar_list(b->second.value, many)) {
          out = *l;
          if (out.size() < 2) {
            r_.error(b->second.value, std::string("`") + many + "` needs two or more names");
            ok = false;
          }
        } else {
          ok = false;
        }
      } else {
        r_.error(node, std::string("a field needs `") + one + "`");
        ok = false;
      }
      for (const auto& n : out)
        if (n.empty()) {
          r_.error(node, std::string("empty ") + one + " name");
          ok = false;
        }
    };
    names("column", "columns", f.columns);
    names("property", "properties", f.properties);
    if (ok && f.columns.size() > 1 && f.properties.size() > 1) {
      r_.error(node, "a field maps several columns to one property or one column to several "
                     "properties, not several to several");
      ok = false;
    }
    if (!ok) {
      had_bad_field_ = true;
      return;
    }
    for (const auto& c : f.columns) f.id += (f.id.empty() ? "" : "+") + c;
    if (auto it = e.find("type"); it != e.end()) {
      if (auto s = r_.one_of(it->second.value, "field type", field_type_names()))
        f.type = *parse_field_type(*s);
      else
        ok = false;
    }
    f.pg_kind = kind_of(f.type);
    f.hs_kind = f.pg_kind;
    if (auto it = e.find("direction"); it != e.end()) {
      if (auto s = r_.one_of(it->second.value, "direction", direction_names())) {
        Direction d = *parse_direction(*s);
        if (m_.direction != Direction::both && d != Direction::both && d != m_.direction) {
          r_.error(it->second.value, "field " + f.id + " is " + *s + " but the mapping is " +
                                         to_string(m_.direction) + ": it would never sync");
          ok = false;
        }
        f.direction = m_.direction == Direction::both ? d : m_.direction;
      } else {
        ok = false;
      }
    }
    if (auto it = e.find("conflict"); it != e.end()) {
      if (auto s = r_.one_of(it->second.value, "conflict policy", conflict_names()))
        f.conflict = *parse_conflict(*s);
      else
        ok = false;
    }
    if (auto it = e.find("transform"); it != e.end()) ok = detail::parse_transforms(r_, it->second.value, f) && ok;
    if (ok && (f.columns.size() > 1 || f.properties.size() > 1)) {
      if (f.separator.empty()) {
        r_.error(node, f.columns.size() > 1
                           ? "field " + f.id + " joins several columns: add `transform: join_name` or `{join: \" \"}`"
                           : "field " + f.id + " splits into several properties: add `transform: split_name` or `{split: \" \"}`");
        ok = false;
      }
      if (f.type != FieldType::text) {
        r_.error(node, "field " + f.id + ": split/join fields must be `type: text`");
        ok = false;
      }
    } else if (ok && !f.separator.empty()) {
      r_.error(node, "field " + f.id + ": split/join needs `properties: [...]` or `columns: [...]`");
      ok = false;
    }
    if (f.type == FieldType::enumeration && f.hs_kind != ValueType::text && ok) {
      r_.error(node, "field " + f.id + ": an enumeration must reach HubSpot as text");
      ok = false;
    }
    if (auto it = e.find("default"); it != e.end()) ok = detail::parse_default(r_, it->second.value, f) && ok;
    if (ok) m_.fields.push_back(std::move(f));
    else had_bad_field_ = true;
  }

  Reader& r_;
  Mapping m_;
  bool had_bad_field_ = false;

 public:
  bool had_bad_field() const { return had_bad_field_; }
};

// Notes where a document starts and whether it holds anything.
class DocumentScanner : public YAML::EventHandler {
 public:
  YAML::Mark start;
  bool content = false;
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    content = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { content = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {
    content = true;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    content = true;
  }
  void OnMapEnd() override {}
};

// Where a second non-empty YAML document starts, if there is one. Bounded on
// purpose: yaml-cpp 0.7's LoadAll loops forever on some malformed input
// (found by the fuzzer), so documents are walked a few at most.
std::optional<YAML::Mark> second_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentScanner scan;
  for (int i = 0; i < 4; ++i) {
    if (!parser.HandleNextDocument(scan)) return std::nullopt;
    if (i > 0 && scan.content) return scan.start;
  }
  return std::nullopt;
}

}  // namespace

namespace {
constexpr std::pair<const char*, const char*> kStandardObjects[] = {
    {"contacts", "0-1"}, {"companies", "0-2"}, {"deals", "0-3"}, {"tickets", "0-5"}};
}  // namespace

std::string standard_object_type_id(std::string_view name) {
  for (const auto& [n, id] : kStandardObjects)
    if (name == n || name == id) return id;
  return {};
}

std::string standard_object_name(std::string_view name) {
  for (const auto& [n, id] : kStandardObjects)
    if (name == n || name == id) return n;
  return {};
}

ParseResult parse_mapping(std::string_view yaml_text, const std::string& file) {
  Reader r(file);
  ParseResult out;
  YAML::Node root;
  std::optional<YAML::Mark> second;
  try {
    const std::string text(yaml_text);
    root = YAML::Load(text);
    second = second_document(text);
  } catch (const YAML::Exception& e) {
    SourceMark at{file, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    std::string msg = e.msg.empty() ? std::string("invalid YAML") : e.msg;
    out.findings.push_back(Finding{Severity::error, at, "YAML syntax: " + msg});
    return out;
  } catch (const std::exception& e) {
    out.findings.push_back(Finding{Severity::error, SourceMark{file, 0, 0},
                                   std::string("cannot read YAML: ") + e.what()});
    return out;
  }
  try {
    if (second)
      r.error(SourceMark{file, second->line + 1, second->column + 1},
              "a mapping file holds one mapping; this is a second YAML document");
    if (!root.IsDefined() || root.IsNull()) {
      r.error(SourceMark{file, 1, 1}, "the file is empty: a mapping needs name, postgres, hubspot and fields");
      out.findings = std::move(r.findings());
      return out;
    }
    MappingParser p(r);
    p.parse(root);
    Mapping& m = p.mapping();
    detail::check_mapping(r, m, p.had_bad_field());
    // HubSpot stores contacts' emails lower-cased: compare them so.
    for (auto& f : m.fields)
      f.fold_case = m.object.path() == "contacts" && f.properties == std::vector<std::string>{"email"};
    out.findings = std::move(r.findings());
    if (!has_errors(out.findings)) out.mapping = std::move(m);
  } catch (const std::exception& e) {
    // yaml-cpp may throw on conversions; report, never crash.
    out.findings = std::move(r.findings());
    out.findings.push_back(Finding{Severity::error, SourceMark{file, 0, 0},
                                   std::string("cannot read mapping: ") + e.what()});
    out.mapping.reset();
  }
  return out;
}

ParseResult load_mapping_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ParseResult out;
    out.findings.push_back(Finding{Severity::error, SourceMark{path, 0, 0}, "cannot open the file"});
    return out;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_mapping(ss.str(), path);
}

}  // namespace hubsync::mapping
