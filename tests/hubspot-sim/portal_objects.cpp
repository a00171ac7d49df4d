// Portal: records — reads, writes with validation and unique checks, archive,
// restore, merge, search with index lag, seeding.
#include <algorithm>
#include <charconv>
#include <mutex>
#include <random>

#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

constexpr std::size_t kMaxHistory = 20;

std::optional<std::uint64_t> parse_id(const std::string& s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

ApiError not_found(const ObjectType& t, const std::string& id) {
  ApiError e = make_api_error(404, "OBJECT_NOT_FOUND", "resource not found");
  e.context["id"] = {id};
  (void)t;
  return e;
}

std::string unique_key(const PropertyDef& d, const std::string& v) {
  return d.name == "email" ? to_lower(v) : v;
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

void Portal::reindex_locked(Record& r, std::int64_t now) {
  IndexVersion v{now + index_lag_ms_, r.props, r.archived};
  if (index_lag_ms_ <= 0) {
    r.indexed = std::move(v);
    r.pending.clear();
    return;
  }
  while (!r.pending.empty() && r.pending.front().visible_at_ms <= now) {
    r.indexed = std::move(r.pending.front());
    r.pending.pop_front();
  }
  r.pending.push_back(std::move(v));
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
  if (idx == t.unique_index.end()) return nullptr;
  auto it = idx->second.find(unique_key(*d, id));
  if (it == idx->second.end()) return nullptr;
  return it->second;
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

Portal::Prepared Portal::prepare_locked(ObjectType& t, WriteOp op, WriteInput& in,
                                       std::set<std::string>* batch_keys) {
  Prepared p;
  if (op != WriteOp::kCreate) {
    if (in.id_property != "hs_object_id") p.id_property = in.id_property;
    p.target = find_locked(t, in.id, in.id_property);
    if (p.target && p.target->archived) p.target = nullptr;
    if (!p.target && op == WriteOp::kUpdate) {
      ApiError e = make_api_error(404, "OBJECT_NOT_FOUND", "Object not found. objectId are usually numeric.");
      e.context["id"] = {in.id};
      throw e;
    }
    if (!p.target) {
      if (in.id_property.empty() || in.id_property == "hs_object_id")
        throw make_api_error(400, "VALIDATION_ERROR",
                             "Upsert by hs_object_id requires an existing object: " + in.id);
      p.is_new = true;
      in.props[in.id_property] = in.id;
    }
    if (batch_keys) {
      std::string key = p.target ? "id\x1f" + std::to_string(p.target->id) : in.id_property + "\x1f" + to_lower(in.id);
      if (!batch_keys->insert(key).second)
        throw make_api_error(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: [" + in.id + "]");
    }
  }
  // Validate every property; gather all problems like HubSpot.
  std::vector<NamedProblem> problems;
  for (auto& [name, value] : in.props) {
    const PropertyDef* d = t.find_property(name);
    if (!d) {
      problems.push_back({name, {"PROPERTY_DOESNT_EXIST", "Property \"" + name + "\" does not exist"}});
      continue;
    }
    if (d->read_only) {
      problems.push_back({name, {"READ_ONLY_VALUE", name + " is a read only property; its value cannot be set."}});
      continue;
    }
    std::string v = value;
    if (auto problem = normalize_value(*d, v)) {
      problems.push_back({name, *problem});
      continue;
    }
    p.normalized.emplace(name, std::move(v));
  }
  if (!problems.empty()) throw validation_error(problems, portal_id_);
  if (!p.target)
    for (const auto& req : t.required_properties) {
      auto it = p.normalized.find(req);
      if (it == p.normalized.end() || it->second.empty())
        throw validation_error({{req, {"REQUIRED_PROPERTY", "Required property " + req + " is missing"}}}, portal_id_);
    }
  // Unique values, against the index and against the rest of the batch.
  for (const auto& [name, value] : p.normalized) {
    const PropertyDef* d = t.find_property(name);
    if (!d->has_unique_value || value.empty()) continue;
    auto& idx = t.unique_index[name];
    std::string key = unique_key(*d, value);
    auto it = idx.find(key);
    if (it != idx.end() && (!p.target || it->second != p.target)) {
      std::string msg = t.object_type_id == "0-1" && name == "email"
                            ? "Contact already exists. Existing ID: " + std::to_string(it->second->id)
                            : "A " + to_lower(t.label_singular) + " with " + name + " \"" + value +
                                  "\" already exists. Existing ID: " + std::to_string(it->second->id);
      throw make_api_error(409, "CONFLICT", msg);
    }
    if (batch_keys && (!p.target || it == idx.end()) &&
        !batch_keys->insert("unique\x1f" + name + "\x1f" + key).second)
      throw make_api_error(400, "VALIDATION_ERROR", "Duplicate " + name + " in batch input: " + value);
  }
  for (const auto& a : in.associations) {
    auto to = parse_id(a.to_id);
    if (!to) throw make_api_error(400, "VALIDATION_ERROR", "Invalid association target id " + a.to_id);
    // Object create names no target type: it follows from the type ids.
    std::string to_type;
    for (const auto& [pair, defs] : assoc_types_) {
      if (pair.first != t.object_type_id) continue;
      for (const auto& d : defs)
        for (const auto& spec : a.types)
          if (d.type_id == spec.type_id && d.category == spec.category) to_type = pair.second;
    }
    if (to_type.empty() || a.types.empty())
      throw make_api_error(400, "VALIDATION_ERROR", "Invalid association type for target " + a.to_id);
    const auto& recs = types_.at(to_type).records;
    auto it = recs.find(*to);
    if (it == recs.end() || it->second.archived)
      throw make_api_error(400, "VALIDATION_ERROR", "Association target " + a.to_id + " does not exist");
    p.assocs.push_back({to_type, *to, a.types});
  }
  return p;
}

ObjectView Portal::apply_locked(ObjectType& t, Prepared& p, const WriteSource& src, std::int64_t now,
                                std::vector<ChangeEvent>* events) {
  Record* r = p.target;
  bool create = r == nullptr;
  if (create) {
    std::uint64_t id = next_id_++;
    r = &t.records[id];
    r->id = id;
    r->created_ms = now;
    auto base = std::make_shared<Props>();
    (*base)["hs_object_id"] = std::to_string(id);
    (*base)[t.create_date_prop] = format_iso_ms(now);
    r->props = base;
    if (events) events->push_back(event_locked(t, "creation", id, src, now));
  }
  std::vector<std::string> written;
  written.reserve(p.normalized.size() + 1);
  for (const auto& [name, value] : p.normalized) written.push_back(name);
  if (!p.id_property.empty() && !p.normalized.count(p.id_property)) written.push_back(p.id_property);
  std::shared_ptr<Props> next;
  for (auto& [name, value] : p.normalized) {
    const Props& cur_props = next ? *next : *r->props;
    auto cur = cur_props.find(name);
    static const std::string kEmpty;
    const std::string old = cur == cur_props.end() ? kEmpty : cur->second;
    if (old == value) continue;
    const PropertyDef* d = t.find_property(name);
    if (d->has_unique_value) {
      auto& idx = t.unique_index[name];
      if (!old.empty()) idx.erase(unique_key(*d, old));
      if (!value.empty()) idx[unique_key(*d, value)] = r;
    }
    if (!next) next = std::make_shared<Props>(*r->props);
    auto& h = r->history[name];  // oldest first; trimmed in bulk
    h.push_back(HistoryEntry{value, now, src.change_source, src.source_id});
    if (h.size() >= 2 * kMaxHistory) h.erase(h.begin(), h.end() - static_cast<std::ptrdiff_t>(kMaxHistory));
    if (events) {
      ChangeEvent e = event_locked(t, "propertyChange", r->id, src, now);
      e.property_name = name;
      e.property_value = value;
      events->push_back(std::move(e));
    }
    if (value.empty()) next->erase(name);
    else (*next)[name] = std::move(value);
  }
  if (next || create) {
    if (!next) next = std::make_shared<Props>(*r->props);
    (*next)[t.last_modified_prop] = format_iso_ms(now);
    r->updated_ms = now;
    r->props = std::move(next);
    reindex_locked(*r, now);
  }
  std::uint64_t rid = r->id;
  for (const auto& a : p.assocs) {
    for (const auto& spec : a.types) {
      links_[{t.object_type_id, rid, a.to_type}][a.to].insert(spec.type_id);
      for (const auto& d : assoc_types_[{t.object_type_id, a.to_type}])
        if (d.type_id == spec.type_id) links_[{a.to_type, a.to, t.object_type_id}][rid].insert(d.inverse_id);
    }
  }
  ObjectView v = view_locked(t, *r, {});
  v.is_new = p.is_new;
  v.written = std::move(written);
  return v;
}

std::vector<WriteOutcome> Portal::write(const std::string& type, WriteOp op, std::vector<WriteInput>& inputs,
                                        bool partial, const WriteSource& src,
                                        std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  std::int64_t now = now_();
  std::vector<ChangeEvent>* ev = !events_wanted_ || events_wanted_() ? &events : nullptr;
  std::vector<WriteOutcome> out;
  out.reserve(inputs.size());
  std::set<std::string> keys;
  if (partial) {
    for (auto& in : inputs) {
      WriteOutcome o;
      try {
        Prepared p = prepare_locked(t, op, in, &keys);
        o.view = apply_locked(t, p, src, now, ev);
      } catch (const ApiError& e) {
        o.error = e;
        o.error->context["objectWriteTraceId"] = {in.trace_id};
      }
      out.push_back(std::move(o));
    }
    return out;
  }
  std::vector<Prepared> prepared;
  prepared.reserve(inputs.size());
  for (auto& in : inputs) prepared.push_back(prepare_locked(t, op, in, inputs.size() > 1 ? &keys : nullptr));
  for (auto& p : prepared) {
    WriteOutcome o;
    o.view = apply_locked(t, p, src, now, ev);
    out.push_back(std::move(o));
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
    reindex_locked(*r, now);
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
    auto& idx = t.unique_index[name];
    auto it = idx.find(unique_key(*d, value));
    if (it != idx.end())
      throw make_api_error(409, "CONFLICT",
                           "Cannot restore: " + name + " is in use. Existing ID: " + std::to_string(it->second->id));
  }
  for (const auto& [name, value] : *r->props) {
    const PropertyDef* d = t.find_property(name);
    if (d && d->has_unique_value) t.unique_index[name][unique_key(*d, value)] = r;
  }
  r->archived = false;
  r->archived_ms = 0;
  auto next = std::make_shared<Props>(*r->props);
  (*next)[t.last_modified_prop] = format_iso_ms(now);
  r->props = next;
  r->updated_ms = now;
  reindex_locked(*r, now);
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
    if (d && d->has_unique_value) t.unique_index[name][unique_key(*d, value)] = &r;
  }
  reindex_locked(r, now);
  ChangeEvent e = event_locked(t, "merge", new_id, src, now);
  e.primary_object_id = old_primary;
  e.merged_object_ids = {absorbed};
  e.new_object_id = new_id;
  events.push_back(std::move(e));
  return view_locked(t, r, {});
}

std::vector<ObjectView> Portal::search(const std::string& type, const SearchQuery& q,
                                       std::int64_t& total) const {
  std::vector<std::pair<std::uint64_t, PropsPtr>> hits;
  std::string tid, cprop, mprop;
  {
    std::shared_lock lock(mu_);
    const ObjectType& t = type_locked(type);
    tid = t.object_type_id;
    cprop = t.create_date_prop;
    mprop = t.last_modified_prop;
    std::int64_t now = now_();
    for (const auto& [id, r] : t.records) {
      const IndexVersion* v = &r.indexed;
      for (const auto& p : r.pending) {
        if (p.visible_at_ms > now) break;
        v = &p;
      }
      if (!v->props || v->archived) continue;
      if (search_matches(q, t, *v->props)) hits.emplace_back(id, v->props);
    }
    if (!q.sort_property.empty()) {
      // Only the page asked for need be in order (a full sort per page made
      // a sweep of N objects cost N^2 log N in the simulator).
      const auto need = std::min(hits.size(), static_cast<std::size_t>(std::max<std::int64_t>(0, q.after) + q.limit));
      std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(need), hits.end(),
                        [&](const auto& a, const auto& b) {
                          return search_less(q, t, *a.second, a.first, *b.second, b.first);
                        });
    }
  }
  total = static_cast<std::int64_t>(hits.size());
  std::vector<ObjectView> out;
  for (std::int64_t i = q.after; i < total && static_cast<int>(out.size()) < q.limit; ++i) {
    ObjectView v;
    v.id = hits[static_cast<size_t>(i)].first;
    v.object_type_id = tid;
    v.props = hits[static_cast<size_t>(i)].second;
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
  r.id = id;
  r.created_ms = created_ms;
  r.updated_ms = updated_ms;
  r.archived = archived;
  r.archived_ms = archived ? updated_ms : 0;
  r.props = std::make_shared<Props>(std::move(props));
  if (!archived)
    for (const auto& [name, value] : *r.props) {
      const PropertyDef* d = t.find_property(name);
      if (d && d->has_unique_value) t.unique_index[name][unique_key(*d, value)] = &r;
    }
  r.indexed = IndexVersion{0, r.props, archived};
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
    reindex_locked(it->second, now);
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
    for (auto& o : write(tid, WriteOp::kCreate, chunk, false, src, events)) ids.push_back(o.view->id);
  }
  return ids;
}

}  // namespace hubsync::sim
