// The `actions:` block: workflow custom actions a mapping offers HubSpot
// (`hubsync actions apply` registers them, `hubsync serve` answers them).
#include <map>
#include <utility>

#include "engine/mapping/parse_parts.h"

namespace hubsync::mapping::detail {

namespace {

const std::vector<std::string> kActionKeys = {"name", "kind", "label", "description", "columns"};
const std::vector<std::string> kActionKinds = {"lookup", "write", "sync_now"};
constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxLabelLength = 100;
constexpr std::size_t kMaxDescriptionLength = 500;

bool is_action_name(const std::string& s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// HubSpot's limits count characters, not UTF-8 bytes.
std::size_t characters(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

ActionKind action_kind(const std::string& s) {
  if (s == "write") return ActionKind::write;
  if (s == "sync_now") return ActionKind::sync_now;
  return ActionKind::lookup;
}

std::string default_label(const Mapping& m, ActionKind kind) {
  switch (kind) {
    case ActionKind::lookup: return "Look up " + m.object.name + " in " + m.table.display();
    case ActionKind::write: return "Write to " + m.table.display();
    case ActionKind::sync_now: return "Sync " + m.object.name + " with " + m.table.display() + " now";
  }
  return {};
}

// Why a workflow may not set this field through a write action; empty if it may.
std::string why_not_writable(const Mapping& m, const FieldMapping& f) {
  if (!f.to_postgres())
    return "its direction is " + std::string(to_string(f.direction)) + ": hubsync never writes it to Postgres";
  if (&f == m.match_field())
    return "it carries the match property `" + m.match_property +
           "`: writing it would re-point the link to another HubSpot object";
  for (const auto& c : f.columns)
    for (const auto& k : m.key)
      if (c == k) return "`" + c + "` is a key column (postgres.key)";
  return {};
}

// How findings name an action: by its name once it has one.
std::string who(const ActionSpec& a) { return a.name.empty() ? "an action" : "action " + a.name; }

class ActionParser {
 public:
  ActionParser(Reader& r, const Mapping& m, bool partial) : r_(r), m_(m), partial_(partial) {
    for (const auto& f : m.fields) field_ids_.push_back(f.id);
  }

  std::optional<ActionSpec> parse(const YAML::Node& item) {
    auto e = r_.entries(item, "an action", kActionKeys);
    if (!item.IsMap()) return std::nullopt;
    ActionSpec a;
    a.mark = r_.mark(item);
    bool ok = parse_name(item, e, a);
    // Without a kind, the checks that depend on it are skipped, not guessed.
    const bool kind_known = parse_kind(item, e, a);
    ok = parse_texts(e, a, kind_known) && ok;
    ok = parse_columns(item, e, a, kind_known) && ok;
    if (!ok || !kind_known) return std::nullopt;
    return a;
  }

 private:
  bool parse_kind(const YAML::Node& item, const std::map<std::string, Entry>& e, ActionSpec& a) {
    auto it = e.find("kind");
    if (it == e.end()) {
      r_.error(item, who(a) + " needs `kind` (lookup, write or sync_now)");
      return false;
    }
    auto s = r_.one_of(it->second.value, "action kind", kActionKinds);
    if (s) a.kind = action_kind(*s);
    return s.has_value();
  }

  bool parse_name(const YAML::Node& item, const std::map<std::string, Entry>& e, ActionSpec& a) {
    auto it = e.find("name");
    if (it == e.end()) {
      r_.error(item, "an action needs `name` (e.g. " + m_.name + "_lookup; unique across all mappings)");
      return false;
    }
    const YAML::Node& node = it->second.value;
    auto s = r_.scalar(node, "action name");
    if (!s) return false;
    a.name = *s;
    if (s->size() > kMaxNameLength) {
      r_.error(node, "action name `" + *s + "` is " + std::to_string(s->size()) +
                         " characters; at most " + std::to_string(kMaxNameLength));
      return false;
    }
    if (!is_action_name(*s)) {
      r_.error(node, "action name `" + *s + "` must start with a lower-case letter and hold only "
                     "lower-case letters, digits and '_'");
      return false;
    }
    auto [prev, fresh] = seen_.emplace(*s, r_.mark(item));
    if (!fresh) {
      r_.error(node, "action name `" + *s + "` is already used by the action at line " +
                         std::to_string(prev->second.line));
      return false;
    }
    return true;
  }

  // label and description; the label defaults once the kind is known.
  bool parse_texts(const std::map<std::string, Entry>& e, ActionSpec& a, bool kind_known) {
    bool ok = true;
    auto text = [&](const char* key, std::size_t limit, std::string& out) {
      auto it = e.find(key);
      if (it == e.end()) return;
      const YAML::Node& node = it->second.value;
      auto s = r_.scalar(node, std::string("action ") + key);
      if (!s) {
        ok = false;
      } else if (characters(*s) > limit) {
        r_.error(node, who(a) + ": `" + key + "` is " + std::to_string(characters(*s)) +
                           " characters; HubSpot allows at most " + std::to_string(limit));
        ok = false;
      } else if (s->empty() && limit == kMaxLabelLength) {
        r_.error(node, who(a) + ": `label` is empty; leave it out for the default");
        ok = false;
      }
      if (s) out = *s;
    };
    text("label", kMaxLabelLength, a.label);
    text("description", kMaxDescriptionLength, a.description);
    if (e.find("label") == e.end() && kind_known) a.label = default_label(m_, a.kind);
    return ok;
  }

  bool parse_columns(const YAML::Node& item, const std::map<std::string, Entry>& e, ActionSpec& a,
                     bool kind_known) {
    auto it = e.find("columns");
    if (it == e.end()) {
      if (!kind_known || a.kind == ActionKind::sync_now) return true;
      r_.error(item, who(a) + " needs `columns`: the fields it " +
                         (a.kind == ActionKind::lookup ? "returns" : "sets"));
      return false;
    }
    if (kind_known && a.kind == ActionKind::sync_now) {
      r_.error(it->second.key, who(a) + ": a sync_now action takes no `columns`");
      return false;
    }
    const YAML::Node& node = it->second.value;
    std::vector<YAML::Node> items;
    if (node.IsScalar()) {
      items.push_back(node);
    } else if (node.IsSequence()) {
      for (const auto& c : node) items.push_back(c);
    } else {
      r_.error(node, who(a) + ": `columns` must be a list of field ids, e.g. [mrr_cents, stage]");
      return false;
    }
    if (items.empty()) {
      r_.error(node, who(a) + ": `columns` is empty; a " + to_string(a.kind) +
                         " action needs at least one field");
      return false;
    }
    bool ok = true;
    std::vector<std::string> listed;
    for (const auto& c : items) ok = parse_column(c, a, kind_known, listed) && ok;
    return ok;
  }

  bool parse_column(const YAML::Node& node, ActionSpec& a, bool kind_known,
                    std::vector<std::string>& listed) {
    auto s = r_.scalar(node, who(a) + ": each item of `columns`");
    if (!s) return false;
    for (const auto& prev : listed)
      if (prev == *s) {
        r_.error(node, who(a) + ": column `" + *s + "` is listed twice");
        return false;
      }
    listed.push_back(*s);
    const FieldMapping* f = m_.field(*s);
    if (!f) {
      // With a field that failed to parse, the id may be that field's.
      if (partial_) return false;
      if (const FieldMapping* part = m_.field_for_column(*s))
        r_.error(node, who(a) + ": `" + *s + "` is one column of field " + part->id + "; write `" +
                           part->id + "`");
      else
        r_.error(node, who(a) + ": `" + *s + "` is not a field of mapping " + m_.name +
                           Reader::hint(*s, field_ids_));
      return false;
    }
    if (kind_known && a.kind == ActionKind::write) {
      std::string why = why_not_writable(m_, *f);
      if (!why.empty()) {
        r_.error(node, who(a) + ": a workflow cannot write field " + f->id + " because " + why);
        return false;
      }
      // Pulled only: nothing takes the write to HubSpot, whose value stays
      // the field's source and comes back with its next change there.
      if (!f->to_hubspot())
        r_.warning(r_.mark(node), who(a) + ": field " + f->id + " is direction to_postgres: what a workflow writes "
                                  "stays in Postgres while HubSpot keeps its own value, and the next change of it "
                                  "in HubSpot overwrites the write; set the property in the workflow instead, or "
                                  "make the field direction both");
    }
    a.fields.push_back(*s);
    return true;
  }

  Reader& r_;
  const Mapping& m_;
  bool partial_;
  std::vector<std::string> field_ids_;
  std::map<std::string, SourceMark> seen_;
};

}  // namespace

void parse_actions(Reader& r, const YAML::Node& node, Mapping& m, bool partial) {
  if (!node.IsSequence()) {
    r.error(node, "`actions` must be a list of {name, kind, columns, ...} entries");
    return;
  }
  ActionParser p(r, m, partial);
  for (const auto& item : node)
    if (auto a = p.parse(item)) m.actions.push_back(std::move(*a));
}

}  // namespace hubsync::mapping::detail
