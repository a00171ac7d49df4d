#include "engine/actions/definitions.h"

#include <algorithm>
#include <map>

namespace hubsync::actions {

bool operator==(const FieldDef& a, const FieldDef& b) {
  auto same_options = [](const auto& x, const auto& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [](const auto& p, const auto& q) { return p.value == q.value && p.label == q.label; });
  };
  return a.name == b.name && a.label == b.label && a.type == b.type && a.field_type == b.field_type &&
         a.required == b.required && same_options(a.options, b.options);
}

bool operator==(const Definition& a, const Definition& b) {
  return a.action_url == b.action_url && a.object_types == b.object_types && a.label == b.label &&
         a.description == b.description && a.inputs == b.inputs && a.outputs == b.outputs &&
         a.published == b.published;
}

std::string object_type_of(const mapping::HubspotObject& o) {
  static const std::map<std::string, std::string> standard = {
      {"0-1", "CONTACT"}, {"0-2", "COMPANY"}, {"0-3", "DEAL"}, {"0-5", "TICKET"}};
  if (auto it = standard.find(o.object_type_id); it != standard.end()) return it->second;
  return o.object_type_id.empty() ? o.path() : o.object_type_id;
}

namespace {

using model::ErrorKind;

// HubSpot's action field types accept fewer fieldTypes than properties have.
std::string action_field_type(const mapping::CrmProperty& p) {
  static const std::vector<std::string> allowed = {"booleancheckbox", "checkbox", "date", "number",
                                                   "phonenumber",     "radio",    "select", "text",
                                                   "textarea"};
  if (std::find(allowed.begin(), allowed.end(), p.field_type) != allowed.end()) return p.field_type;
  if (p.type == "number") return "number";
  if (p.type == "bool") return "booleancheckbox";
  if (p.type == "enumeration") return "select";
  if (p.type == "date" || p.type == "datetime") return "date";
  return "text";
}

FieldDef from_property(const mapping::CrmProperty& p, bool required) {
  return FieldDef{p.name, p.label.empty() ? p.name : p.label, p.type, action_field_type(p), p.options, required};
}

FieldDef outcome_field(std::vector<std::string> values) {
  FieldDef f{kOutcome, "hubsync outcome", "enumeration", "select", {}, false};
  for (auto& v : values) f.options.push_back({v, v});
  return f;
}

FieldDef reason_field() { return FieldDef{kReason, "hubsync reason", "string", "text", {}, false}; }

std::string default_description(const mapping::ActionSpec& a, const mapping::Mapping& m) {
  if (!a.description.empty()) return a.description;
  switch (a.kind) {
    case mapping::ActionKind::lookup: return "Reads the linked row of " + m.table.display() + " (hubsync).";
    case mapping::ActionKind::write: return "Writes the linked row of " + m.table.display() + " (hubsync).";
    case mapping::ActionKind::sync_now: return "Syncs the record with " + m.table.display() + " at once (hubsync).";
  }
  return "";
}

struct Builder {
  PropertyBook props;
  const std::string& base_url;

  model::Result<std::vector<FieldDef>> fields(const mapping::Mapping& m, const mapping::ActionSpec& a,
                                              const PropertyMap& known, bool required) {
    std::vector<FieldDef> out;
    for (const auto& id : a.fields) {
      const mapping::FieldMapping* f = m.field(id);
      if (f == nullptr)
        return model::make_error(ErrorKind::invalid_record, "action " + a.name + ": no field " + id);
      for (const auto& name : f->properties) {
        auto it = known.find(name);
        if (it == known.end())
          return model::make_error(ErrorKind::invalid_record, "action " + a.name + " (" + a.mark.to_string() +
                                                                  "): property " + name + " does not exist on " +
                                                                  m.object.name + " in HubSpot");
        out.push_back(from_property(it->second, required));
      }
    }
    return out;
  }

  model::Result<Definition> build(const mapping::Mapping& m, const mapping::ActionSpec& a) {
    auto known = props.of(m);
    if (!known) return std::move(known).error();
    Definition d;
    d.name = a.name;
    d.mapping = m.name;
    d.action_url = base_url + "/" + a.name;
    d.object_types = {object_type_of(m.object)};
    d.label = a.label;
    d.description = default_description(a, m);
    switch (a.kind) {
      case mapping::ActionKind::lookup: {
        auto out = fields(m, a, **known, false);
        if (!out) return std::move(out).error();
        d.outputs = std::move(*out);
        d.outputs.push_back(outcome_field({"found", "not_linked"}));
        break;
      }
      case mapping::ActionKind::write: {
        auto in = fields(m, a, **known, true);
        if (!in) return std::move(in).error();
        d.inputs = std::move(*in);
        d.outputs = {outcome_field({"written", "unchanged", "not_linked", "rejected"}), reason_field()};
        break;
      }
      case mapping::ActionKind::sync_now:
        d.outputs = {outcome_field({"synced", "unchanged", "dead_lettered", "not_linked"}), reason_field()};
        break;
    }
    return d;
  }
};

std::vector<std::string> differences(const Definition& want, const Definition& have) {
  std::vector<std::string> out;
  if (want.action_url != have.action_url) out.push_back("actionUrl");
  if (want.object_types != have.object_types) out.push_back("objectTypes");
  if (want.label != have.label || want.description != have.description) out.push_back("labels");
  if (want.inputs != have.inputs) out.push_back("inputFields");
  if (want.outputs != have.outputs) out.push_back("outputFields");
  if (want.published != have.published) out.push_back("published");
  return out;
}

}  // namespace

model::Result<std::vector<Definition>> build_definitions(const std::vector<mapping::Mapping>& mappings,
                                                         mapping::CrmCatalog& catalog,
                                                         const std::string& base_url) {
  Builder b{PropertyBook(catalog), base_url};
  std::vector<Definition> out;
  for (const auto& m : mappings) {
    for (const auto& a : m.actions) {
      auto d = b.build(m, a);
      if (!d) return std::move(d).error();
      out.push_back(std::move(*d));
    }
  }
  return out;
}

std::string owned_name(const std::string& action_url, const std::string& base_url) {
  if (base_url.empty() || action_url.size() <= base_url.size() + 1) return "";
  if (action_url.compare(0, base_url.size(), base_url) != 0 || action_url[base_url.size()] != '/') return "";
  std::string name = action_url.substr(base_url.size() + 1);
  return name.find_first_of("/?#") == std::string::npos ? name : "";
}

const char* to_string(PlanItem::Op op) {
  switch (op) {
    case PlanItem::Op::create: return "create";
    case PlanItem::Op::update: return "update";
    case PlanItem::Op::unchanged: return "unchanged";
    case PlanItem::Op::not_declared: return "not declared";
  }
  return "?";
}

std::vector<PlanItem> plan_definitions(const std::vector<Definition>& desired,
                                       const std::vector<Registered>& existing, const std::string& base_url) {
  std::map<std::string, const Registered*> ours;  // first definition per name
  std::vector<PlanItem> extra;
  for (const auto& r : existing) {
    const std::string name = owned_name(r.definition.action_url, base_url);
    if (name.empty()) continue;
    if (!ours.emplace(name, &r).second) extra.push_back({PlanItem::Op::not_declared, name, r.id, {}, {"duplicate"}});
  }
  std::vector<PlanItem> out;
  for (const auto& d : desired) {
    auto it = ours.find(d.name);
    if (it == ours.end()) {
      out.push_back({PlanItem::Op::create, d.name, "", d, {}});
      continue;
    }
    auto changes = differences(d, it->second->definition);
    const auto op = changes.empty() ? PlanItem::Op::unchanged : PlanItem::Op::update;
    out.push_back({op, d.name, it->second->id, d, std::move(changes)});
    ours.erase(it);
  }
  for (const auto& [name, r] : ours) out.push_back({PlanItem::Op::not_declared, name, r->id, {}, {}});
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

}  // namespace hubsync::actions
