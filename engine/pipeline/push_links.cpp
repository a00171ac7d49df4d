// Link mappings: each row of a link table is one association between two
// mapped objects. Inserting the row associates them, deleting it removes the
// association (only its type); the synced base holds the pair last written.
#include "engine/pipeline/push.h"
#include "engine/pipeline/push_item.h"

namespace hubsync::pipeline {

using model::ErrorKind;
using model::Status;

namespace {
constexpr const char* kFromId = "from_id";
constexpr const char* kToId = "to_id";

std::string base_of(const state::SyncedFields& base, const char* field) {
  auto f = base.find(field);
  return f == base.end() ? std::string() : f->second.value.value_or("");
}
}  // namespace

Status Pusher::process_links(std::vector<Item>& items, PushStats& stats) {
  const mapping::LinkMapping& link = *m_.link;
  auto from_it = all_.find(link.from_mapping);
  auto to_it = all_.find(link.to_mapping);
  if (from_it == all_.end() || to_it == all_.end())
    return model::make_error(ErrorKind::fatal, "mapping " + m_.name + ": link ends " +
                                                   link.from_mapping + " / " + link.to_mapping +
                                                   " are not loaded mappings");
  const mapping::Mapping& from = *from_it->second;
  const mapping::Mapping& to = *to_it->second;
  auto type = types_.get(m_.name, from.object.path(), to.object.path(), link.type_id, link.type_label);
  if (!type.ok()) return std::move(type).error();

  Batch b{items, stats, clock_.wall_ms(), {}, {}, {}, {}, {}, {}, {}, {}};
  if (auto st = load_links(b); !st.ok()) return st;
  std::vector<AssociationInput> creates, removes;
  std::vector<std::pair<std::size_t, AssociationInput>> pending;  // item -> pair to record
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    const std::string base_from = base_of(it.base, kFromId), base_to = base_of(it.base, kToId);
    if (!it.row || !it.row->in_filter) {
      if (!base_from.empty() && !base_to.empty() && m_.deletes != mapping::DeletePolicy::ignore) {
        removes.push_back({base_from, base_to, *type});
        b.removed.push_back(it.pg_key);
        it.outcome = ChangeOutcome::archived;
        ++stats.archived;
      } else if (it.row) {
        it.outcome = ChangeOutcome::filtered;
        ++stats.filtered;
      } else {
        mark_unchanged(it, stats);
      }
      continue;
    }
    // An end with no HubSpot object yet (not pushed, filtered or failed)
    // waits rather than drop the association.
    auto from_id = parent_id(b, it, from, link.from_column);
    if (!from_id.ok()) return std::move(from_id).error();
    if (!*from_id) continue;
    auto to_id = parent_id(b, it, to, link.to_column);
    if (!to_id.ok()) return std::move(to_id).error();
    if (!*to_id) continue;
    if ((*from_id)->empty() || (*to_id)->empty()) {
      // A NULL end: nothing to associate.
      it.outcome = ChangeOutcome::filtered;
      ++stats.filtered;
      continue;
    }
    if (**from_id == base_from && **to_id == base_to) {
      mark_unchanged(it, stats);
      continue;
    }
    if (!base_from.empty() && !base_to.empty()) removes.push_back({base_from, base_to, *type});
    AssociationInput in{**from_id, **to_id, *type};
    creates.push_back(in);
    pending.emplace_back(i, in);
  }

  if (!removes.empty())
    if (auto st = crm_.unassociate_types(from.object.path(), to.object.path(), removes); !st.ok())
      return st;
  if (!creates.empty()) {
    auto out = crm_.associate(from.object.path(), to.object.path(), creates);
    if (!out.ok()) return std::move(out).error();
    for (std::size_t k = 0; k < pending.size(); ++k) {
      Item& it = items[pending[k].first];
      const auto& in = pending[k].second;
      const auto& o = (*out)[k];
      if (o.ok()) {
        it.outcome = ChangeOutcome::synced;
        ++stats.associations;
        b.records.push_back({it.pg_key, "",
                             {{kFromId, state::SyncedField{in.from_id, it.times.newest, b.now}},
                              {kToId, state::SyncedField{in.to_id, it.times.newest, b.now}}}});
      } else if (o.error->retryable()) {
        it.retry_later = true;
        it.retry_delay_ms = opt_.transient_retry_ms;
        ++stats.retried;
        stats.unreachable = *o.error;
      } else {
        dead_letter(b, it, *o.error,
                    "{\"from\":" + model::json_quote(in.from_id) + ",\"to\":" + model::json_quote(in.to_id) + "}");
      }
    }
  }
  return finish(b);
}

}  // namespace hubsync::pipeline
