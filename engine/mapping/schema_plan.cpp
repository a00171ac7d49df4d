#include "engine/mapping/schema_plan.h"

#include <algorithm>

#include "engine/mapping/live_check.h"
#include "engine/mapping/parser.h"

namespace hubsync::mapping {

namespace {

void add(SchemaPlan& plan, Severity s, const SourceMark& at, std::string msg) {
  plan.findings.push_back(Finding{s, at, std::move(msg)});
}

// Compares declared properties with existing ones; plans the missing ones.
void diff_properties(SchemaPlan& plan, const SchemaSpec& spec, const std::string& object_type,
                     const std::vector<CrmProperty>& existing) {
  for (const auto& want : spec.properties) {
    const CrmProperty* have = nullptr;
    for (const auto& p : existing)
      if (p.name == want.name) have = &p;
    if (!have) {
      plan.add_properties.push_back({object_type, want});
      continue;
    }
    if (have->type != want.type) {
      add(plan, Severity::error, want.mark,
          "property " + want.name + " is type " + have->type + " in HubSpot but " + want.type +
              " here; hubsync never changes a type (fix the mapping, or migrate the property by hand)");
      continue;
    }
    if (!want.field_type.empty() && have->field_type != want.field_type)
      add(plan, Severity::warning, want.mark,
          "property " + want.name + " has field_type " + have->field_type + " in HubSpot, " +
              want.field_type + " here; left as it is");
    if (have->has_unique_value != want.has_unique_value)
      add(plan, Severity::error, want.mark,
          "property " + want.name + (have->has_unique_value ? " is" : " is not") +
              " unique in HubSpot, and hasUniqueValue cannot change after creation");
    for (const auto& o : want.options) {
      bool found = false;
      for (const auto& h : have->options) found = found || h.value == o.value;
      if (!found)
        add(plan, Severity::warning, want.mark,
            "option `" + o.value + "` of " + want.name + " is missing in HubSpot; hubsync does not edit options");
    }
  }
}

// contacts -> 0-1; a custom name -> its 2-<n> (empty if it does not exist).
model::Result<std::string> object_type_of(const std::string& name, CrmCatalog& crm) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  // HubSpot's own spelling in associatedObjects: CONTACT, COMPANY, DEAL, TICKET.
  if (lower == "contact") lower = "contacts";
  if (lower == "company") lower = "companies";
  if (lower == "deal") lower = "deals";
  if (lower == "ticket") lower = "tickets";
  HubspotObject o;
  o.name = lower;
  o.object_type_id = standard_object_type_id(lower);
  if (o.object_type_id.empty() && lower.rfind("2-", 0) == 0) o.object_type_id = lower;
  o.custom = o.object_type_id.empty();
  if (o.custom) o.name = name;
  return resolve_object_type(o, crm);
}

}  // namespace

std::vector<std::string> SchemaPlan::describe() const {
  std::vector<std::string> out;
  if (create_object)
    out.push_back("create object " + create_object->spec.name + " (" +
                  std::to_string(create_object->spec.properties.size()) + " properties, " +
                  std::to_string(create_object->associated_object_type_ids.size()) + " associations)");
  for (const auto& p : add_properties)
    out.push_back("add property " + p.object_type + "." + p.property.name + " (" + p.property.type + "/" +
                  p.property.field_type + (p.property.has_unique_value ? ", unique" : "") + ")");
  for (const auto& a : add_associations)
    out.push_back("add association " + a.from_object_type_id + " -> " + a.to_object_type_id);
  return out;
}

std::vector<std::string> SchemaPlan::describe_applied(int made, const model::Error* failed) const {
  auto lines = describe();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto k = static_cast<std::size_t>(std::max(made, 0));
    if (i < k) lines[i] += " (done)";
    else if (i == k && failed) lines[i] += " FAILED: " + failed->message;
    else lines[i] += " (not tried)";
  }
  return lines;
}

SchemaPlan plan_schema(const Mapping& m, CrmCatalog& crm) {
  SchemaPlan plan;
  plan.mapping = m.name;
  if (!m.schema || m.kind != MappingKind::object) return plan;
  const SchemaSpec& spec = *m.schema;
  if (!m.object.custom) {
    auto props = crm.properties(m.object.name);
    if (!props) {
      add(plan, Severity::unavailable, spec.mark, "cannot read properties of " + m.object.name + ": " + props.error().message);
      return plan;
    }
    diff_properties(plan, spec, m.object.name, props->value_or(std::vector<CrmProperty>{}));
    return plan;
  }
  // Associated objects, resolved to type ids (they must exist first).
  std::vector<std::string> assoc_ids;
  for (const auto& name : spec.associated_objects) {
    auto id = object_type_of(name, crm);
    if (!id) {
      add(plan, Severity::unavailable, spec.mark, "cannot resolve associated object " + name + ": " + id.error().message);
      return plan;
    }
    if (id->empty()) {
      add(plan, Severity::error, spec.mark, "associated object `" + name + "` does not exist in HubSpot; create it first");
      continue;
    }
    assoc_ids.push_back(*id);
  }
  auto existing = crm.schema(spec.name.empty() ? m.object.name : spec.name);
  if (!existing) {
    add(plan, Severity::unavailable, spec.mark, "cannot read schema " + spec.name + ": " + existing.error().message);
    return plan;
  }
  if (!*existing) {
    if (!m.object.object_type_id.empty())
      add(plan, Severity::error, m.object_mark,
          "object " + m.object.name + " does not exist; HubSpot assigns 2-<n> ids, so name the object by its schema name");
    else
      plan.create_object = SchemaPlan::CreateObject{spec, assoc_ids};
    return plan;
  }
  const CrmSchema& have = **existing;
  if ((!spec.label_singular.empty() && have.label_singular != spec.label_singular) ||
      (!spec.label_plural.empty() && have.label_plural != spec.label_plural))
    add(plan, Severity::warning, spec.mark, "labels differ from HubSpot's (" + have.label_singular + "/" +
                                                have.label_plural + "); labels cannot change after creation");
  auto props = crm.properties(have.object_type_id);
  if (!props) {
    add(plan, Severity::unavailable, spec.mark, "cannot read properties of " + have.object_type_id + ": " + props.error().message);
    return plan;
  }
  diff_properties(plan, spec, have.object_type_id, props->value_or(have.properties));
  for (const auto& to : assoc_ids) {
    auto types = crm.association_types(have.object_type_id, to);
    if (!types) {
      add(plan, Severity::unavailable, spec.mark, "cannot read associations " + have.object_type_id + " -> " + to);
      continue;
    }
    if (types->empty())
      plan.add_associations.push_back({have.object_type_id, to, spec.name + "_to_" + to});
  }
  return plan;
}

model::Result<int> apply_schema(const SchemaPlan& plan, SchemaWriter& writer, int* made) {
  int ignored = 0;
  int& done = made ? *made : ignored;
  done = 0;
  if (has_errors(plan.findings))
    return model::make_error(model::ErrorKind::fatal,
                             "schema plan for " + plan.mapping + " has errors; nothing applied");
  if (plan.create_object) {
    auto id = writer.create_schema(plan.create_object->spec, plan.create_object->associated_object_type_ids);
    if (!id) return std::move(id).error();
    ++done;
  }
  for (const auto& p : plan.add_properties) {
    auto st = writer.create_property(p.object_type, p.property);
    if (!st) return std::move(st).error();
    ++done;
  }
  for (const auto& a : plan.add_associations) {
    auto st = writer.create_association(a.from_object_type_id, a.to_object_type_id, a.name);
    if (!st) return std::move(st).error();
    ++done;
  }
  return done;
}

}  // namespace hubsync::mapping
