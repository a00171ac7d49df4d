#pragma once

// In-memory test doubles of the catalog ports: a Postgres catalog that is a
// table of tables, and a HubSpot portal that is a map of object types to
// properties. They answer like the real catalogs, nothing more.

#include <map>
#include <string>
#include <vector>

#include "engine/mapping/catalog.h"

namespace hubsync::mapping::test {

class FakePg : public PgCatalog {
 public:
  std::map<std::string, PgTableInfo> tables;  ///< by schema.table
  std::vector<std::string> bad_filter_words;  ///< a filter containing one is invalid SQL
  bool down = false;

  model::Result<PgTableInfo> describe_table(const TableName& t) override {
    if (down) return model::make_error(model::ErrorKind::transient, "connection refused");
    auto it = tables.find(t.display());
    if (it == tables.end()) return PgTableInfo{};
    return it->second;
  }
  model::Status check_filter(const TableName&, const std::string& expression) override {
    if (down) return model::make_error(model::ErrorKind::transient, "connection refused");
    for (const auto& w : bad_filter_words)
      if (expression.find(w) != std::string::npos)
        return model::make_error(model::ErrorKind::invalid_record, "column \"" + w + "\" does not exist");
    return {};
  }
};

class FakeCrm : public CrmCatalog, public SchemaWriter {
 public:
  std::map<std::string, std::vector<CrmProperty>> objects;  ///< by object type (contacts, 2-1)
  std::map<std::string, CrmSchema> schemas;                 ///< custom objects by name
  std::map<std::pair<std::string, std::string>, std::vector<CrmAssociationType>> associations;
  int writes = 0;
  bool down = false;
  int fail_property = 0;  ///< the n-th create_property fails (1-based; 0: none)

  FakeCrm() {
    objects["contacts"] = {prop("email", "string", "text"), prop("firstname", "string", "text"),
                           prop("lastname", "string", "text"), prop("phone", "string", "phonenumber"),
                           enumeration("lifecyclestage", {"subscriber", "lead", "salesqualifiedlead",
                                                          "customer", "evangelist", "other"}),
                           read_only(prop("hs_object_id", "number", "number")),
                           read_only(prop("lastmodifieddate", "datetime", "date"))};
    objects["companies"] = {prop("name", "string", "text"), prop("domain", "string", "text"),
                            enumeration("industry", {"COMPUTER_SOFTWARE", "UTILITIES"}),
                            prop("numberofemployees", "number", "number"),
                            read_only(prop("hs_object_id", "number", "number"))};
    associations[{"0-1", "0-2"}] = {{"HUBSPOT_DEFINED", 279, ""}, {"HUBSPOT_DEFINED", 1, "Primary"}};
    associations[{"0-2", "0-1"}] = {{"HUBSPOT_DEFINED", 280, ""}};
  }

  static CrmProperty prop(std::string name, std::string type, std::string field_type) {
    CrmProperty p;
    p.name = std::move(name);
    p.type = std::move(type);
    p.field_type = std::move(field_type);
    return p;
  }
  static CrmProperty enumeration(std::string name, std::vector<std::string> options) {
    CrmProperty p = prop(std::move(name), "enumeration", "select");
    for (auto& o : options) p.options.push_back({o, o});
    return p;
  }
  static CrmProperty read_only(CrmProperty p) {
    p.read_only_value = true;
    return p;
  }
  static CrmProperty from_spec(const PropertySpec& s) {
    CrmProperty p = prop(s.name, s.type, s.field_type);
    p.label = s.label;
    p.has_unique_value = s.has_unique_value;
    p.options = s.options;
    return p;
  }

  model::Result<std::optional<std::vector<CrmProperty>>> properties(const std::string& type) override {
    if (down) return model::make_error(model::ErrorKind::transient, "timeout");
    auto it = objects.find(type);
    if (it == objects.end()) return std::optional<std::vector<CrmProperty>>();
    return std::optional<std::vector<CrmProperty>>(it->second);
  }
  model::Result<std::optional<CrmSchema>> schema(const std::string& name) override {
    if (down) return model::make_error(model::ErrorKind::transient, "timeout");
    for (const auto& [n, s] : schemas)
      if (n == name || s.object_type_id == name || s.fully_qualified_name == name) return std::optional<CrmSchema>(s);
    return std::optional<CrmSchema>();
  }
  model::Result<std::vector<CrmAssociationType>> association_types(const std::string& from,
                                                                   const std::string& to) override {
    if (down) return model::make_error(model::ErrorKind::transient, "timeout");
    auto it = associations.find({from, to});
    if (it == associations.end()) return std::vector<CrmAssociationType>{};
    return it->second;
  }

  model::Result<std::string> create_schema(const SchemaSpec& spec,
                                           const std::vector<std::string>& assoc) override {
    if (schemas.count(spec.name)) return model::make_error(model::ErrorKind::conflict, "schema exists");
    ++writes;
    CrmSchema s;
    s.name = spec.name;
    s.object_type_id = "2-" + std::to_string(100 + schemas.size());
    s.fully_qualified_name = "p42_" + spec.name;
    s.label_singular = spec.label_singular;
    s.label_plural = spec.label_plural;
    std::vector<CrmProperty> props = {read_only(prop("hs_object_id", "number", "number"))};
    for (const auto& p : spec.properties) props.push_back(from_spec(p));
    s.properties = props;
    objects[s.object_type_id] = props;
    schemas[spec.name] = s;
    for (const auto& to : assoc) {
      associations[{s.object_type_id, to}] = {{"USER_DEFINED", 500 + writes, ""}};
      associations[{to, s.object_type_id}] = {{"USER_DEFINED", 600 + writes, ""}};
    }
    return s.object_type_id;
  }
  model::Status create_property(const std::string& type, const PropertySpec& spec) override {
    auto it = objects.find(type);
    if (it == objects.end()) return model::make_error(model::ErrorKind::fatal, "no object " + type);
    for (const auto& p : it->second)
      if (p.name == spec.name) return model::make_error(model::ErrorKind::conflict, "property exists");
    if (fail_property > 0 && --fail_property == 0)
      return model::make_error(model::ErrorKind::transient, "HTTP 503 from HubSpot");
    ++writes;
    it->second.push_back(from_spec(spec));
    return {};
  }
  model::Status create_association(const std::string& from, const std::string& to, const std::string&) override {
    ++writes;
    associations[{from, to}].push_back({"USER_DEFINED", 700 + writes, ""});
    return {};
  }
};

}  // namespace hubsync::mapping::test
