// Associations of object mappings: a foreign-key column becomes an
// association of one type; changing the key moves it, removing only that
// type (labels people added in HubSpot stay).
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"
#include "engine/pipeline/sync_helpers.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Result;
using model::Status;

// The HubSpot id of the row `column` points at: "" when the column is NULL,
// nullopt when that row has no object yet. Then the row waits (retried
// later), and after opt_.max_defers tries it is dead-lettered saying which
// row it waits for, so it never waits in silence.
Result<std::optional<std::string>> Pusher::parent_id(Batch& b, Item& it,
                                                     const mapping::Mapping& parent,
                                                     const std::string& column) {
  auto ref = it.row->ref_keys.find(column);
  if (ref == it.row->ref_keys.end() || !ref->second) return std::optional<std::string>("");
  auto link = state_.find_link_by_pg_key(parent.name, *ref->second);
  if (!link.ok()) return std::move(link).error();
  if (*link) return std::optional<std::string>((*link)->hubspot_id);
  const std::string parent_row = parent.key.size() == 1 ? parent.key[0] + "=" + *ref->second
                                                        : "key " + *ref->second;
  if (it.attempts >= opt_.max_defers) {
    auto e = model::make_error(ErrorKind::transient,
                               column + " points at " + parent.name + " row " + parent_row +
                                   ", which has no HubSpot object (not pushed yet, outside its "
                                   "filter, deleted or dead-lettered); waited " +
                                   std::to_string(it.attempts) + " tries");
    e.category = "PARENT_NOT_SYNCED";
    dead_letter(b, it, e, "{\"association\":" + model::json_quote(column) + "}");
  } else {
    it.retry_later = true;
    it.retry_delay_ms = opt_.defer_ms;
    ++b.stats.deferred;
    log_->debug("association waits for its parent mapping={} key={} parent={}:{}", m_.name,
                it.pg_key, parent.name, *ref->second);
  }
  return std::optional<std::string>();
}

Status Pusher::push_associations(Batch& b) {
  for (const auto& a : m_.associations) {
    if (!mapping::writes_hubspot(a.direction)) continue;
    auto target = all_.find(a.to_mapping);
    if (target == all_.end()) continue;  // validate_set reports it
    const mapping::Mapping& to = *target->second;
    auto type = types_.get(m_.name, m_.object.path(), to.object.path(), a.type_id, a.type_label);
    if (!type.ok()) return std::move(type).error();

    std::vector<AssociationInput> creates, removes;
    std::vector<std::pair<std::size_t, std::string>> pending;  // item, target id
    const std::string field = assoc_field(a.column);
    for (std::size_t i = 0; i < b.items.size(); ++i) {
      Item& it = b.items[i];
      if (!it.row || it.retry_later || !it.outcome || it.hubspot_id.empty()) continue;
      if (*it.outcome != ChangeOutcome::synced && *it.outcome != ChangeOutcome::unchanged) continue;
      auto to_id = parent_id(b, it, to, a.column);
      if (!to_id.ok()) return std::move(to_id).error();
      if (!*to_id) continue;
      // The same merge as the fields, HubSpot's pair taken as the base's
      // (the pull reads and reconciles HubSpot's side).
      reconcile::FieldState fs;
      if (auto f = it.base.find(field); f != it.base.end()) fs.base = f->second.value.value_or("");
      fs.pg = **to_id;
      if (reconcile::decide(fs, a.direction, m_.conflict).action != reconcile::Action::write_hubspot) continue;
      const std::string base = fs.base.value_or("");
      if (!base.empty()) removes.push_back({it.hubspot_id, base, *type});
      if (!(*to_id)->empty()) creates.push_back({it.hubspot_id, **to_id, *type});
      pending.emplace_back(i, **to_id);
    }
    if (!removes.empty())
      if (auto st = crm_.unassociate_types(m_.object.path(), to.object.path(), removes); !st.ok())
        return st;
    std::vector<WriteOutcome> outcomes;
    if (!creates.empty()) {
      auto out = crm_.associate(m_.object.path(), to.object.path(), creates);
      if (!out.ok()) return std::move(out).error();
      outcomes = std::move(*out);
    }
    std::size_t next = 0;
    for (const auto& [i, to_id] : pending) {
      Item& it = b.items[i];
      if (!to_id.empty()) {
        const auto& o = outcomes.at(next++);
        if (!o.ok()) {
          if (o.error->retryable()) {
            it.retry_later = true;
            it.retry_delay_ms = opt_.transient_retry_ms;
            ++b.stats.retried;
            b.stats.unreachable = *o.error;
          } else {
            // The row itself synced; its association did not: keep that
            // visible as a dead letter rather than losing it.
            dead_letter(b, it, *o.error, "{\"association\":" + model::json_quote(a.column) + "}");
          }
          continue;
        }
        ++b.stats.associations;
      }
      std::optional<std::string> value;
      if (!to_id.empty()) value = to_id;
      b.records.push_back({it.pg_key, "", {{field, state::SyncedField{value, it.times.of({a.column}), b.now}}}});
    }
  }
  return {};
}

}  // namespace hubsync::pipeline
