#include "engine/actions/runner.h"

#include <spdlog/spdlog.h>

#include "engine/mapping/property_value.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::actions {

using model::ErrorKind;

Outputs outcome(const char* state, const std::string& what, const std::string& reason) {
  Outputs o{{kExecutionState, state}, {kOutcome, what}};
  if (!reason.empty()) o[kReason] = reason;
  return o;
}

namespace {

constexpr const char* kSuccess = "SUCCESS";
constexpr const char* kFail = "FAIL_CONTINUE";

bool unreachable(const model::Error& e) {
  return e.kind == ErrorKind::transient || e.kind == ErrorKind::rate_limited;
}

// Why a linked row is no longer one the sync writes, as the pull takes it
// (soft-deleted, or outside filter.postgres, whatever filter.leaving says);
// "" while it is. An action neither reads nor writes such a row.
std::string left_the_sync(const mapping::Mapping& m, const pipeline::Row& row) {
  if (pipeline::soft_deleted(m, row))
    return "the linked row of " + m.table.display() + " is soft-deleted (" + m.soft_delete_column + ")";
  if (!row.in_filter) return "the linked row of " + m.table.display() + " is outside the mapping's filter.postgres";
  return {};
}

}  // namespace

Runner::Runner(RunnerDeps deps) : d_(std::move(deps)) {}

model::Result<Outputs> Runner::run(const mapping::Mapping& m, const mapping::ActionSpec& a,
                                   const ActionRequest& r) {
  if (a.kind == mapping::ActionKind::sync_now) return sync_now(m, r);
  auto key = linked_key(m, r.object_id);
  if (!key) return std::move(key).error();
  if (!*key) {
    Outputs o = outcome(kSuccess, "not_linked", "the object is not linked to a row of " + m.table.display());
    if (a.kind == mapping::ActionKind::lookup) o.erase(kReason);
    return o;
  }
  if (a.kind == mapping::ActionKind::lookup) return lookup(m, a, **key);
  return write(m, a, r, **key);
}

model::Result<std::optional<std::string>> Runner::linked_key(const mapping::Mapping& m,
                                                             const std::string& object_id) {
  auto link = d_.store.find_link_by_hubspot_id(m.name, object_id);
  if (!link) return std::move(link).error();
  if (!*link) return std::optional<std::string>{};
  return std::optional<std::string>((*link)->pg_key);
}

model::Result<Outputs> Runner::lookup(const mapping::Mapping& m, const mapping::ActionSpec& a,
                                      const std::string& key) {
  auto k = model::RecordKey::decode(key, m.key.size());
  if (!k) return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": unreadable link key " + key);
  auto rows = d_.db.read_rows(m, {*k});
  if (!rows) return std::move(rows).error();
  auto it = rows->find(key);
  if (it == rows->end() || !left_the_sync(m, it->second).empty()) return outcome(kSuccess, "not_linked");
  Outputs o = outcome(kSuccess, "found");
  for (const auto& id : a.fields) {
    const mapping::FieldMapping* f = m.field(id);
    if (f == nullptr) continue;
    auto values = f->push(it->second.fields);
    if (!values) return outcome(kFail, "found", values.error().message);
    for (std::size_t i = 0; i < f->properties.size() && i < values->size(); ++i)
      o[f->properties[i]] = (*values)[i];
  }
  return o;
}

// What a write changes, decided on the row as read.
struct WritePlan {
  model::Fields changed;  // column -> new value, where it differs from the row
  model::Fields after;    // the row's mapped columns once written
  std::vector<const mapping::FieldMapping*> pushed;  // changed fields that sync both ways
  std::string rejected;   // why the inputs cannot be written at all
};

namespace {

// A field's error named by the property its input came in as, as
// hubspot_problem names it: "field score (property hubsync_score): ...".
std::string input_problem(const mapping::FieldMapping& f, const std::string& message) {
  const std::string prefix = "field " + f.id + ": ";
  const std::string why = message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
  std::string props;
  for (const auto& p : f.properties) props += (props.empty() ? "" : ", ") + p;
  return "field " + f.id + (f.properties.size() > 1 ? " (properties " : " (property ") + props + "): " + why;
}

WritePlan plan_write(const mapping::Mapping& m, const mapping::ActionSpec& a, const ActionRequest& r,
                     const pipeline::Row& row) {
  WritePlan plan;
  plan.after = row.fields;
  for (const auto& id : a.fields) {
    const mapping::FieldMapping* f = m.field(id);
    if (f == nullptr) continue;
    mapping::Properties props;
    for (const auto& p : f->properties) {
      auto in = r.inputs.find(p);
      if (in == r.inputs.end()) return WritePlan{{}, {}, {}, "input field " + p + " is missing"};
      props[p] = in->second;
    }
    auto values = f->pull(props);
    if (!values) return WritePlan{{}, {}, {}, input_problem(*f, values.error().message)};
    bool changed = false;
    for (std::size_t i = 0; i < f->columns.size() && i < values->size(); ++i) {
      auto cur = row.fields.find(f->columns[i]);
      if (cur != row.fields.end() && cur->second == (*values)[i]) continue;
      plan.changed[f->columns[i]] = plan.after[f->columns[i]] = (*values)[i];
      changed = true;
    }
    if (changed && f->direction == mapping::Direction::both) plan.pushed.push_back(f);
  }
  return plan;
}

// Why HubSpot would refuse what the push sends for `plan`'s fields, or "".
std::string hubspot_problem(const WritePlan& plan, const PropertyMap& known) {
  for (const mapping::FieldMapping* f : plan.pushed) {
    auto values = f->push(plan.after);  // what the push will send, through the same transforms
    if (!values) return values.error().message;
    for (std::size_t i = 0; i < f->properties.size() && i < values->size(); ++i) {
      const std::string& name = f->properties[i];
      auto p = known.find(name);
      if (p == known.end()) return "field " + f->id + ": property " + name + " does not exist in HubSpot";
      const auto why = mapping::property_value_problem(p->second.type, p->second.field_type, p->second.options,
                                                       (*values)[i]);
      if (!why.empty()) return "field " + f->id + " (property " + name + "): " + why + "; HubSpot would refuse it";
    }
  }
  return {};
}

}  // namespace

model::Result<std::string> Runner::refused_by_hubspot(const mapping::Mapping& m, const WritePlan& plan) {
  if (plan.pushed.empty() || d_.properties == nullptr) return std::string();
  for (const bool fresh : {false, true}) {
    auto known = d_.properties->of(m, fresh);
    if (!known && known.error().kind == ErrorKind::invalid_record) return known.error().message;
    if (!known) return std::move(known).error();
    auto why = hubspot_problem(plan, **known);
    if (why.empty() || fresh) return why;
  }
  return std::string();
}

model::Result<Outputs> Runner::write(const mapping::Mapping& m, const mapping::ActionSpec& a,
                                     const ActionRequest& r, const std::string& key) {
  auto k = model::RecordKey::decode(key, m.key.size());
  if (!k) return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": unreadable link key " + key);
  // The answer and the columns written are decided on the row as read; a
  // row another writer changed in between is decided again, once, from a
  // fresh read. Changed again: HubSpot retries the call.
  auto out = write_once(m, a, r, *k);
  if (out || out.error().category != "ROW_CHANGED") return out;
  d_.log->info("action write mapping={} key={}: the row changed after it was read; deciding again", m.name, key);
  out = write_once(m, a, r, *k);
  if (out || out.error().category != "ROW_CHANGED") return out;
  auto e = model::make_error(ErrorKind::conflict, m.table.display() + ": the linked row changed twice while the "
                                                  "write was decided; nothing was written (HubSpot retries it)");
  e.category = "ROW_CHANGED";
  return e;
}

model::Result<Outputs> Runner::write_once(const mapping::Mapping& m, const mapping::ActionSpec& a,
                                          const ActionRequest& r, const model::RecordKey& k) {
  auto rows = d_.db.read_rows(m, {k});
  if (!rows) return std::move(rows).error();
  auto row = rows->find(k.encoded());
  if (row == rows->end()) return outcome(kSuccess, "not_linked", "the linked row no longer exists");
  if (auto why = left_the_sync(m, row->second); !why.empty()) return outcome(kSuccess, "not_linked", why);
  const WritePlan plan = plan_write(m, a, r, row->second);
  if (!plan.rejected.empty()) return outcome(kFail, "rejected", plan.rejected);
  if (plan.changed.empty()) return outcome(kSuccess, "unchanged");
  // A value HubSpot would refuse is not written: the push would send it,
  // and HubSpot's refusal would dead-letter the row with the rest of it.
  auto refused = refused_by_hubspot(m, plan);
  if (!refused) return std::move(refused).error();
  if (!refused->empty()) return outcome(kFail, "rejected", *refused);
  // The write bypasses capture (hubsync's origin); a two-way column's new
  // value still has to reach HubSpot: the row is queued for the push in the
  // write's own transaction. Queued apart, a failed enqueue would leave the
  // row written and never pushed (HubSpot's retry then finds it unchanged).
  const bool push = !plan.pushed.empty();
  auto applied = d_.db.apply_rows(m, {pipeline::RowWrite{k, plan.changed, row->second.version, push}});
  if (!applied) return std::move(applied).error();
  if (!applied->empty() && applied->front().error) {
    const model::Error& e = *applied->front().error;
    if (e.category == "ROW_CHANGED") return e;
    return outcome(kFail, "rejected", e.message);
  }
  if (push && d_.push_soon) d_.push_soon(m.name);
  d_.log->info("action write mapping={} key={} columns={}", m.name, k.encoded(), plan.changed.size());
  return outcome(kSuccess, "written");
}

std::string Runner::dead_letter_reason(const mapping::Mapping& m, const std::string& object_id) {
  state::DeadLetterFilter f;
  f.mapping = m.name;
  f.direction = state::Direction::to_postgres;
  f.status = state::DeadLetterStatus::pending;
  f.limit = 1000;
  auto letters = d_.store.list_dead_letters(f);
  if (!letters) return "dead-lettered";
  for (const auto& dl : *letters)
    if (dl.hubspot_id == object_id) return dl.message;
  return "dead-lettered";
}

model::Result<Outputs> Runner::sync_now(const mapping::Mapping& m, const ActionRequest& r) {
  pipeline::PullStats pulled;
  if (m.pulls()) {
    pipeline::Puller puller(m, d_.mappings, d_.db, d_.crm, d_.store, d_.clock, d_.log, d_.pull);
    auto s = puller.pull_ids({r.object_id});
    if (!s) return std::move(s).error();
    if (s->unreachable) return *s->unreachable;
    pulled = *s;
  }
  if (pulled.dead_lettered > 0) return outcome(kFail, "dead_lettered", dead_letter_reason(m, r.object_id));
  auto key = linked_key(m, r.object_id);
  if (!key) return std::move(key).error();
  if (!*key) {
    const std::string why = pulled.filtered > 0 ? "the object is outside the mapping's HubSpot filter"
                                                : "the object is not linked to a row of " + m.table.display();
    return outcome(kSuccess, "not_linked", why);
  }
  bool pushed = false;
  if (m.pushes()) {
    auto k = model::RecordKey::decode(**key, m.key.size());
    if (!k) return model::make_error(ErrorKind::fatal, "mapping " + m.name + ": unreadable link key " + **key);
    auto pending = d_.db.pending_change_times(m, {*k});
    if (!pending) return std::move(pending).error();
    pipeline::Pusher pusher(m, d_.mappings, d_.db, d_.crm, d_.store, d_.clock, d_.log, d_.push);
    auto s = pusher.run();
    if (!s) return std::move(s).error();
    if (s->unreachable && unreachable(*s->unreachable)) return *s->unreachable;
    pushed = !pending->empty() && s->pushed() > 0;
  }
  const bool wrote = pulled.created + pulled.updated + pulled.linked + pulled.deleted + pulled.hubspot_updates +
                         pulled.associations > 0 || pushed;
  return outcome(kSuccess, wrote ? "synced" : "unchanged");
}

}  // namespace hubsync::actions
