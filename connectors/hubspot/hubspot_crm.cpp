#include "connectors/hubspot/hubspot_crm.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <unordered_map>
#include <spdlog/spdlog.h>

#include "connectors/hubspot/codec.h"
#include "connectors/hubspot/sweep_filters.h"
#include "engine/model/value.h"

namespace hubsync::hubspot {

namespace {

using Indices = std::vector<std::size_t>;
template <class Outcome>
using ChunkSender = std::function<model::Result<std::vector<Outcome>>(const Indices&)>;

bool whole_call(const model::Error& e) {
  return e.kind == model::ErrorKind::auth || e.kind == model::ErrorKind::fatal;
}

// Sends `idx`; a chunk HubSpot rejects as a whole for a record's sake is
// halved until the offending inputs stand alone.
model::Result<std::vector<pipeline::WriteOutcome>> isolate(const ChunkSender<pipeline::WriteOutcome>& send,
                                                           const Indices& idx) {
  auto r = send(idx);
  if (r.ok() || idx.size() < 2) return r;
  const auto kind = r.error().kind;
  if (kind != model::ErrorKind::invalid_record && kind != model::ErrorKind::conflict) return r;
  const Indices left(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2));
  const Indices right(idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2), idx.end());
  auto a = isolate(send, left);
  if (!a.ok()) return a;
  auto b = isolate(send, right);
  if (!b.ok()) return b;
  a->insert(a->end(), std::make_move_iterator(b->begin()), std::make_move_iterator(b->end()));
  return a;
}

// Runs `send` over chunks of `chunk` inputs concurrently and assembles
// outcomes in input order. Retryable chunk failures land on the chunk's
// inputs; auth and fatal ones fail the call.
template <class Outcome, class Send>
model::Result<std::vector<Outcome>> fan_out(HubSpotClient& client, std::size_t n, std::size_t chunk, Send&& send,
                                            bool bisect) {
  std::vector<Outcome> out(n);
  const std::size_t chunks = (n + chunk - 1) / chunk;
  std::vector<std::optional<model::Error>> failed(chunks);
  ChunkSender<Outcome> sender = send;
  client.run_parallel(chunks, [&](std::size_t c) {
    Indices idx;
    for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) idx.push_back(i);
    model::Result<std::vector<Outcome>> r = [&]() -> model::Result<std::vector<Outcome>> {
      if constexpr (std::is_same_v<Outcome, pipeline::WriteOutcome>) {
        if (bisect) return isolate(sender, idx);
      }
      return sender(idx);
    }();
    if (!r.ok()) {
      if (whole_call(r.error())) {
        failed[c] = r.error();
        return;
      }
      for (auto i : idx) out[i].error = r.error();
      return;
    }
    // isolate() returns outcomes in idx order.
    for (std::size_t k = 0; k < idx.size() && k < r->size(); ++k) out[idx[k]] = std::move((*r)[k]);
  });
  for (auto& f : failed)
    if (f) return *f;
  return out;
}

// Runs `send(begin, end)` over chunks of `chunk` inputs concurrently; the
// first failure (in chunk order) is the answer.
model::Status for_each_chunk(HubSpotClient& client, std::size_t n, std::size_t chunk,
                             const std::function<model::Status(std::size_t, std::size_t)>& send) {
  std::vector<std::optional<model::Error>> failed((n + chunk - 1) / chunk);
  client.run_parallel(failed.size(), [&](std::size_t c) {
    auto s = send(c * chunk, std::min(n, (c + 1) * chunk));
    if (!s.ok()) failed[c] = s.error();
  });
  for (auto& f : failed)
    if (f) return *f;
  return {};
}

}  // namespace

HubSpotCrm::HubSpotCrm(HubSpotClient& client)
    : client_(client), objects_(client), search_(client), associations_(client), properties_(client) {}

model::Result<std::vector<pipeline::WriteOutcome>> HubSpotCrm::upsert(const std::string& type,
                                                                      const std::string& id_property,
                                                                      const std::vector<pipeline::UpsertInput>& inputs) {
  auto send = [&](const Indices& idx) {
    std::vector<pipeline::UpsertInput> chunk;
    chunk.reserve(idx.size());
    for (auto i : idx) chunk.push_back(inputs[i]);
    return objects_.batch_upsert(type, id_property, chunk);
  };
  return fan_out<pipeline::WriteOutcome>(client_, inputs.size(), kMaxBatchInputs, send, true);
}

model::Result<std::vector<pipeline::WriteOutcome>> HubSpotCrm::update(const std::string& type,
                                                                      const std::vector<pipeline::UpdateInput>& inputs) {
  auto send = [&](const Indices& idx) {
    std::vector<pipeline::UpdateInput> chunk;
    chunk.reserve(idx.size());
    for (auto i : idx) chunk.push_back(inputs[i]);
    return objects_.batch_update(type, chunk);
  };
  return fan_out<pipeline::WriteOutcome>(client_, inputs.size(), kMaxBatchInputs, send, true);
}

model::Result<std::vector<pipeline::WriteOutcome>> HubSpotCrm::archive(const std::string& type,
                                                                       const std::vector<std::string>& ids) {
  auto send = [&](const Indices& idx) {
    std::vector<std::string> chunk;
    for (auto i : idx) chunk.push_back(ids[i]);
    return objects_.batch_archive(type, chunk);
  };
  return fan_out<pipeline::WriteOutcome>(client_, ids.size(), kMaxBatchInputs, send, true);
}

model::Result<std::vector<pipeline::ReadOutcome>> HubSpotCrm::read_objects(const std::string& type,
                                                                           const std::vector<std::string>& ids,
                                                                           const pipeline::ReadRequest& request) {
  // Repeated ids share one lookup; emails repeat in any case.
  const bool fold = codec::case_insensitive(request.id_property);
  std::vector<std::string> distinct;
  std::vector<std::size_t> slot(ids.size());
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto [it, fresh] = seen.emplace(fold ? codec::lower(ids[i]) : ids[i], distinct.size());
    if (fresh) distinct.push_back(ids[i]);
    slot[i] = it->second;
  }
  auto found = read_batches(type, distinct, request);
  if (!found.ok()) return std::move(found).error();
  if (follow_merges_ && request.id_property.empty() && !request.archived)
    if (auto st = follow_merges(type, distinct, request, *found); !st.ok()) return st.error();
  std::vector<pipeline::ReadOutcome> out;
  out.reserve(ids.size());
  for (auto s : slot) out.push_back((*found)[s]);
  return out;
}

model::Result<std::vector<pipeline::ReadOutcome>> HubSpotCrm::read_batches(const std::string& type,
                                                                           const std::vector<std::string>& ids,
                                                                           const pipeline::ReadRequest& request) {
  auto send = [&](const Indices& idx) {
    std::vector<std::string> chunk;
    for (auto i : idx) chunk.push_back(ids[i]);
    return objects_.batch_read(type, chunk, request);
  };
  const std::size_t chunk = request.history.empty() ? kMaxBatchInputs : kMaxHistoryBatchInputs;
  return fan_out<pipeline::ReadOutcome>(client_, ids.size(), chunk, send, false);
}

model::Status HubSpotCrm::follow_merges(const std::string& type, const std::vector<std::string>& ids,
                                        const pipeline::ReadRequest& request,
                                        std::vector<pipeline::ReadOutcome>& out) {
  // An absorbed id may stop resolving; its survivor lists it in
  // hs_merged_object_ids. Look the missing ones up there, five per search
  // (one filter group each).
  std::vector<std::size_t> missing, resolved;
  bool reread = !request.history.empty();  // search carries no history
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!out[i].record && !out[i].error) missing.push_back(i);
  for (std::size_t start = 0; start < missing.size(); start += kMaxFilterGroups) {
    const std::size_t stop = std::min(missing.size(), start + kMaxFilterGroups);
    SearchRequest q;
    q.limit = 100;
    q.properties = request.properties;
    if (std::find(q.properties.begin(), q.properties.end(), "hs_merged_object_ids") == q.properties.end())
      q.properties.emplace_back("hs_merged_object_ids");
    for (std::size_t k = start; k < stop; ++k)
      q.filter_groups.push_back({{"hs_merged_object_ids", "CONTAINS_TOKEN", ids[missing[k]], {}, {}}});
    if (!SearchApi::fits(q)) {
      // Too many properties for one search body: find the survivors, then
      // read them by id.
      q.properties = {"hs_merged_object_ids"};
      reread = true;
    }
    auto page = search_.search(type, q);
    if (!page.ok()) {
      if (whole_call(page.error())) return page.error();
      for (std::size_t k = start; k < stop; ++k) out[missing[k]].error = page.error();
      continue;
    }
    for (const auto& rec : page->records) {
      auto m = rec.fields.find("hs_merged_object_ids");
      if (m == rec.fields.end() || m->second.is_null()) continue;
      for (const auto& absorbed : model::split_list(m->second.as_text()))
        for (std::size_t k = start; k < stop; ++k)
          if (ids[missing[k]] == absorbed && !out[missing[k]].record) {
            out[missing[k]].record = rec;
            out[missing[k]].merged_into = rec.hubspot_id;
            resolved.push_back(missing[k]);
          }
    }
  }
  if (!reread || resolved.empty()) return {};
  // Read the survivors again by their own ids: for their history, or for
  // the properties the search could not carry.
  std::vector<std::string> survivors;
  for (auto i : resolved) survivors.push_back(out[i].merged_into);
  auto again = read_batches(type, survivors, request);
  if (!again.ok()) return again.error();
  for (std::size_t j = 0; j < resolved.size(); ++j) {
    auto& o = out[resolved[j]];
    auto& a = (*again)[j];
    if (a.record) {
      o.record = std::move(a.record);
      o.history = std::move(a.history);
    } else {
      // Gone again (or unreadable) between the two calls: ask again later.
      o.record.reset();
      o.merged_into.clear();
      o.error = a.error ? *a.error
                        : model::make_error(model::ErrorKind::transient,
                                            "objects.read: merged survivor " + survivors[j] + " vanished");
    }
  }
  return {};
}

model::Result<pipeline::ArchivedPage> HubSpotCrm::list_archived(const std::string& type, const std::string& after,
                                                                const std::vector<std::string>& properties) {
  const bool in_url = fits_in_url(properties);
  auto page = objects_.list(type, in_url ? properties : std::vector<std::string>{}, after, kMaxListLimit, true);
  if (!page.ok()) return std::move(page).error();
  pipeline::ArchivedPage out;
  out.next_after = page->next_after;
  if (in_url) {
    out.records = std::move(page->records);
    return out;
  }
  // Too many properties for a URL: the page names the ids, batch/read
  // (archived=true) brings the values.
  std::vector<std::string> ids;
  for (const auto& r : page->records) ids.push_back(r.hubspot_id);
  auto read = read_objects(type, ids, pipeline::ReadRequest{properties, {}, "", true});
  if (!read.ok()) return std::move(read).error();
  for (auto& o : *read) {
    if (o.error) return *o.error;                            // retry the page
    if (o.record) out.records.push_back(std::move(*o.record));  // else restored since listed
  }
  return out;
}

model::Result<pipeline::SweepPage> HubSpotCrm::sweep(const std::string& type, const pipeline::SweepCursor& from,
                                                     const std::vector<std::string>& properties, int page_size,
                                                     const std::vector<mapping::HubspotFilter>& filters) {
  auto search_filters = sweep_filters(type, filters);
  if (!search_filters.ok()) return std::move(search_filters).error();
  auto swept = search_.sweep(type, from, properties, page_size, *search_filters);
  if (!swept.ok()) return std::move(swept).error();
  if (!swept->complete)
    if (auto st = read_rest(type, properties, swept->page.records); !st.ok()) return st.error();
  return std::move(swept->page);
}

model::Status HubSpotCrm::read_rest(const std::string& type, const std::vector<std::string>& properties,
                                    std::vector<model::Record>& records) {
  if (records.empty()) return {};
  const std::string lm = codec::last_modified_property(type);
  pipeline::ReadRequest request{properties, {}, "", false};
  for (const char* p : {lm.c_str(), "hs_merged_object_ids"})
    if (std::find(properties.begin(), properties.end(), p) == properties.end()) request.properties.emplace_back(p);
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.hubspot_id);
  auto read = read_batches(type, ids, request);
  if (!read.ok()) return std::move(read).error();
  std::vector<model::Record> out;
  for (auto& o : *read) {
    if (o.error) return *o.error;  // the page is asked for again
    // Archived or merged away since the search: the archive listing and the
    // survivor's own change (a merge modifies it) report those.
    if (!o.record || !o.merged_into.empty()) continue;
    codec::stamp_modified(*o.record, lm);
    out.push_back(std::move(*o.record));
  }
  records = std::move(out);
  return {};
}

model::Result<std::vector<Filter>> HubSpotCrm::sweep_filters(const std::string& type,
                                                             const std::vector<mapping::HubspotFilter>& filters) {
  std::vector<Filter> out;
  for (const auto& f : filters) {
    // Only an ISO value needs the property's type: HubSpot's search compares
    // date and datetime properties as epoch ms.
    if (!has_iso_time_value(f)) {
      out.push_back(to_search_filter(f, false));
      continue;
    }
    const auto key = std::make_pair(type, f.property);
    std::optional<std::string> kind;
    {
      std::lock_guard lock(mu_);
      if (auto it = property_types_.find(key); it != property_types_.end()) kind = it->second;
    }
    if (!kind) {
      auto def = properties_.get(type, f.property);
      if (!def.ok()) return std::move(def).error();
      kind = def->has_value() ? (*def)->type : std::string();
      std::lock_guard lock(mu_);
      property_types_[key] = *kind;
    }
    out.push_back(to_search_filter(f, *kind == "date" || *kind == "datetime"));
  }
  return out;
}

model::Result<std::vector<pipeline::WriteOutcome>> HubSpotCrm::associate(
    const std::string& from_type, const std::string& to_type, const std::vector<pipeline::AssociationInput>& inputs) {
  auto send = [&](const Indices& idx) {
    std::vector<pipeline::AssociationInput> chunk;
    for (auto i : idx) chunk.push_back(inputs[i]);
    return associations_.batch_create(from_type, to_type, chunk);
  };
  return fan_out<pipeline::WriteOutcome>(client_, inputs.size(), kMaxAssociationWrite, send, true);
}

model::Result<std::vector<pipeline::Associated>> HubSpotCrm::associations(const std::string& from_type,
                                                                          const std::string& to_type,
                                                                          const std::vector<std::string>& from_ids) {
  std::vector<pipeline::Associated> out;
  for (std::size_t start = 0; start < from_ids.size(); start += kMaxAssociationRead) {
    std::vector<std::string> chunk(from_ids.begin() + static_cast<std::ptrdiff_t>(start),
                                   from_ids.begin() + static_cast<std::ptrdiff_t>(std::min(from_ids.size(), start + kMaxAssociationRead)));
    auto r = associations_.batch_read(from_type, to_type, chunk);
    if (!r.ok()) return std::move(r).error();
    out.insert(out.end(), std::make_move_iterator(r->begin()), std::make_move_iterator(r->end()));
  }
  return out;
}

model::Status HubSpotCrm::unassociate(const std::string& from_type, const std::string& to_type,
                                      const std::vector<std::pair<std::string, std::string>>& pairs) {
  return for_each_chunk(client_, pairs.size(), kMaxAssociationWrite, [&](std::size_t b, std::size_t e) {
    return associations_.batch_archive(from_type, to_type,
                                       std::vector<std::pair<std::string, std::string>>(
                                           pairs.begin() + static_cast<std::ptrdiff_t>(b),
                                           pairs.begin() + static_cast<std::ptrdiff_t>(e)));
  });
}

model::Status HubSpotCrm::unassociate_types(const std::string& from_type, const std::string& to_type,
                                            const std::vector<pipeline::AssociationInput>& inputs) {
  return for_each_chunk(client_, inputs.size(), kMaxAssociationWrite, [&](std::size_t b, std::size_t e) {
    return associations_.batch_archive_labels(from_type, to_type,
                                              std::vector<pipeline::AssociationInput>(
                                                  inputs.begin() + static_cast<std::ptrdiff_t>(b),
                                                  inputs.begin() + static_cast<std::ptrdiff_t>(e)));
  });
}

model::Result<std::optional<pipeline::AssociationType>> HubSpotCrm::association_type(const std::string& from_type,
                                                                                     const std::string& to_type,
                                                                                     const std::string& label) {
  const auto key = std::make_pair(from_type, to_type);
  std::vector<pipeline::AssociationType> types;
  {
    std::lock_guard lock(mu_);
    if (auto it = labels_.find(key); it != labels_.end()) types = it->second;
  }
  if (types.empty()) {
    auto r = associations_.labels(from_type, to_type);
    if (!r.ok()) return std::move(r).error();
    types = std::move(r).value();
    std::lock_guard lock(mu_);
    labels_[key] = types;
  }
  const std::string want = codec::lower(label);
  for (const auto& t : types)
    if (codec::lower(t.label) == want && (!want.empty() || t.category == "HUBSPOT_DEFINED"))
      return std::optional<pipeline::AssociationType>(t);
  if (want.empty())
    for (const auto& t : types)
      if (t.label.empty()) return std::optional<pipeline::AssociationType>(t);
  return std::optional<pipeline::AssociationType>();
}

}  // namespace hubsync::hubspot
