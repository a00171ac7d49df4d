#include "connectors/hubspot/search.h"

#include <algorithm>

#include "connectors/hubspot/codec.h"
#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"
#include "connectors/hubspot/objects.h"
#include "engine/model/value.h"

namespace hubsync::hubspot {

namespace {

model::Error refuse(const std::string& why) {
  return model::make_error(model::ErrorKind::fatal, "search: " + why);
}

std::string body_of(const SearchRequest& q) {
  json::Writer w;
  w->StartObject();
  w.key("filterGroups");
  w->StartArray();
  for (const auto& g : q.filter_groups) {
    w->StartObject();
    w.key("filters");
    w->StartArray();
    for (const auto& f : g) {
      w->StartObject();
      w.kv("propertyName", f.property);
      w.kv("operator", f.op);
      if (!f.values.empty()) codec::write_string_array(w, "values", f.values);
      else if (f.op != "HAS_PROPERTY" && f.op != "NOT_HAS_PROPERTY") w.kv("value", f.value);
      if (!f.high_value.empty()) w.kv("highValue", f.high_value);
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  w.key("sorts");
  w->StartArray();
  for (const auto& s : q.sorts) {
    w->StartObject();
    w.kv("propertyName", s.property);
    w.kv("direction", s.ascending ? "ASCENDING" : "DESCENDING");
    w->EndObject();
  }
  w->EndArray();
  codec::write_string_array(w, "properties", q.properties);
  w.key("limit");
  w->Int(q.limit);
  if (!q.after.empty()) w.kv("after", q.after);
  w->EndObject();
  return w.take();
}

// Numeric order of HubSpot ids (decimal strings without leading zeros).
bool id_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

model::Result<SearchPage> SearchApi::search(const std::string& type, const SearchRequest& q) {
  if (q.limit < 1 || q.limit > kMaxSearchLimit) return refuse("limit must be 1..200");
  if (q.sorts.size() > 1) return refuse("HubSpot allows one sort");
  if (q.filter_groups.size() > kMaxFilterGroups) return refuse("at most 5 filter groups");
  std::size_t total = 0;
  for (const auto& g : q.filter_groups) {
    if (g.size() > kMaxFiltersPerGroup) return refuse("at most 6 filters per group");
    total += g.size();
  }
  if (total > kMaxFiltersTotal) return refuse("at most 18 filters");
  if (!q.after.empty()) {
    auto after = model::parse_integer(q.after);
    if (after.ok() && *after + q.limit > kMaxSearchResults)
      return refuse("paging past the 10,000-result cap; re-seek with a filter instead");
  }
  const std::string body = body_of(q);
  if (body.size() > 3000 + q.properties.size() * 64) return refuse("request body too long");

  auto r = client_.call(HttpMethod::post, objects_path(type) + "/search", body,
                        {.op = "objects.search", .lane = ratelimit::Lane::search});
  if (!r.ok()) return std::move(r).error();
  if (r->status < 200 || r->status >= 300) return response_error(*r, "objects.search");
  try {
    auto d = json::parse(r->body);
    SearchPage page;
    page.total = json::get_int(d, "total");
    if (const auto* res = json::member(d, "results"); res && res->IsArray())
      for (const auto& o : res->GetArray()) page.records.push_back(codec::record_from_json(o));
    if (const auto* paging = json::member(d, "paging"))
      if (const auto* next = json::member(*paging, "next")) page.next_after = json::get_string(*next, "after");
    return page;
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string("objects.search: unreadable response: ") + ex.what());
  }
}

model::Result<pipeline::SweepPage> SearchApi::sweep(const std::string& type, const pipeline::SweepCursor& from,
                                                    const std::vector<std::string>& properties, int page_size,
                                                    const std::vector<Filter>& filters) {
  if (filters.size() > kMaxSweepFilters)
    return refuse("a sweep takes at most " + std::to_string(kMaxSweepFilters) + " filters beside its own");
  const std::string lm = codec::last_modified_property(type);
  const int limit = std::clamp(page_size, 1, kMaxSearchLimit);
  SearchRequest q;
  q.limit = limit;
  q.properties = properties;
  for (const char* p : {lm.c_str(), "hs_object_id", "hs_merged_object_ids"})
    if (std::find(q.properties.begin(), q.properties.end(), p) == q.properties.end()) q.properties.emplace_back(p);

  const std::string ms = std::to_string(from.modified_ms);
  // The caller's filters narrow the set the window walks through; the
  // window's order and cursor are the same on any subset.
  std::vector<Filter> g;
  if (from.in_tie) {
    g.push_back({lm, "EQ", ms, {}, {}});
    if (!from.after_id.empty()) g.push_back({"hs_object_id", "GT", from.after_id, {}, {}});
    q.sorts = {{"hs_object_id", true}};
  } else {
    g.push_back({lm, "GT", ms, {}, {}});
    q.sorts = {{lm, true}};
  }
  g.insert(g.end(), filters.begin(), filters.end());
  q.filter_groups = {g};
  auto page = search(type, q);
  if (!page.ok()) return std::move(page).error();

  // The object's modified time comes from the last-modified property; a
  // record without it falls back to updatedAt.
  auto modified_of = [&](model::Record& rec) {
    if (auto it = rec.fields.find(lm); it != rec.fields.end() && !it->second.is_null())
      if (auto t = model::parse_datetime(it->second.as_text()); t.ok()) rec.changed_at_ms = t->ms;
    return rec.changed_at_ms;
  };
  auto& recs = page->records;
  for (auto& rec : recs) modified_of(rec);

  pipeline::SweepPage out;
  if (!from.in_tie) out.remaining = page->total;
  const bool full = static_cast<int>(recs.size()) >= limit;
  if (from.in_tie) {
    out.next = from;
    // Every result advances the cursor, so a full page always makes progress.
    for (auto& rec : recs) {
      if (out.next.after_id.empty() || id_less(out.next.after_id, rec.hubspot_id)) out.next.after_id = rec.hubspot_id;
      out.records.push_back(std::move(rec));
    }
    if (!full) {
      out.next.in_tie = false;
    } else if (out.next.after_id == from.after_id) {
      // A full page with no id above the cursor (HubSpot ignored the id
      // filter, or sent objects without ids) would be asked for forever.
      return model::make_error(model::ErrorKind::fatal,
                               "objects.sweep: a full search page inside a tie of equal modified times brought no "
                               "object id above the cursor: the sweep cannot advance");
    }
    return out;
  }
  if (recs.empty()) {
    out.next = from;
    out.done = true;
    return out;
  }
  const std::int64_t last_ms = recs.back().changed_at_ms;
  if (last_ms <= from.modified_ms)
    return model::make_error(model::ErrorKind::fatal,
                             "objects.sweep: search returned objects not modified after the cursor (property " +
                                 lm + " unreadable?)");
  if (!full) {
    // Everything after the cursor fit in one page: the sweep is caught up.
    std::string last_id;
    for (auto& rec : recs) {
      if (rec.changed_at_ms == last_ms && (last_id.empty() || id_less(last_id, rec.hubspot_id))) last_id = rec.hubspot_id;
      out.records.push_back(std::move(rec));
    }
    out.next = pipeline::SweepCursor{last_ms, last_id, true};
    out.done = true;
    return out;
  }
  // A full page may stop inside a run of equal timestamps: keep what is
  // strictly older; the next page starts at that timestamp (GT last - 1),
  // so the run comes first there, whole unless it fills a page by itself.
  // Only a page holding nothing older (a run of a page or more) needs the
  // tie phase, which reads that timestamp by id.
  for (auto& rec : recs)
    if (rec.changed_at_ms < last_ms && rec.changed_at_ms > from.modified_ms) out.records.push_back(std::move(rec));
  out.next = out.records.empty() ? pipeline::SweepCursor{last_ms, "", true}
                                 : pipeline::SweepCursor{last_ms - 1, "", false};
  return out;
}

}  // namespace hubsync::hubspot
