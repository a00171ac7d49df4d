// Portal: records — reads, archive, restore, merge, search with index lag,
// seeding. Writes (validation, unique checks) are in portal_write.cpp.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/portal_detail.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

using detail::kMaxHistory;
using detail::parse_id;
using detail::unique_key;

ApiError not_found(const ObjectType& t, const std::string& id) {
  ApiError e = make_api_error(404, "OBJECT_NOT_FOUND", "resource not found");
  e.context["id"] = {id};
  (void)t;
  return e;
}

}  // namespace

ChangeEvent Portal::event_locked(const ObjectType& t, const std::string& kind, std::uint64_t id,
                                 const WriteSource& src, std::int64_t now) const {
  ChangeEvent e;
  e.object_type_id = t.object_type_id;
  e.type_prefix = t.custom || t.singular.empty() ? "object" : t.singular;
  e.kind = kind;
  e.object_id = id;
  e.occurred_at_ms = now;
  e.change_source = src.change_source;
  e.source_id = src.source_id;
  return e;
}

void Portal::reindex_locked(ObjectType& t, Record& r, std::int64_t now, std::vector<PropsPtr>* dead) {
  t.search_index.settle(now);
  t.search_index.forget(r);
  IndexVersion v{now + index_lag_ms_, r.props, r.archived};
  // The version search stops seeing may hold the last reference to its
  // properties: hand it to `dead` so the caller frees it after unlocking.
  auto retire = [&](IndexVersion& old) {
    if (dead && old.props) dead->push_back(std::move(old.props));
  };
  if (index_lag_ms_ <= 0) {
    retire(r.indexed);
    r.indexed = std::move(v);
    for (auto& p : r.pending) retire(p);
    r.pending.clear();
  } else {
    while (!r.pending.empty() && r.pending.front().visible_at_ms <= now) {
      retire(r.indexed);
      r.indexed = std::move(r.pending.front());
      r.pending.pop_front();
    }
    r.pending.push_back(std::move(v));
  }
  t.search_index.note(t, r);
}

ObjectView Portal::view_locked(const ObjectType& t, const Record& r,
                               const std::vector<std::string>& history_props) const {
  ObjectView v;
  v.id = r.id;
  v.object_type_id = t.object_type_id;
  v.props = r.props;
  v.created_ms = r.created_ms;
  v.updated_ms = r.updated_ms;
  v.archived = r.archived;
  v.archived_ms = r.archived_ms;
  for (const auto& p : history_props) {
    auto& out = v.history[p];
    auto it = r.history.find(p);
    if (it == r.history.end()) continue;
    // newest first, at most kMaxHistory
    for (auto h = it->second.rbegin(); h != it->second.rend() && out.size() < kMaxHistory; ++h) out.push_back(*h);
  }
  return v;
}

Record* Portal::find_locked(ObjectType& t, const std::string& id, const std::string& id_property) {
  if (id_property.empty() || id_property == "hs_object_id") {
    auto n = parse_id(id);
    if (!n) return nullptr;
    auto it = t.records.find(*n);
    return it == t.records.end() ? nullptr : &it->second;
  }
  const PropertyDef* d = t.find_property(id_property);
  if (!d || !d->has_unique_value)
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Property " + id_property + " is not a unique identifier property");
  auto idx = t.unique_index.find(id_property);
  return idx == t.unique_index.end() ? nullptr : idx->second.find(unique_key(*d, id));
}

ObjectView Portal::get(const std::string& type, const std::string& id, const std::string& id_property,
                       bool archived, const std::vector<std::string>& history_props) const {
  std::shared_lock lock(mu_);
  auto& self = const_cast<Portal&>(*this);
  ObjectType& t = self.type_locked(type);
  Record* r = self.find_locked(t, id, id_property);
  if (!r || r->archived != archived) throw not_found(t, id);
  return view_locked(t, *r, history_props);
}

std::vector<ObjectView> Portal::list(const std::string& type, int limit, std::uint64_t after,
                                     bool archived, const std::vector<std::string>& history_props,
                                     std::optional<std::uint64_t>& next_after) const {
  std::shared_lock lock(mu_);
  const ObjectType& t = type_locked(type);
  std::vector<ObjectView> out;
  next_after.reset();
  for (auto it = t.records.lower_bound(after); it != t.records.end(); ++it) {
    if (it->second.archived != archived) continue;
    if (static_cast<int>(out.size()) == limit) {
      next_after = it->first;
      break;
    }
    out.push_back(view_locked(t, it->second, history_props));
  }
  return out;
}

std::vector<ObjectView> Portal::read_batch(const std::string& type, const std::vector<std::string>& ids,
                                           const std::string& id_property, bool archived,
                                           const std::vector<std::string>& history_props,
                                           std::vector<std::string>& missing) const {
  std::shared_lock lock(mu_);
  auto& self = const_cast<Portal&>(*this);
  ObjectType& t = self.type_locked(type);
  std::vector<ObjectView> out;
  for (const auto& id : ids) {
    Record* r = self.find_locked(t, id, id_property);
    if (!r || r->archived != archived)
      missing.push_back(id);
    else
      out.push_back(view_locked(t, *r, history_props));
  }
  return out;
}

void Portal::archive(const std::string& type, const std::vector<std::string>& ids, const WriteSource& src,
                     std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  std::int64_t now = now_();
  for (const auto& id : ids) {
    Record* r = find_locked(t, id, "");
    if (!r || r->archived) continue;
    r->archived = true;
    r->archived_ms = now;
    r->updated_ms = now;
    for (const auto& [name, value] : *r->props) {
      const PropertyDef* d = t.find_property(name);
      if (d && d->has_unique_value) t.unique_index[name].erase(unique_key(*d, value));
    }
    reindex_locked(t, *r, now);
    events.push_back(event_locked(t, "deletion", r->id, src, now));
  }
}

void Portal::purge(const std::string& type, const std::string& id, const std::string& id_property,
                   const WriteSource& src, std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  Record* r = find_locked(t, id, id_property);
  if (!r) return;
  for (const auto& [name, value] : *r->props) {
    const PropertyDef* d = t.find_property(name);
    if (d && d->has_unique_value && !r->archived) t.unique_index[name].erase(unique_key(*d, value));
  }
  events.push_back(event_locked(t, "privacyDeletion", r->id, src, now_()));
  drop_associations_locked(t.object_type_id, r->id);
  t.search_index.forget(*r);
  t.records.erase(r->id);
}

ObjectView Portal::restore(const std::string& type, const std::string& id, const WriteSource& src,
                           std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  Record* r = find_locked(t, id, "");
  if (!r || !r->archived) throw not_found(t, id);
  std::int64_t now = now_();
  for (const auto& [name, value] : *r->props) {
    const PropertyDef* d = t.find_property(name);
    if (!d || !d->has_unique_value) continue;
    if (const Record* holder = t.unique_index[name].find(unique_key(*d, value)))
      throw make_api_error(409, "CONFLICT",
                           "Cannot restore: " + name + " is in use. Existing ID: " + std::to_string(holder->id));
  }
  for (const auto& [name, value] : *r->props) {
    const PropertyDef* d = t.find_property(name);
    if (d && d->has_unique_value) t.unique_index[name].set(unique_key(*d, value), r);
  }
  r->archived = false;
  r->archived_ms = 0;
  auto next = std::make_shared<Props>(*r->props);
  (*next)[t.last_modified_prop] = format_iso_ms(now);
  r->props = next;
  r->updated_ms = now;
  reindex_locked(t, *r, now);
  events.push_back(event_locked(t, "restore", r->id, src, now));
  return view_locked(t, *r, {});
}

ObjectView Portal::merge(const std::string& type, const std::string& primary, const std::string& merged,
                         const WriteSource& src, std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  Record* p = find_locked(t, primary, "");
  Record* m = find_locked(t, merged, "");
  if (!p || p->archived) throw not_found(t, primary);
  if (!m || m->archived) throw not_found(t, merged);
  if (p == m) throw make_api_error(400, "VALIDATION_ERROR", "Cannot merge an object into itself");
  std::int64_t now = now_();
  // Primary values win; blanks are filled from the absorbed record.
  auto props = std::make_shared<Props>(*p->props);
  for (const auto& [k, v] : *m->props)
    if (!props->count(k)) (*props)[k] = v;
  std::string ids;
  for (const Record* r : {p, m}) {
    auto it = r->props->find("hs_merged_object_ids");
    if (it != r->props->end() && !it->second.empty()) ids += (ids.empty() ? "" : ";") + it->second;
  }
  std::uint64_t old_primary = p->id, absorbed = m->id;
  std::uint64_t new_id = merge_new_id_ ? next_id_++ : old_primary;
  if (merge_new_id_) ids += (ids.empty() ? "" : ";") + std::to_string(old_primary);
  ids += (ids.empty() ? "" : ";") + std::to_string(absorbed);
  for (const Record* r : {p, m})
    for (const auto& [name, value] : *r->props) {
      const PropertyDef* d = t.find_property(name);
      if (d && d->has_unique_value) t.unique_index[name].erase(unique_key(*d, value));
    }
  t.search_index.forget(*p);
  t.search_index.forget(*m);
  (*props)["hs_merged_object_ids"] = ids;
  (*props)["hs_object_id"] = std::to_string(new_id);
  (*props)[t.last_modified_prop] = format_iso_ms(now);
  Record survivor;
  survivor.id = new_id;
  survivor.created_ms = std::min(p->created_ms, m->created_ms);
  survivor.updated_ms = now;
  survivor.history = p->history;
  survivor.props = props;
  t.records.erase(absorbed);
  move_associations_locked(t.object_type_id, absorbed, new_id);
  if (new_id != old_primary) {
    t.records.erase(old_primary);
    move_associations_locked(t.object_type_id, old_primary, new_id);
  }
  Record& r = t.records[new_id];
  r = std::move(survivor);
  for (const auto& [name, value] : *r.props) {
    const PropertyDef* d = t.find_property(name);
    if (d && d->has_unique_value) t.unique_index[name].set(unique_key(*d, value), &r);
  }
  reindex_locked(t, r, now);
  ChangeEvent e = event_locked(t, "merge", new_id, src, now);
  e.primary_object_id = old_primary;
  e.merged_object_ids = {absorbed};
  e.new_object_id = new_id;
  events.push_back(std::move(e));
  return view_locked(t, r, {});
}

std::vector<ObjectView> Portal::search(const std::string& type, const SearchQuery& q,
                                       std::int64_t& total) const {
  std::vector<SearchHit> page;
  std::string tid, cprop, mprop;
  {
    std::shared_lock lock(mu_);
    const ObjectType& t = type_locked(type);
    tid = t.object_type_id;
    cprop = t.create_date_prop;
    mprop = t.last_modified_prop;
    std::int64_t now = now_();
    // The index answers range queries on the last-modified time (hubsync's
    // sweeps) with the scan's exact page and total; the rest is scanned.
    if (!t.search_index.search(t, q, now, page, total)) search_scan(t, q, now, page, total);
  }
  std::vector<ObjectView> out;
  out.reserve(page.size());
  for (auto& hit : page) {
    ObjectView v;
    v.id = hit.id;
    v.object_type_id = tid;
    v.props = std::move(hit.props);
    auto created = v.props->find(cprop);
    auto updated = v.props->find(mprop);
    if (created != v.props->end()) v.created_ms = parse_time_ms(created->second).value_or(0);
    if (updated != v.props->end()) v.updated_ms = parse_time_ms(updated->second).value_or(0);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<ObjectView> Portal::dump(const std::string& type) const {
  std::shared_lock lock(mu_);
  const ObjectType& t = type_locked(type);
  std::vector<ObjectView> out;
  for (const auto& [id, r] : t.records) out.push_back(view_locked(t, r, {}));
  return out;
}

std::size_t Portal::count(const std::string& type) const {
  std::shared_lock lock(mu_);
  return type_locked(type).records.size();
}

void Portal::import_record(const std::string& type, std::uint64_t id, Props props, std::int64_t created_ms,
                           std::int64_t updated_ms, bool archived) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  Record& r = t.records[id];
  t.search_index.forget(r);  // a record imported over
  r.id = id;
  r.created_ms = created_ms;
  r.updated_ms = updated_ms;
  r.archived = archived;
  r.archived_ms = archived ? updated_ms : 0;
  r.props = std::make_shared<Props>(std::move(props));
  if (!archived)
    for (const auto& [name, value] : *r.props) {
      const PropertyDef* d = t.find_property(name);
      if (d && d->has_unique_value) t.unique_index[name].set(unique_key(*d, value), &r);
    }
  r.indexed = IndexVersion{0, r.props, archived};
  t.search_index.note(t, r);
  next_id_ = std::max(next_id_, id + 1);
}

bool Portal::exists(const std::string& type, std::uint64_t id) const {
  std::shared_lock lock(mu_);
  const ObjectType& t = type_locked(type);
  auto it = t.records.find(id);
  return it != t.records.end() && !it->second.archived;
}

void Portal::stamp_modified(const std::string& type, const std::vector<std::uint64_t>& ids,
                            std::int64_t ms) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  std::int64_t now = now_();
  for (auto id : ids) {
    auto it = t.records.find(id);
    if (it == t.records.end()) continue;
    auto next = std::make_shared<Props>(*it->second.props);
    (*next)[t.last_modified_prop] = format_iso_ms(ms);
    it->second.props = next;
    it->second.updated_ms = ms;
    reindex_locked(t, it->second, now);
  }
}

std::vector<std::uint64_t> Portal::seed(const std::string& type, int n, std::uint64_t seed,
                                        const WriteSource& src, std::vector<ChangeEvent>& events) {
  static const char* kFirst[] = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret",
                                 "Ken", "Frances", "Linus", "Radia", "Dennis", "Hedy", "Niklaus"};
  static const char* kLast[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth",
                                "Hamilton", "Thompson", "Allen", "Torvalds", "Perlman", "Ritchie"};
  static const char* kCity[] = {"Boston", "Berlin", "Dublin", "Paris", "Austin", "Tokyo", "Lisbon"};
  static const char* kStage[] = {"subscriber", "lead", "marketingqualifiedlead", "opportunity", "customer"};
  static const char* kIndustry[] = {"BANKING", "RETAIL", "COMPUTER_SOFTWARE", "INSURANCE", "EDUCATION_MANAGEMENT"};
  std::mt19937_64 rng(seed);
  std::string tid = resolve_type(type);
  std::string custom_display = tid.rfind("2-", 0) == 0 ? type_definition(tid).primary_display_property : "";
  std::vector<WriteInput> inputs;
  for (int i = 0; i < n; ++i) {
    WriteInput in;
    auto pick = [&](auto& arr) { return std::string(arr[rng() % (sizeof(arr) / sizeof(arr[0]))]); };
    std::string tag = std::to_string(seed) + "-" + std::to_string(i);
    if (tid == "0-1") {
      std::string first = pick(kFirst), last = pick(kLast);
      in.props = {{"email", to_lower(first + "." + last + "." + tag + "@example.com")},
                  {"firstname", first}, {"lastname", last}, {"city", pick(kCity)},
                  {"lifecyclestage", pick(kStage)}, {"phone", "+1 555 " + std::to_string(1000000 + rng() % 8999999)},
                  {"jobtitle", "Engineer"}};
    } else if (tid == "0-2") {
      std::string name = pick(kLast) + " " + pick(kCity) + " " + tag;
      in.props = {{"name", name}, {"domain", "co-" + tag + ".example.com"}, {"city", pick(kCity)},
                  {"industry", pick(kIndustry)}, {"numberofemployees", std::to_string(1 + rng() % 5000)}};
    } else if (tid == "0-3") {
      in.props = {{"dealname", "Deal " + tag}, {"amount", std::to_string(100 + rng() % 100000)},
                  {"pipeline", "default"}, {"dealstage", "appointmentscheduled"}};
    } else if (!custom_display.empty()) {
      in.props[custom_display] = "Seed " + tag;
    }
    inputs.push_back(std::move(in));
  }
  std::vector<std::uint64_t> ids;
  for (size_t start = 0; start < inputs.size(); start += 100) {
    std::vector<WriteInput> chunk(inputs.begin() + static_cast<std::ptrdiff_t>(start),
                                  inputs.begin() + static_cast<std::ptrdiff_t>(std::min(inputs.size(), start + 100)));
    std::int64_t written_ms = 0;
    for (auto& o : write(tid, WriteOp::kCreate, chunk, false, src, events)) {
      ids.push_back(o.view->id);
      written_ms = o.view->updated_ms;
    }
    if (start + 100 < inputs.size()) wait_past(written_ms);
  }
  return ids;
}

// Each write of a seed gets its own millisecond, so its runs of equal
// modified times are 100 long whatever the simulator's speed (a faster
// simulator made runs of 200-300, and the pull's search pages emptier). A
// clock that does not move (a test's) is read 20 times at most, 100 us or
// more apart: bounded by readings, not by wall time, so a slow host (ASan)
// cannot give up on a clock that moves.
void Portal::wait_past(std::int64_t ms) const {
  for (int reading = 0; reading < 20 && now_() <= ms; ++reading)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
}

}  // namespace hubsync::sim
