// Portal: the write path — create, update and upsert, one input or a batch:
// validation, unique values, property history, search index versions.
// It runs under the portal's exclusive lock, so it keeps that section short:
// what can be freed or computed outside the lock is.
#include <algorithm>
#include <mutex>

#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/portal_detail.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

using detail::kMaxHistory;
using detail::parse_id;
using detail::unique_key;

const std::string kEmpty;

}  // namespace

Portal::Checked Portal::check_values(const ObjectType& def, const WriteInput& in) {
  Checked c;
  c.normalized.reserve(in.props.size() + 1);
  c.defs.reserve(in.props.size() + 1);
  for (const auto& [name, value] : in.props) {
    const PropertyDef* d = def.find_property(name);
    if (!d || d->read_only) return c;
    std::string v = value;
    if (normalize_value(*d, v)) return c;
    c.normalized.append({name, std::move(v)});  // in.props is sorted
    c.defs.push_back(d);
  }
  c.ok = true;
  return c;
}

Portal::Prepared Portal::prepare_locked(ObjectType& t, WriteOp op, WriteInput& in, BatchKeys* batch_keys,
                                        Checked* checked) {
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
      std::string& id_value = in.props[in.id_property];
      if (id_value != in.id) checked = nullptr;  // checked without it
      id_value = in.id;
    }
    if (batch_keys) {
      std::string key = p.target ? "id\x1f" + std::to_string(p.target->id) : in.id_property + "\x1f" + to_lower(in.id);
      if (!batch_keys->insert(std::move(key)).second)
        throw make_api_error(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: [" + in.id + "]");
    }
  }
  if (checked && checked->ok) {
    p.normalized = std::move(checked->normalized);
    p.defs = std::move(checked->defs);
    require_locked(t, p);
  } else {
    validate_locked(t, in, p);
  }
  check_unique_locked(t, p, batch_keys);
  resolve_assocs_locked(t, in, p);
  return p;
}

// Validates every property, gathering all problems like HubSpot. The input's
// values are moved into `p.normalized` (the input is not read again).
void Portal::validate_locked(const ObjectType& t, WriteInput& in, Prepared& p) const {
  std::vector<NamedProblem> problems;
  p.normalized.reserve(in.props.size());
  p.defs.reserve(in.props.size());
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
    std::string v = std::move(value);
    if (auto problem = normalize_value(*d, v)) {
      value = std::move(v);  // messages quote it; keep the input intact
      problems.push_back({name, *problem});
      continue;
    }
    // in.props is sorted, so each emplace appends and `defs` stays aligned.
    p.normalized.emplace(name, std::move(v));
    p.defs.push_back(d);
  }
  if (!problems.empty()) throw validation_error(problems, portal_id_);
  require_locked(t, p);
}

void Portal::require_locked(const ObjectType& t, const Prepared& p) const {
  if (p.target) return;
  for (const auto& req : t.required_properties) {
    auto it = p.normalized.find(req);
    if (it == p.normalized.end() || it->second.empty())
      throw validation_error({{req, {"REQUIRED_PROPERTY", "Required property " + req + " is missing"}}}, portal_id_);
  }
}

// Unique values, against the index and against the rest of the batch.
void Portal::check_unique_locked(ObjectType& t, const Prepared& p, BatchKeys* batch_keys) const {
  std::size_t i = 0;
  for (const auto& [name, value] : p.normalized) {
    const PropertyDef* d = p.defs[i++];
    if (!d->has_unique_value || value.empty()) continue;
    auto& idx = t.unique_index[name];
    std::string key = unique_key(*d, value);
    const Record* holder = idx.find(key);
    if (holder && (!p.target || holder != p.target)) {
      std::string msg = t.object_type_id == "0-1" && name == "email"
                            ? "Contact already exists. Existing ID: " + std::to_string(holder->id)
                            : "A " + to_lower(t.label_singular) + " with " + name + " \"" + value +
                                  "\" already exists. Existing ID: " + std::to_string(holder->id);
      throw make_api_error(409, "CONFLICT", msg);
    }
    if (batch_keys && (!p.target || !holder) &&
        !batch_keys->insert("unique\x1f" + name + "\x1f" + key).second)
      throw make_api_error(400, "VALIDATION_ERROR", "Duplicate " + name + " in batch input: " + value);
  }
}

void Portal::resolve_assocs_locked(const ObjectType& t, const WriteInput& in, Prepared& p) const {
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
}

Record* Portal::create_locked(ObjectType& t, const WriteContext& ctx) {
  std::uint64_t id = next_id_++;
  Record* r = &t.records[id];
  r->id = id;
  r->created_ms = ctx.now;
  auto base = std::make_shared<Props>();
  (*base)["hs_object_id"] = std::to_string(id);
  (*base)[t.create_date_prop] = ctx.now_iso;
  r->props = std::move(base);
  if (ctx.events) ctx.events->push_back(event_locked(t, "creation", id, ctx.src, ctx.now));
  return r;
}

// Sets the changed values on a copy of the record's properties (readers and
// search hold the old snapshot), with one history entry per change — as
// HubSpot keeps propertiesWithHistory for every write. The copy is a merge
// of the sorted input into the sorted snapshot, begun at the first change:
// a write that changes nothing copies nothing.
ObjectView Portal::apply_locked(ObjectType& t, Prepared& p, const WriteContext& ctx) {
  Record* r = p.target;
  bool create = r == nullptr;
  if (create) r = create_locked(t, ctx);
  std::vector<std::string> written;
  written.reserve(p.normalized.size() + 1);
  for (const auto& [name, value] : p.normalized) written.push_back(name);
  if (!p.id_property.empty() && !p.normalized.count(p.id_property)) written.push_back(p.id_property);
  const Props& cur = *r->props;
  auto c = cur.begin();
  std::shared_ptr<Props> next;  // set at the first change: holds cur's values before `c`
  auto pass = [&](std::string_view upto) {  // moves `c` to `upto`, keeping what it passes
    auto from = c;
    while (c != cur.end() && c->first < upto) ++c;
    if (next) next->append(from, c);
  };
  std::size_t i = 0;
  for (auto& [name, value] : p.normalized) {
    const PropertyDef* d = p.defs[i++];
    pass(name);
    const bool had = c != cur.end() && c->first == name;
    const std::string& old = had ? c->second : kEmpty;
    if (old == value) continue;  // `pass` keeps it
    if (!next) {
      next = std::make_shared<Props>();
      next->reserve(cur.size() + p.normalized.size() + 1);
      next->append(cur.begin(), c);
    }
    record_change_locked(t, *r, *d, old, value, ctx);
    if (had) ++c;
    if (!value.empty()) next->append({name, std::move(value)});
  }
  if (next) next->append(c, cur.end());
  if (next || create) {
    if (!next) next = std::make_shared<Props>(cur);
    (*next)[t.last_modified_prop] = ctx.now_iso;
    r->updated_ms = ctx.now;
    ctx.dead->push_back(std::move(r->props));
    r->props = std::move(next);
    reindex_locked(t, *r, ctx.now, ctx.dead);
  }
  link_locked(t, r->id, p.assocs);
  ObjectView v = view_locked(t, *r, {});
  v.is_new = p.is_new;
  v.written = std::move(written);
  return v;
}

// One property's change from `old` to `value`: the unique index, the
// history entry and the propertyChange event.
void Portal::record_change_locked(ObjectType& t, Record& r, const PropertyDef& d, const std::string& old,
                                  const std::string& value, const WriteContext& ctx) {
  if (d.has_unique_value) {
    auto& idx = t.unique_index[d.name];
    if (!old.empty()) idx.erase(unique_key(d, old));
    if (!value.empty()) idx.set(unique_key(d, value), &r);
  }
  auto& h = r.history[d.name];  // oldest first; trimmed in bulk
  h.push_back(HistoryEntry{value, ctx.now, ctx.src.change_source, ctx.src.source_id});
  if (h.size() >= 2 * kMaxHistory) h.erase(h.begin(), h.end() - static_cast<std::ptrdiff_t>(kMaxHistory));
  if (ctx.events) {
    ChangeEvent e = event_locked(t, "propertyChange", r.id, ctx.src, ctx.now);
    e.property_name = d.name;
    e.property_value = value;
    ctx.events->push_back(std::move(e));
  }
}

void Portal::link_locked(const ObjectType& t, std::uint64_t rid, const std::vector<Prepared::Assoc>& assocs) {
  for (const auto& a : assocs) {
    for (const auto& spec : a.types) {
      links_[{t.object_type_id, rid, a.to_type}][a.to].insert(spec.type_id);
      for (const auto& d : assoc_types_[{t.object_type_id, a.to_type}])
        if (d.type_id == spec.type_id) links_[{a.to_type, a.to, t.object_type_id}][rid].insert(d.inverse_id);
    }
  }
}

std::vector<Portal::Checked> Portal::check_inputs(const std::string& type, const std::vector<WriteInput>& inputs,
                                                  std::uint64_t& generation,
                                                  std::shared_ptr<const ObjectType>& def) const {
  std::vector<Checked> checked;
  try {
    def = definition_at(type, generation);
  } catch (const ApiError&) {  // an unknown type: write's type_locked throws it
    return checked;
  }
  checked.reserve(inputs.size());
  for (const auto& in : inputs) checked.push_back(check_values(*def, in));
  return checked;
}

std::vector<WriteOutcome> Portal::write(const std::string& type, WriteOp op, std::vector<WriteInput>& inputs,
                                        bool partial, const WriteSource& src,
                                        std::vector<ChangeEvent>& events) {
  // Declared before the lock, so destroyed after it is released: freeing the
  // replaced property snapshots and the prepared inputs is not serialised.
  std::vector<PropsPtr> dead;
  std::vector<Prepared> prepared;
  BatchKeys keys;
  std::vector<WriteOutcome> out;
  out.reserve(inputs.size());
  dead.reserve(2 * inputs.size());
  if (partial || inputs.size() > 1) keys.reserve(2 * inputs.size());
  // Values are checked against the definitions' snapshot before the lock,
  // and used under it only if no definition changed since.
  std::uint64_t generation = 0;
  std::shared_ptr<const ObjectType> def;
  std::vector<Checked> checked = check_inputs(type, inputs, generation, def);
  std::unique_lock lock(mu_);
  ObjectType& t = type_locked(type);
  if (schema_generation_.load() != generation) checked.clear();
  auto checked_of = [&](std::size_t i) { return checked.empty() ? nullptr : &checked[i]; };
  std::int64_t now = now_();
  WriteContext ctx{src, now, format_iso_ms(now), !events_wanted_ || events_wanted_() ? &events : nullptr, &dead};
  if (partial) {
    for (auto& in : inputs) {
      WriteOutcome o;
      try {
        Prepared p = prepare_locked(t, op, in, &keys, checked_of(&in - inputs.data()));
        o.view = apply_locked(t, p, ctx);
        prepared.push_back(std::move(p));
      } catch (const ApiError& e) {
        o.error = e;
        o.error->context["objectWriteTraceId"] = {in.trace_id};
      }
      out.push_back(std::move(o));
    }
    lock.unlock();
    return out;
  }
  prepared.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i)
    prepared.push_back(prepare_locked(t, op, inputs[i], inputs.size() > 1 ? &keys : nullptr, checked_of(i)));
  for (auto& p : prepared) {
    WriteOutcome o;
    o.view = apply_locked(t, p, ctx);
    out.push_back(std::move(o));
  }
  lock.unlock();
  return out;
}

}  // namespace hubsync::sim
