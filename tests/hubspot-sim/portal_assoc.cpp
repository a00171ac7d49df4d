// Portal: associations v4 (links in both directions, typed).
#include <algorithm>
#include <mutex>

#include "tests/hubspot-sim/portal.h"
#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

std::string assoc_type_name(const std::string& a, const std::string& b, const std::map<std::string, ObjectType>& types) {
  auto label = [&](const std::string& id) {
    const ObjectType& t = types.at(id);
    std::string s = t.custom ? t.name : t.singular;
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  return label(a) + "_TO_" + label(b);
}

// The definition a requested type names; 400 like HubSpot when none does.
const AssocTypeDef& definition_for(const std::vector<AssocTypeDef>& defs, const AssocTypeSpec& s,
                                   const std::string& a, const std::string& b) {
  auto it = std::find_if(defs.begin(), defs.end(), [&](const AssocTypeDef& d) { return d.type_id == s.type_id; });
  if (it == defs.end() || it->category != s.category)
    throw make_api_error(400, "VALIDATION_ERROR",
                         "Invalid association type " + s.category + "/" + std::to_string(s.type_id) +
                             " between " + a + " and " + b);
  return *it;
}

}  // namespace

std::vector<AssocTypeDef> Portal::associate(const std::string& from_type, std::uint64_t from,
                                            const std::string& to_type, std::uint64_t to,
                                            const std::vector<AssocTypeSpec>& types,
                                            const WriteSource& src, std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  std::string a = resolve_locked(from_type), b = resolve_locked(to_type);
  for (auto [tid, id] : {std::pair{a, from}, std::pair{b, to}}) {
    const auto& recs = types_.at(tid).records;
    auto it = recs.find(id);
    if (it == recs.end() || it->second.archived) {
      ApiError e = make_api_error(400, "VALIDATION_ERROR",
                                  "No " + types_.at(tid).name + " object with id " + std::to_string(id));
      e.context["id"] = {std::to_string(id)};
      throw e;
    }
  }
  const auto& defs = assoc_types_[{a, b}];
  if (defs.empty())
    throw make_api_error(400, "VALIDATION_ERROR", "No association definition between " + a + " and " + b);
  std::vector<const AssocTypeDef*> chosen;
  if (types.empty()) {
    // default: the unlabelled definition
    for (const auto& d : defs)
      if (d.label.empty()) {
        chosen.push_back(&d);
        break;
      }
    if (chosen.empty()) chosen.push_back(&defs.front());
  } else {
    for (const auto& s : types) chosen.push_back(&definition_for(defs, s, a, b));
  }
  std::int64_t now = now_();
  std::vector<AssocTypeDef> out;
  auto& fwd = links_[{a, from, b}][to];
  auto& back = links_[{b, to, a}][from];
  for (const AssocTypeDef* d : chosen) {
    bool added = fwd.insert(d->type_id).second;
    back.insert(d->inverse_id);
    out.push_back(*d);
    if (!added) continue;
    ChangeEvent e = event_locked(types_.at(a), "associationChange", from, src, now);
    e.association_type = assoc_type_name(a, b, types_);
    e.from_object_id = from;
    e.to_object_id = to;
    e.association_removed = false;
    e.association_type_id = d->type_id;
    events.push_back(std::move(e));
  }
  return out;
}

void Portal::unassociate(const std::string& from_type, std::uint64_t from, const std::string& to_type,
                         std::uint64_t to, const WriteSource& src, std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  std::string a = resolve_locked(from_type), b = resolve_locked(to_type);
  remove_link_types_locked(a, from, b, to, nullptr, src, now_(), events);
}

void Portal::unassociate_types(const std::string& from_type, const std::string& to_type,
                               const std::vector<AssocTypeRemoval>& removals, const WriteSource& src,
                               std::vector<ChangeEvent>& events) {
  std::unique_lock lock(mu_);
  std::string a = resolve_locked(from_type), b = resolve_locked(to_type);
  static const std::vector<AssocTypeDef> kNone;
  auto defs_it = assoc_types_.find({a, b});
  const auto& defs = defs_it == assoc_types_.end() ? kNone : defs_it->second;
  // Validate every input before touching any link: a bad type fails the batch.
  struct Planned {
    std::uint64_t from, to;
    std::set<int> ids;
    bool all = false;  ///< the unlabelled type was named: every label goes
  };
  std::vector<Planned> plan;
  for (const auto& r : removals) {
    if (r.types.empty()) throw make_api_error(400, "VALIDATION_ERROR", "types is required");
    Planned p{r.from, r.to, {}, false};
    for (const auto& spec : r.types) {
      const AssocTypeDef& d = definition_for(defs, spec, a, b);
      p.ids.insert(d.type_id);
      if (d.label.empty()) p.all = true;
    }
    plan.push_back(std::move(p));
  }
  std::int64_t now = now_();
  for (const auto& p : plan) remove_link_types_locked(a, p.from, b, p.to, p.all ? nullptr : &p.ids, src, now, events);
}

void Portal::remove_link_types_locked(const std::string& a, std::uint64_t from, const std::string& b,
                                      std::uint64_t to, const std::set<int>* only, const WriteSource& src,
                                      std::int64_t now, std::vector<ChangeEvent>& events) {
  auto it = links_.find({a, from, b});
  if (it == links_.end()) return;
  auto jt = it->second.find(to);
  if (jt == it->second.end()) return;
  std::set<int>* inverse = nullptr;
  auto back = links_.find({b, to, a});
  if (back != links_.end())
    if (auto bt = back->second.find(from); bt != back->second.end()) inverse = &bt->second;
  auto defs_it = assoc_types_.find({a, b});
  for (auto t = jt->second.begin(); t != jt->second.end();) {
    if (only && !only->count(*t)) {
      ++t;
      continue;
    }
    ChangeEvent e = event_locked(types_.at(a), "associationChange", from, src, now);
    e.association_type = assoc_type_name(a, b, types_);
    e.from_object_id = from;
    e.to_object_id = to;
    e.association_removed = true;
    e.association_type_id = *t;
    events.push_back(std::move(e));
    if (inverse && defs_it != assoc_types_.end())
      for (const auto& d : defs_it->second)
        if (d.type_id == *t) inverse->erase(d.inverse_id);
    t = jt->second.erase(t);
  }
  if (!jt->second.empty()) return;
  // No type left: the pair is no longer associated, in either direction.
  it->second.erase(jt);
  if (back != links_.end()) back->second.erase(from);
}

std::vector<AssocLink> Portal::associations(const std::string& from_type, std::uint64_t from,
                                            const std::string& to_type) const {
  std::shared_lock lock(mu_);
  std::string a = resolve_locked(from_type), b = resolve_locked(to_type);
  std::vector<AssocLink> out;
  auto it = links_.find({a, from, b});
  if (it == links_.end()) return out;
  auto defs_it = assoc_types_.find({a, b});
  const auto& recs = types_.at(b).records;
  for (const auto& [to, ids] : it->second) {
    auto rec = recs.find(to);
    if (rec == recs.end() || rec->second.archived) continue;  // archived targets are hidden
    AssocLink link;
    link.to_id = to;
    for (int id : ids) {
      AssocTypeDef d;
      d.type_id = id;
      if (defs_it != assoc_types_.end())
        for (const auto& def : defs_it->second)
          if (def.type_id == id) d = def;
      link.types.push_back(d);
    }
    out.push_back(std::move(link));
  }
  return out;
}

void Portal::move_associations_locked(const std::string& type, std::uint64_t from, std::uint64_t to) {
  std::vector<std::tuple<std::string, std::uint64_t, std::string>> keys;
  for (const auto& [k, v] : links_)
    if (std::get<0>(k) == type && std::get<1>(k) == from) keys.push_back(k);
  for (const auto& k : keys) {
    auto node = links_.extract(k);
    const std::string& other = std::get<2>(k);
    auto& dest = links_[{type, to, other}];
    for (auto& [target, ids] : node.mapped()) {
      dest[target].insert(ids.begin(), ids.end());
      auto back = links_.find({other, target, type});
      if (back == links_.end()) continue;
      auto b = back->second.extract(from);
      if (!b.empty()) back->second[to].insert(b.mapped().begin(), b.mapped().end());
    }
  }
}

void Portal::drop_associations_locked(const std::string& type, std::uint64_t id) {
  for (auto it = links_.begin(); it != links_.end();) {
    if (std::get<0>(it->first) == type && std::get<1>(it->first) == id) {
      it = links_.erase(it);
    } else {
      if (std::get<2>(it->first) == type) it->second.erase(id);
      ++it;
    }
  }
}

}  // namespace hubsync::sim
