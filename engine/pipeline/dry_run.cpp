#include "engine/pipeline/dry_run.h"

namespace hubsync::pipeline {

using model::Result;
using model::Status;

namespace {

std::string text_of(const model::Value& v) { return v.is_null() ? std::string() : v.canonical(); }

std::optional<std::string> before_of(const model::Fields* known, const std::string& name) {
  if (known == nullptr) return std::nullopt;
  auto it = known->find(name);
  if (it == known->end()) return std::nullopt;
  return text_of(it->second);
}

std::vector<PlannedField> fields_of(const model::Fields& values, const model::Fields* known) {
  std::vector<PlannedField> out;
  for (const auto& [name, v] : values) out.push_back({name, before_of(known, name), text_of(v)});
  return out;
}

}  // namespace

// --- Postgres --------------------------------------------------------------

Status DryRunDatabase::enqueue(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys,
                               std::int64_t delay_ms) {
  // Due later (a held deletion waiting): a real claim in this pass would not get it.
  if (delay_ms > 0) return {};
  auto& queue = queued_[m.name];
  for (const auto& k : keys) {
    model::Change c;
    c.id = --next_queued_id_;
    c.mapping = m.name;
    c.table = m.table.display();
    c.key = k;
    queue.push_back(std::move(c));
  }
  return {};
}

Result<std::vector<model::Change>> DryRunDatabase::claim_changes(const mapping::Mapping& m, std::size_t limit,
                                                                 std::int64_t, const std::string&) {
  // Each change once: the next "claim" goes on after the last one handed out.
  auto& up_to = listed_up_to_[m.name];
  auto page = real_.list_pending(m, up_to, limit);
  if (!page.ok() || !page->empty()) {
    if (page.ok()) up_to = page->back().id;
    return page;
  }
  auto& queue = queued_[m.name];
  const auto n = std::min(limit, queue.size());
  std::vector<model::Change> out(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.begin() + n));
  queue.erase(queue.begin(), queue.begin() + n);
  return out;
}

// Keeps the row as read (the "before" of a planned update) and lays the
// planned writes over it.
void DryRunDatabase::remember(const mapping::Mapping& m, Row& row) {
  const std::string id = m.name + "/" + row.key.encoded();
  rows_.emplace(id, row.fields);
  if (auto w = written_.find(id); w != written_.end())
    for (const auto& [c, v] : w->second) row.fields[c] = v;
}

std::string DryRunDatabase::target(const mapping::Mapping& m, const model::RecordKey& key) const {
  std::string out = m.table.display() + " ";
  for (std::size_t i = 0; i < m.key.size() && i < key.parts.size(); ++i)
    out += (i ? "," : "") + m.key[i] + "=" + key.parts[i];
  return out;
}

Result<std::map<std::string, Row>> DryRunDatabase::read_rows(const mapping::Mapping& m,
                                                             const std::vector<model::RecordKey>& keys) {
  auto rows = real_.read_rows(m, keys);
  if (!rows.ok()) return rows;
  for (auto it = rows->begin(); it != rows->end();) {
    if (deleted_.count(m.name + "/" + it->first)) {
      it = rows->erase(it);
      continue;
    }
    remember(m, it->second);
    ++it;
  }
  return rows;
}

Status DryRunDatabase::scan_rows(const mapping::Mapping& m, const model::RecordKey& after, std::size_t batch,
                                 const std::function<Status(std::vector<Row>&)>& fn) {
  return real_.scan_rows(m, after, batch, [&](std::vector<Row>& rows) {
    for (auto& r : rows) remember(m, r);
    return fn(rows);
  });
}

Result<std::vector<Row>> DryRunDatabase::read_rows_by(const mapping::Mapping& m, const std::string& column,
                                                      const std::vector<std::string>& values, bool fold_case) {
  auto rows = real_.read_rows_by(m, column, values, fold_case);
  if (rows.ok())
    for (auto& r : *rows) remember(m, r);
  return rows;
}

Status DryRunDatabase::apply_hubspot_deletes(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) {
  if (m.deletes != mapping::DeletePolicy::soft) return delete_rows(m, keys);
  for (const auto& k : keys)
    plan_.changes.push_back({"postgres", "update", target(m, k), {{m.soft_delete_column, std::nullopt, "(deleted)"}}});
  return {};
}

Result<std::vector<RowApplied>> DryRunDatabase::apply_rows(const mapping::Mapping& m,
                                                           const std::vector<RowWrite>& writes) {
  std::vector<RowApplied> out;
  for (const auto& w : writes) {
    model::RecordKey key;
    if (w.key) {
      key = *w.key;
    } else {
      // As Postgres would make it: the key columns given, or a stand-in.
      for (const auto& k : m.key) {
        auto v = w.values.find(k);
        key.parts.push_back(v != w.values.end() && !v->second.is_null() ? v->second.canonical()
                                                                        : "(new " + std::to_string(++next_insert_) + ")");
      }
    }
    const std::string id = m.name + "/" + key.encoded();
    const auto known = rows_.find(id);
    plan_.changes.push_back({"postgres", w.key ? "update" : "create", target(m, key),
                             fields_of(w.values, known == rows_.end() ? nullptr : &known->second)});
    for (const auto& [c, v] : w.values) written_[id][c] = v;
    out.push_back({key, std::nullopt, {}, {}});
  }
  return out;
}

Status DryRunDatabase::delete_rows(const mapping::Mapping& m, const std::vector<model::RecordKey>& keys) {
  for (const auto& k : keys) {
    plan_.changes.push_back({"postgres", "delete", target(m, k), {}});
    deleted_.insert(m.name + "/" + k.encoded());
  }
  return {};
}

// --- HubSpot ---------------------------------------------------------------

void DryRunCrm::remember(const std::string& type, const model::Record& r) {
  std::lock_guard lock(seen_mu_);
  seen_[type + "/" + r.hubspot_id] = r.fields;
}

std::optional<model::Fields> DryRunCrm::known(const std::string& key) {
  std::lock_guard lock(seen_mu_);
  auto it = seen_.find(key);
  return it == seen_.end() ? std::nullopt : std::optional<model::Fields>(it->second);
}

void DryRunCrm::written(const std::string& key, const model::Fields& properties) {
  std::lock_guard lock(seen_mu_);
  for (const auto& [name, v] : properties) written_[key][name] = v;
}

void DryRunCrm::overlay(const std::string& type, model::Record& r) {
  std::lock_guard lock(seen_mu_);
  auto w = written_.find(type + "/" + r.hubspot_id);
  if (w == written_.end()) return;
  for (const auto& [name, v] : w->second) r.fields[name] = v;
}

Result<std::vector<ReadOutcome>> DryRunCrm::read_objects(const std::string& type, const std::vector<std::string>& ids,
                                                         const ReadRequest& request) {
  auto out = real_.read_objects(type, ids, request);
  if (out.ok())
    for (auto& o : *out)
      if (o.record) {
        remember(type, *o.record);
        overlay(type, *o.record);
      }
  return out;
}

Result<SweepPage> DryRunCrm::sweep(const std::string& type, const SweepCursor& from,
                                   const std::vector<std::string>& properties, int page_size,
                                   const std::vector<mapping::HubspotFilter>& filters) {
  auto page = real_.sweep(type, from, properties, page_size, filters);
  if (page.ok())
    for (auto& r : page->records) {
      remember(type, r);
      overlay(type, r);
    }
  return page;
}

Result<std::vector<WriteOutcome>> DryRunCrm::upsert(const std::string& type, const std::string& id_property,
                                                    const std::vector<UpsertInput>& inputs) {
  // Whether each would create or update: HubSpot is asked by match value.
  std::vector<std::string> values;
  for (const auto& in : inputs) values.push_back(in.match_value);
  auto found = real_.read_objects(type, values, ReadRequest{{id_property}, {}, id_property, false});
  if (!found.ok()) return std::move(found).error();
  std::vector<WriteOutcome> out;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& f = (*found)[i];
    WriteOutcome o;
    o.created = !f.record;
    o.hubspot_id = f.record ? f.record->hubspot_id : "(new " + std::to_string(++next_id_) + ")";
    const auto read = known(type + "/" + o.hubspot_id);
    plan_.changes.push_back({"hubspot", o.created ? "create" : "update",
                             type + " " + id_property + "=" + inputs[i].match_value,
                             fields_of(inputs[i].properties, read ? &*read : nullptr)});
    if (!o.created) written(type + "/" + o.hubspot_id, inputs[i].properties);
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<WriteOutcome>> DryRunCrm::update(const std::string& type, const std::vector<UpdateInput>& inputs) {
  std::vector<WriteOutcome> out;
  for (const auto& in : inputs) {
    const auto read = known(type + "/" + in.id);
    plan_.changes.push_back({"hubspot", "update", type + " " + in.id, fields_of(in.properties, read ? &*read : nullptr)});
    written(type + "/" + in.id, in.properties);
    WriteOutcome o;
    o.hubspot_id = in.id;
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<WriteOutcome>> DryRunCrm::archive(const std::string& type, const std::vector<std::string>& ids) {
  std::vector<WriteOutcome> out;
  for (const auto& id : ids) {
    plan_.changes.push_back({"hubspot", "archive", type + " " + id, {}});
    WriteOutcome o;
    o.hubspot_id = id;
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<WriteOutcome>> DryRunCrm::associate(const std::string& from_type, const std::string& to_type,
                                                       const std::vector<AssociationInput>& inputs) {
  std::vector<WriteOutcome> out;
  for (const auto& in : inputs) {
    plan_.changes.push_back({"hubspot", "associate", from_type + " " + in.from_id + " -> " + to_type + " " + in.to_id, {}});
    WriteOutcome o;
    o.hubspot_id = in.from_id;
    out.push_back(std::move(o));
  }
  return out;
}

Status DryRunCrm::unassociate(const std::string& from_type, const std::string& to_type,
                              const std::vector<std::pair<std::string, std::string>>& pairs) {
  for (const auto& [from, to] : pairs)
    plan_.changes.push_back({"hubspot", "unassociate", from_type + " " + from + " -> " + to_type + " " + to, {}});
  return {};
}

Status DryRunCrm::unassociate_types(const std::string& from_type, const std::string& to_type,
                                    const std::vector<AssociationInput>& inputs) {
  for (const auto& in : inputs)
    plan_.changes.push_back({"hubspot", "unassociate", from_type + " " + in.from_id + " -> " + to_type + " " + in.to_id, {}});
  return {};
}

}  // namespace hubsync::pipeline
