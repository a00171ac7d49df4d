// Portal: default types, type resolution, properties, groups and schemas.
#include <algorithm>
#include <mutex>

#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

PropertyDef prop(const std::string& name, const std::string& label, const std::string& type,
                 const std::string& field, const std::string& group, bool read_only = false) {
  PropertyDef d;
  d.name = name;
  d.label = label;
  d.type = type;
  d.field_type = field;
  d.group_name = group;
  d.hubspot_defined = true;
  d.read_only = read_only;
  return d;
}

PropertyDef enum_prop(const std::string& name, const std::string& label, const std::string& group,
                      const std::vector<std::pair<std::string, std::string>>& opts,
                      const std::string& field = "select") {
  PropertyDef d = prop(name, label, "enumeration", field, group);
  int i = 0;
  for (const auto& [value, text] : opts) d.options.push_back({text, value, i++, false});
  return d;
}

void add(ObjectType& t, PropertyDef d) {
  d.display_order = static_cast<int>(t.properties.size());
  t.properties[d.name] = std::move(d);
}

const std::vector<std::pair<std::string, std::string>> kLifecycle = {
    {"subscriber", "Subscriber"}, {"lead", "Lead"},
    {"marketingqualifiedlead", "Marketing Qualified Lead"},
    {"salesqualifiedlead", "Sales Qualified Lead"}, {"opportunity", "Opportunity"},
    {"customer", "Customer"}, {"evangelist", "Evangelist"}, {"other", "Other"}};

ObjectType make_contacts() {
  ObjectType t;
  t.object_type_id = "0-1";
  t.name = "contacts";
  t.singular = "contact";
  t.label_singular = "Contact";
  t.label_plural = "Contacts";
  t.last_modified_prop = "lastmodifieddate";
  t.create_date_prop = "createdate";
  t.default_properties = {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate",
                          "lastname"};
  t.groups = {{"contactinformation", "Contact information", 0, false}};
  const std::string g = "contactinformation";
  PropertyDef email = prop("email", "Email", "string", "text", g);
  email.has_unique_value = true;
  add(t, email);
  for (const auto& [n, l] : std::vector<std::pair<std::string, std::string>>{
           {"firstname", "First Name"}, {"lastname", "Last Name"}, {"company", "Company Name"},
           {"website", "Website URL"}, {"city", "City"}, {"state", "State/Region"},
           {"zip", "Postal Code"}, {"country", "Country/Region"}, {"address", "Street Address"},
           {"jobtitle", "Job Title"}, {"hs_merged_object_ids", "Merged IDs"}})
    add(t, prop(n, l, "string", "text", g, n == "hs_merged_object_ids"));
  add(t, prop("phone", "Phone Number", "string", "phonenumber", g));
  add(t, prop("mobilephone", "Mobile Phone Number", "string", "phonenumber", g));
  add(t, enum_prop("lifecyclestage", "Lifecycle Stage", g, kLifecycle, "radio"));
  add(t, enum_prop("hs_lead_status", "Lead Status", g,
                   {{"NEW", "New"}, {"OPEN", "Open"}, {"IN_PROGRESS", "In Progress"},
                    {"OPEN_DEAL", "Open Deal"}, {"UNQUALIFIED", "Unqualified"},
                    {"ATTEMPTED_TO_CONTACT", "Attempted to Contact"}, {"CONNECTED", "Connected"},
                    {"BAD_TIMING", "Bad Timing"}}));
  add(t, prop("createdate", "Create Date", "datetime", "date", g));
  add(t, prop("lastmodifieddate", "Last Modified Date", "datetime", "date", g, true));
  add(t, prop("hs_object_id", "Record ID", "number", "number", g, true));
  add(t, prop("annualrevenue", "Annual Revenue", "string", "text", g));
  add(t, prop("date_of_birth", "Date of birth", "string", "text", g));
  add(t, enum_prop("hs_email_optout", "Unsubscribed from all email", g,
                   {{"true", "Yes"}, {"false", "No"}}, "booleancheckbox"));
  t.properties["hs_email_optout"].type = "bool";
  return t;
}

ObjectType make_companies() {
  ObjectType t;
  t.object_type_id = "0-2";
  t.name = "companies";
  t.singular = "company";
  t.label_singular = "Company";
  t.label_plural = "Companies";
  t.last_modified_prop = "hs_lastmodifieddate";
  t.create_date_prop = "createdate";
  t.default_properties = {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"};
  const std::string g = "companyinformation";
  t.groups = {{g, "Company information", 0, false}};
  for (const auto& [n, l] : std::vector<std::pair<std::string, std::string>>{
           {"name", "Company name"}, {"domain", "Company Domain Name"}, {"city", "City"},
           {"state", "State/Region"}, {"country", "Country/Region"}, {"zip", "Postal Code"},
           {"address", "Street Address"}, {"website", "Website URL"}, {"description", "Description"},
           {"hs_merged_object_ids", "Merged IDs"}})
    add(t, prop(n, l, "string", "text", g, n == "hs_merged_object_ids"));
  add(t, prop("phone", "Phone Number", "string", "phonenumber", g));
  add(t, enum_prop("industry", "Industry", g,
                   {{"ACCOUNTING", "Accounting"}, {"AIRLINES_AVIATION", "Airlines/Aviation"},
                    {"BANKING", "Banking"}, {"COMPUTER_SOFTWARE", "Computer Software"},
                    {"CONSTRUCTION", "Construction"}, {"EDUCATION_MANAGEMENT", "Education Management"},
                    {"FINANCIAL_SERVICES", "Financial Services"}, {"HOSPITAL_HEALTH_CARE", "Hospital & Health Care"},
                    {"INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"},
                    {"INSURANCE", "Insurance"}, {"RETAIL", "Retail"}, {"TELECOMMUNICATIONS", "Telecommunications"},
                    // More of HubSpot's own industry options (a subset of its ~150).
                    {"UTILITIES", "Utilities"}, {"AUTOMOTIVE", "Automotive"}, {"BIOTECHNOLOGY", "Biotechnology"},
                    {"CONSUMER_GOODS", "Consumer Goods"}, {"E_LEARNING", "E-Learning"},
                    {"ENTERTAINMENT", "Entertainment"}, {"FOOD_BEVERAGES", "Food & Beverages"},
                    {"HOSPITALITY", "Hospitality"}, {"INTERNET", "Internet"}, {"LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"},
                    {"MARKETING_AND_ADVERTISING", "Marketing and Advertising"}, {"NONPROFIT_ORGANIZATION_MANAGEMENT", "Non-Profit Organization Management"},
                    {"REAL_ESTATE", "Real Estate"}, {"RESEARCH", "Research"}, {"SEMICONDUCTORS", "Semiconductors"},
                    {"TRANSPORTATION_TRUCKING_RAILROAD", "Transportation/Trucking/Railroad"}}));
  add(t, enum_prop("lifecyclestage", "Lifecycle Stage", g, kLifecycle, "radio"));
  add(t, prop("numberofemployees", "Number of Employees", "number", "number", g));
  add(t, prop("annualrevenue", "Annual Revenue", "number", "number", g));
  add(t, prop("createdate", "Create Date", "datetime", "date", g));
  add(t, prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", g, true));
  add(t, prop("hs_object_id", "Record ID", "number", "number", g, true));
  return t;
}

ObjectType make_deals() {
  ObjectType t;
  t.object_type_id = "0-3";
  t.name = "deals";
  t.singular = "deal";
  t.label_singular = "Deal";
  t.label_plural = "Deals";
  t.last_modified_prop = "hs_lastmodifieddate";
  t.create_date_prop = "createdate";
  t.default_properties = {"amount", "closedate", "createdate", "dealname", "dealstage",
                          "hs_lastmodifieddate", "hs_object_id", "pipeline"};
  const std::string g = "dealinformation";
  t.groups = {{g, "Deal information", 0, false}};
  add(t, prop("dealname", "Deal Name", "string", "text", g));
  add(t, prop("amount", "Amount", "number", "number", g));
  add(t, prop("closedate", "Close Date", "datetime", "date", g));
  add(t, enum_prop("pipeline", "Pipeline", g, {{"default", "Sales Pipeline"}}));
  add(t, enum_prop("dealstage", "Deal Stage", g,
                   {{"appointmentscheduled", "Appointment Scheduled"},
                    {"qualifiedtobuy", "Qualified To Buy"}, {"presentationscheduled", "Presentation Scheduled"},
                    {"decisionmakerboughtin", "Decision Maker Bought-In"},
                    {"contractsent", "Contract Sent"}, {"closedwon", "Closed Won"},
                    {"closedlost", "Closed Lost"}}));
  add(t, prop("description", "Deal Description", "string", "textarea", g));
  add(t, prop("createdate", "Create Date", "datetime", "date", g));
  add(t, prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", g, true));
  add(t, prop("hs_object_id", "Record ID", "number", "number", g, true));
  add(t, prop("hs_merged_object_ids", "Merged IDs", "string", "text", g, true));
  return t;
}

ObjectType make_tickets() {
  ObjectType t;
  t.object_type_id = "0-5";
  t.name = "tickets";
  t.singular = "ticket";
  t.label_singular = "Ticket";
  t.label_plural = "Tickets";
  t.last_modified_prop = "hs_lastmodifieddate";
  t.create_date_prop = "createdate";
  t.default_properties = {"content", "createdate", "hs_lastmodifieddate", "hs_object_id",
                          "hs_pipeline", "hs_pipeline_stage", "subject"};
  const std::string g = "ticketinformation";
  t.groups = {{g, "Ticket information", 0, false}};
  add(t, prop("subject", "Ticket name", "string", "text", g));
  add(t, prop("content", "Ticket description", "string", "textarea", g));
  add(t, enum_prop("hs_pipeline", "Pipeline", g, {{"0", "Support Pipeline"}}));
  add(t, enum_prop("hs_pipeline_stage", "Ticket status", g,
                   {{"1", "New"}, {"2", "Waiting on contact"}, {"3", "Waiting on us"}, {"4", "Closed"}}));
  add(t, prop("createdate", "Create Date", "datetime", "date", g));
  add(t, prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", g, true));
  add(t, prop("hs_object_id", "Record ID", "number", "number", g, true));
  add(t, prop("hs_merged_object_ids", "Merged IDs", "string", "text", g, true));
  return t;
}

bool valid_type_pair(const std::string& type, const std::string& field) {
  if (type == "enumeration")
    return field == "select" || field == "radio" || field == "checkbox" || field == "booleancheckbox";
  if (type == "date" || type == "datetime") return field == "date";
  if (type == "string") return field == "text" || field == "textarea" || field == "file" || field == "html";
  if (type == "number") return field == "number";
  if (type == "bool") return field == "booleancheckbox";
  if (type == "phone_number") return field == "phonenumber";
  return false;
}

}  // namespace

Portal::Portal(std::int64_t portal_id, std::int64_t index_lag_ms, NowFn now, bool merge_new_id)
    : portal_id_(portal_id), index_lag_ms_(index_lag_ms), now_(std::move(now)), merge_new_id_(merge_new_id) {
  reset();
}

void Portal::set_index_lag_ms(std::int64_t lag) {
  std::unique_lock lock(mu_);  // not a definition: shared snapshots stay valid
  index_lag_ms_ = lag;
}

void Portal::reset() {
  auto lock = schema_lock();
  types_.clear();
  assoc_types_.clear();
  links_.clear();
  next_id_ = 1000001;
  next_custom_type_ = 1;
  next_assoc_type_id_ = 1000;
  install_defaults_locked();
}

void Portal::install_defaults_locked() {
  std::int64_t now = now_();
  for (auto t : {make_contacts(), make_companies(), make_deals(), make_tickets()}) {
    t.created_ms = t.updated_ms = now;
    for (auto& [n, d] : t.properties) {
      (void)n;
      d.created_ms = d.updated_ms = now;
    }
    types_[t.object_type_id] = std::move(t);
  }
  add_assoc_pair_locked("0-1", "0-2", 279, 280, "HUBSPOT_DEFINED", "", "contact_to_company");
  add_assoc_pair_locked("0-1", "0-2", 1, 2, "HUBSPOT_DEFINED", "Primary", "contact_to_company_primary");
  add_assoc_pair_locked("0-3", "0-1", 3, 4, "HUBSPOT_DEFINED", "", "deal_to_contact");
  add_assoc_pair_locked("0-3", "0-2", 341, 342, "HUBSPOT_DEFINED", "", "deal_to_company");
  add_assoc_pair_locked("0-3", "0-2", 5, 6, "HUBSPOT_DEFINED", "Primary", "deal_to_company_primary");
  add_assoc_pair_locked("0-1", "0-5", 15, 16, "HUBSPOT_DEFINED", "", "contact_to_ticket");
  add_assoc_pair_locked("0-2", "0-5", 340, 339, "HUBSPOT_DEFINED", "", "company_to_ticket");
  add_assoc_pair_locked("0-3", "0-5", 27, 28, "HUBSPOT_DEFINED", "", "deal_to_ticket");
}

void Portal::add_assoc_pair_locked(const std::string& a, const std::string& b, int id_ab, int id_ba,
                                   const std::string& category, const std::string& label,
                                   const std::string& name) {
  assoc_types_[{a, b}].push_back({id_ab, category, label, id_ba, name});
  if (a != b || id_ab != id_ba) assoc_types_[{b, a}].push_back({id_ba, category, label, id_ab, name});
}

std::string Portal::resolve_locked(const std::string& ref) const {
  if (types_.count(ref)) return ref;
  std::string lower = to_lower(ref);
  for (const auto& [id, t] : types_) {
    if (lower == to_lower(t.name) || (!t.singular.empty() && lower == t.singular) ||
        (t.custom && (lower == to_lower(t.fully_qualified_name) || lower == "p_" + t.name)))
      return id;
  }
  throw make_api_error(400, "VALIDATION_ERROR",
                       "Unable to infer object type from: " + ref);
}

std::string Portal::resolve_type(const std::string& ref) const {
  std::shared_lock lock(mu_);
  return resolve_locked(ref);
}

ObjectType& Portal::type_locked(const std::string& ref) { return types_.at(resolve_locked(ref)); }
const ObjectType& Portal::type_locked(const std::string& ref) const {
  return types_.at(resolve_locked(ref));
}

std::unique_lock<std::shared_mutex> Portal::schema_lock() {
  std::unique_lock lock(mu_);
  schema_generation_.fetch_add(1);
  return lock;
}

std::shared_ptr<const ObjectType> Portal::definition(const std::string& ref) const {
  std::uint64_t generation = 0;
  return definition_at(ref, generation);
}

std::shared_ptr<const ObjectType> Portal::definition_at(const std::string& ref, std::uint64_t& generation) const {
  generation = schema_generation_.load();
  {
    std::lock_guard lock(definitions_mu_);
    auto it = definitions_.find(ref);
    if (it != definitions_.end() && it->second.generation == generation) return it->second.def;
  }
  auto def = std::make_shared<const ObjectType>(type_definition(ref));
  std::lock_guard lock(definitions_mu_);
  definitions_[ref] = {generation, def};
  return def;
}

ObjectType Portal::type_definition(const std::string& ref) const {
  std::shared_lock lock(mu_);
  const ObjectType& t = type_locked(ref);
  ObjectType copy;
  copy.object_type_id = t.object_type_id;
  copy.name = t.name;
  copy.singular = t.singular;
  copy.label_singular = t.label_singular;
  copy.label_plural = t.label_plural;
  copy.fully_qualified_name = t.fully_qualified_name;
  copy.last_modified_prop = t.last_modified_prop;
  copy.create_date_prop = t.create_date_prop;
  copy.primary_display_property = t.primary_display_property;
  copy.secondary_display_properties = t.secondary_display_properties;
  copy.searchable_properties = t.searchable_properties;
  copy.required_properties = t.required_properties;
  copy.default_properties = t.default_properties;
  copy.custom = t.custom;
  copy.created_ms = t.created_ms;
  copy.updated_ms = t.updated_ms;
  copy.properties = t.properties;
  copy.groups = t.groups;
  return copy;
}

std::vector<ObjectType> Portal::custom_schemas() const {
  std::vector<std::string> ids;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, t] : types_)
      if (t.custom) ids.push_back(id);
  }
  std::vector<ObjectType> out;
  for (const auto& id : ids) out.push_back(type_definition(id));
  return out;
}

std::vector<PropertyDef> Portal::properties(const std::string& type, bool archived) const {
  std::shared_lock lock(mu_);
  std::vector<PropertyDef> out;
  for (const auto& [n, d] : type_locked(type).properties) {
    (void)n;
    if (d.archived == archived) out.push_back(d);
  }
  return out;
}

PropertyDef Portal::property(const std::string& type, const std::string& name) const {
  std::shared_lock lock(mu_);
  const PropertyDef* d = type_locked(type).find_property(name);
  if (!d)
    throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find property " + name);
  return *d;
}

PropertyDef Portal::create_property(const std::string& type, PropertyDef def) {
  auto lock = schema_lock();
  ObjectType& t = type_locked(type);
  if (def.name.empty() || def.label.empty() || def.type.empty() || def.field_type.empty())
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Property create requires name, label, type, fieldType and groupName");
  for (char c : def.name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      throw make_api_error(400, "VALIDATION_ERROR",
                           "Property name " + def.name + " must be lower-case letters, digits and _");
  if (!valid_type_pair(def.type, def.field_type))
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Invalid type/fieldType combination: " + def.type + "/" + def.field_type);
  if (def.type == "enumeration" && def.field_type != "booleancheckbox" && def.options.empty())
    throw make_api_error(400, "VALIDATION_ERROR", "Enumeration properties require options");
  if (def.group_name.empty()) throw make_api_error(400, "VALIDATION_ERROR", "groupName is required");
  if (std::none_of(t.groups.begin(), t.groups.end(),
                   [&](const PropertyGroup& g) { return g.name == def.group_name && !g.archived; }))
    throw make_api_error(400, "VALIDATION_ERROR", "Property group " + def.group_name + " does not exist");
  auto it = t.properties.find(def.name);
  if (it != t.properties.end() && !it->second.archived)
    throw make_api_error(409, "OBJECT_ALREADY_EXISTS",
                         "Property named '" + def.name + "' already exists.");
  if (def.has_unique_value) {
    int uniques = 0;
    for (const auto& [n, d] : t.properties)
      if (d.has_unique_value && !d.hubspot_defined && !d.archived) ++uniques;
    if (uniques >= 10)
      throw make_api_error(400, "VALIDATION_ERROR", "At most 10 unique-value properties per object");
  }
  def.hubspot_defined = false;
  def.archived = false;
  def.created_ms = def.updated_ms = now_();
  if (def.display_order < 0) def.display_order = static_cast<int>(t.properties.size());
  t.properties[def.name] = def;
  return def;
}

PropertyDef Portal::update_property(const std::string& type, const std::string& name,
                                    const std::function<void(PropertyDef&)>& patch,
                                    std::optional<bool> has_unique_value) {
  auto lock = schema_lock();
  ObjectType& t = type_locked(type);
  auto it = t.properties.find(name);
  if (it == t.properties.end() || it->second.archived)
    throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find property " + name);
  if (has_unique_value && *has_unique_value != it->second.has_unique_value)
    throw make_api_error(400, "VALIDATION_ERROR",
                         "hasUniqueValue cannot be changed after a property is created");
  if (it->second.hubspot_defined && it->second.read_only)
    throw make_api_error(400, "VALIDATION_ERROR", "Property " + name + " is read-only");
  PropertyDef copy = it->second;
  patch(copy);
  if (!valid_type_pair(copy.type, copy.field_type))
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Invalid type/fieldType combination: " + copy.type + "/" + copy.field_type);
  copy.updated_ms = now_();
  it->second = copy;
  return copy;
}

void Portal::archive_property(const std::string& type, const std::string& name) {
  auto lock = schema_lock();
  ObjectType& t = type_locked(type);
  auto it = t.properties.find(name);
  if (it == t.properties.end() || it->second.archived)
    throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find property " + name);
  if (it->second.hubspot_defined)
    throw make_api_error(400, "VALIDATION_ERROR", "HubSpot-defined property " + name + " cannot be archived");
  it->second.archived = true;
  t.unique_index.erase(name);
}

std::vector<PropertyGroup> Portal::groups(const std::string& type) const {
  std::shared_lock lock(mu_);
  std::vector<PropertyGroup> out;
  for (const auto& g : type_locked(type).groups)
    if (!g.archived) out.push_back(g);
  return out;
}

PropertyGroup Portal::create_group(const std::string& type, PropertyGroup g) {
  auto lock = schema_lock();
  ObjectType& t = type_locked(type);
  if (g.name.empty() || g.label.empty())
    throw make_api_error(400, "VALIDATION_ERROR", "Property group create requires name and label");
  for (auto& existing : t.groups)
    if (existing.name == g.name) {
      if (!existing.archived)
        throw make_api_error(409, "OBJECT_ALREADY_EXISTS", "Property group named '" + g.name + "' already exists.");
      existing = g;
      return g;
    }
  t.groups.push_back(g);
  return g;
}

PropertyGroup Portal::update_group(const std::string& type, const std::string& name,
                                   const std::optional<std::string>& label, std::optional<int> order) {
  auto lock = schema_lock();
  for (auto& g : type_locked(type).groups)
    if (g.name == name && !g.archived) {
      if (label) g.label = *label;
      if (order) g.display_order = *order;
      return g;
    }
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find property group " + name);
}

void Portal::archive_group(const std::string& type, const std::string& name) {
  auto lock = schema_lock();
  for (auto& g : type_locked(type).groups)
    if (g.name == name && !g.archived) {
      g.archived = true;
      return;
    }
  throw make_api_error(404, "OBJECT_NOT_FOUND", "Unable to find property group " + name);
}

ObjectType Portal::create_schema(ObjectType t, const std::vector<std::string>& associated_objects) {
  std::string id;
  {
    auto lock = schema_lock();
    if (t.name.empty() || t.label_singular.empty() || t.label_plural.empty())
      throw make_api_error(400, "VALIDATION_ERROR", "Schema requires name and labels.singular/plural");
    for (const auto& [tid, existing] : types_) {
      (void)tid;
      if (to_lower(existing.name) == to_lower(t.name) || existing.singular == to_lower(t.name))
        throw make_api_error(409, "OBJECT_ALREADY_EXISTS",
                             "Object type with name " + t.name + " already exists");
    }
    std::int64_t now = now_();
    t.object_type_id = "2-" + std::to_string(next_custom_type_++);
    t.fully_qualified_name = "p" + std::to_string(portal_id_) + "_" + t.name;
    t.custom = true;
    t.singular.clear();
    t.last_modified_prop = "hs_lastmodifieddate";
    t.create_date_prop = "hs_createdate";
    t.created_ms = t.updated_ms = now;
    t.default_properties = {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"};
    t.groups.insert(t.groups.begin(), PropertyGroup{t.name + "_information", t.label_singular + " information", 0, false});
    std::map<std::string, PropertyDef> user_props = std::move(t.properties);
    t.properties.clear();
    for (auto d : {prop("hs_object_id", "Record ID", "number", "number", "", true),
                   prop("hs_createdate", "Create Date", "datetime", "date", "", true),
                   prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", "", true),
                   prop("hs_merged_object_ids", "Merged IDs", "string", "text", "", true)}) {
      d.group_name = t.groups.front().name;
      d.created_ms = d.updated_ms = now;
      add(t, d);
    }
    for (auto& [n, d] : user_props) {
      if (d.group_name.empty()) d.group_name = t.groups.front().name;
      if (!valid_type_pair(d.type, d.field_type))
        throw make_api_error(400, "VALIDATION_ERROR",
                             "Invalid type/fieldType combination for " + n + ": " + d.type + "/" + d.field_type);
      d.created_ms = d.updated_ms = now;
      add(t, d);
    }
    for (const auto& r : t.required_properties)
      if (!t.properties.count(r))
        throw make_api_error(400, "VALIDATION_ERROR", "Required property " + r + " is not defined");
    if (!t.primary_display_property.empty() && !t.properties.count(t.primary_display_property))
      throw make_api_error(400, "VALIDATION_ERROR",
                           "primaryDisplayProperty " + t.primary_display_property + " is not defined");
    id = t.object_type_id;
    types_[id] = std::move(t);
    for (const auto& other : associated_objects) {
      std::string other_id = resolve_locked(other);
      add_assoc_pair_locked(id, other_id, next_assoc_type_id_, next_assoc_type_id_ + 1,
                            "USER_DEFINED", "", types_[id].name + "_to_" + types_[other_id].name);
      next_assoc_type_id_ += 2;
    }
  }
  return type_definition(id);
}

ObjectType Portal::update_schema(const std::string& ref, const std::function<void(ObjectType&)>& patch) {
  std::string id;
  {
    auto lock = schema_lock();
    ObjectType& t = type_locked(ref);
    if (!t.custom) throw make_api_error(400, "VALIDATION_ERROR", "Only custom object schemas can be updated");
    std::string name = t.name, singular = t.label_singular, plural = t.label_plural;
    patch(t);
    if (t.name != name || t.label_singular != singular || t.label_plural != plural) {
      t.name = name;
      t.label_singular = singular;
      t.label_plural = plural;
      throw make_api_error(400, "VALIDATION_ERROR", "Object schema name and labels cannot be changed");
    }
    t.updated_ms = now_();
    id = t.object_type_id;
  }
  return type_definition(id);
}

void Portal::delete_schema(const std::string& ref) {
  auto lock = schema_lock();
  ObjectType& t = type_locked(ref);
  if (!t.custom) throw make_api_error(400, "VALIDATION_ERROR", "Standard objects cannot be deleted");
  for (const auto& [id, r] : t.records)
    if (!r.archived)
      throw make_api_error(400, "VALIDATION_ERROR",
                           "Object schema " + t.name + " still has records and cannot be deleted");
  std::string id = t.object_type_id;
  types_.erase(id);
  for (auto it = assoc_types_.begin(); it != assoc_types_.end();)
    it = (it->first.first == id || it->first.second == id) ? assoc_types_.erase(it) : std::next(it);
}

AssocTypeDef Portal::create_association_definition(const std::string& from, const std::string& to,
                                                   const std::string& name, const std::string& label,
                                                   const std::string& category) {
  auto lock = schema_lock();
  std::string a = resolve_locked(from), b = resolve_locked(to);
  for (const auto& d : assoc_types_[{a, b}])
    if ((!name.empty() && d.name == name) || (!label.empty() && d.label == label))
      throw make_api_error(409, "OBJECT_ALREADY_EXISTS", "Association definition " + name + " already exists");
  int id = next_assoc_type_id_;
  next_assoc_type_id_ += 2;
  add_assoc_pair_locked(a, b, id, id + 1, category, label,
                        name.empty() ? types_[a].name + "_to_" + types_[b].name : name);
  return assoc_types_[{a, b}].back();
}

std::vector<AssocTypeDef> Portal::association_types(const std::string& from, const std::string& to) const {
  std::shared_lock lock(mu_);
  auto it = assoc_types_.find({resolve_locked(from), resolve_locked(to)});
  return it == assoc_types_.end() ? std::vector<AssocTypeDef>{} : it->second;
}

}  // namespace hubsync::sim
