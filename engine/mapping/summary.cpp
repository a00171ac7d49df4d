#include <sstream>

#include "engine/mapping/mapping.h"

namespace hubsync::mapping {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep = ",") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::string assoc_type(const std::optional<std::int64_t>& id, const std::string& label) {
  if (id) return std::to_string(*id);
  if (!label.empty()) return "'" + label + "'";
  return "default";
}

// "text" on one line: quotes, backslashes and line breaks escaped.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string Mapping::summary() const {
  std::ostringstream o;
  o << "mapping " << name << (kind == MappingKind::link ? " (link)" : "") << "\n";
  o << "table " << table.quoted() << " key " << join(key) << "\n";
  o << "direction " << to_string(direction);
  if (kind == MappingKind::link) {
    o << "\nlink " << link->from_column << "->" << link->from_mapping << " " << link->to_column << "->"
      << link->to_mapping << " type " << assoc_type(link->type_id, link->type_label) << "\n";
    return o.str();
  }
  o << " conflict " << to_string(conflict) << " deletes " << to_string(deletes);
  if (deletes == DeletePolicy::soft) o << "(" << soft_delete_column << ")";
  if (max_deletes.to_string() != DeleteLimit{}.to_string()) o << " max_deletes " << max_deletes.to_string();
  o << "\n";
  o << "hubspot " << object.name << " path " << object.path() << " match " << match_property << "\n";
  if (!pg_filter.empty()) o << "filter postgres " << pg_filter << (keep_leaving ? " leaving keep" : "") << "\n";
  for (const auto& f : hubspot_filters) {
    o << "filter hubspot " << f.property << " " << to_string(f.op);
    if (!f.value.empty()) o << " " << f.value;
    if (!f.high_value.empty()) o << ".." << f.high_value;
    if (!f.values.empty()) o << " [" << join(f.values) << "]";
    o << "\n";
  }
  for (const auto& f : fields) {
    o << "field " << f.id << ": " << join(f.columns) << " -> " << join(f.properties) << " "
      << to_string(f.type) << " " << model::to_string(f.pg_kind) << "->" << model::to_string(f.hs_kind)
      << " " << to_string(f.direction) << " " << to_string(f.conflict);
    std::vector<std::string> chain;
    for (const auto& t : f.transforms) chain.push_back(t.describe());
    if (!f.separator.empty()) chain.push_back("split/join('" + f.separator + "')");
    if (!chain.empty()) o << " [" << join(chain, " | ") << "]";
    if (f.default_value) o << " default '" << f.default_value->canonical() << "'";
    o << "\n";
  }
  for (const auto& a : associations)
    o << "association " << a.column << " -> " << a.to_mapping << " type "
      << assoc_type(a.type_id, a.type_label) << " " << to_string(a.direction) << "\n";
  for (const auto& a : actions) {
    o << "action " << a.name << ": " << to_string(a.kind);
    if (!a.fields.empty()) o << " columns=[" << join(a.fields) << "]";
    o << " label=" << quoted(a.label);
    if (!a.description.empty()) o << " description=" << quoted(a.description);
    o << "\n";
  }
  if (schema) {
    o << "schema";
    if (!schema->name.empty()) o << " " << schema->name << " '" << schema->label_singular << "'/'" << schema->label_plural << "'";
    o << "\n";
    for (const auto& p : schema->properties) {
      o << "  property " << p.name << " " << p.type << "/" << p.field_type;
      if (p.has_unique_value) o << " unique";
      if (!p.options.empty()) {
        std::vector<std::string> values;
        for (const auto& opt : p.options) values.push_back(opt.value);
        o << " options " << join(values);
      }
      o << "\n";
    }
    if (!schema->required.empty()) o << "  required " << join(schema->required) << "\n";
    if (!schema->searchable.empty()) o << "  searchable " << join(schema->searchable) << "\n";
    if (!schema->primary_display.empty()) o << "  primary_display " << schema->primary_display << "\n";
    if (!schema->secondary_display.empty()) o << "  secondary_display " << join(schema->secondary_display) << "\n";
    if (!schema->associated_objects.empty()) o << "  associated_objects " << join(schema->associated_objects) << "\n";
  }
  return o.str();
}

}  // namespace hubsync::mapping
