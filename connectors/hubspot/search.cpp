#include "connectors/hubspot/search.h"

#include <algorithm>
#include <functional>

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
  if (body.size() > kMaxSearchBody)
    return refuse("request body of " + std::to_string(body.size()) + " characters; HubSpot takes " +
                  std::to_string(kMaxSearchBody) + ", properties included");

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

bool SearchApi::fits(const SearchRequest& request) { return body_of(request).size() <= kMaxSearchBody; }

namespace {

// The search one sweep page sends from `from`: in a tie, the objects
// modified at its time by id; else those modified later by time (up to
// its window's end), plus (a second filter group) those modified at its
// time that are not in `seen`. The caller's filters are ANDed into every
// group.
SearchRequest sweep_request(const std::string& lm, const pipeline::SweepCursor& from,
                            const std::vector<std::string>& properties, int limit,
                            const std::vector<Filter>& filters) {
  SearchRequest q;
  q.limit = limit;
  q.properties = properties;
  for (const char* p : {lm.c_str(), "hs_object_id", "hs_merged_object_ids"})
    if (std::find(q.properties.begin(), q.properties.end(), p) == q.properties.end()) q.properties.emplace_back(p);
  const std::string ms = std::to_string(from.modified_ms);
  auto group = [&](std::vector<Filter> g) {
    g.insert(g.end(), filters.begin(), filters.end());
    q.filter_groups.push_back(std::move(g));
  };
  if (from.in_tie) {
    std::vector<Filter> g{{lm, "EQ", ms, {}, {}}};
    if (!from.after_id.empty()) g.push_back({"hs_object_id", "GT", from.after_id, {}, {}});
    group(std::move(g));
    q.sorts = {{"hs_object_id", true}};
    return q;
  }
  std::vector<Filter> later{{lm, "GT", ms, {}, {}}};
  if (from.until_ms != pipeline::SweepCursor::kUnbounded)
    later.push_back({lm, "LTE", std::to_string(from.until_ms), {}, {}});
  group(std::move(later));
  if (!from.seen.empty()) group({{lm, "EQ", ms, {}, {}}, {"hs_object_id", "NOT_IN", {}, from.seen, {}}});
  q.sorts = {{lm, true}};
  return q;
}

bool seen(const pipeline::SweepCursor& from, const std::string& id) {
  return std::find(from.seen.begin(), from.seen.end(), id) != from.seen.end();
}

// Whether a window's search asked for `rec`: modified after the cursor, or
// at its time and not read before, which only a cursor that hands on ids
// asks for (sweep_request's second group).
bool in_window(const model::Record& rec, const pipeline::SweepCursor& from) {
  if (rec.changed_at_ms != from.modified_ms) return rec.changed_at_ms > from.modified_ms;
  return !from.seen.empty() && !seen(from, rec.hubspot_id);
}

// A page of the tie phase: objects modified at from.modified_ms, by id,
// less those the window read of them before (from.seen).
model::Result<pipeline::SweepPage> tie_page(std::vector<model::Record> recs, const pipeline::SweepCursor& from,
                                            bool full) {
  pipeline::SweepPage out;
  out.next = from;
  // Every result advances the cursor, so a full page always makes progress.
  for (auto& rec : recs) {
    if (out.next.after_id.empty() || id_less(out.next.after_id, rec.hubspot_id)) out.next.after_id = rec.hubspot_id;
    if (!seen(from, rec.hubspot_id)) out.records.push_back(std::move(rec));
  }
  if (!full) {
    out.next.in_tie = false;
    out.next.seen.clear();
  } else if (out.next.after_id == from.after_id) {
    // A full page with no id above the cursor (HubSpot ignored the id
    // filter, or sent objects without ids) would be asked for forever.
    return model::make_error(model::ErrorKind::fatal,
                             "objects.sweep: a full search page inside a tie of equal modified times brought no "
                             "object id above the cursor: the sweep cannot advance");
  }
  return out;
}

// A page of the window by time; `fits` says whether the search a cursor
// would send stays within HubSpot's caps.
model::Result<pipeline::SweepPage> window_page(const std::string& lm, SearchPage page,
                                               const pipeline::SweepCursor& from, bool full,
                                               const std::function<bool(const pipeline::SweepCursor&)>& fits) {
  pipeline::SweepPage out;
  out.remaining = page.total;
  auto& recs = page.records;
  if (recs.empty()) {
    out.next = from;
    out.done = true;
    return out;
  }
  const std::int64_t last_ms = recs.back().changed_at_ms;
  if (!in_window(recs.back(), from))
    return model::make_error(model::ErrorKind::fatal,
                             "objects.sweep: search returned objects not modified after the cursor (property " +
                                 lm + " unreadable?)");
  std::erase_if(recs, [&](const model::Record& r) { return !in_window(r, from); });
  // The ids of this page's last timestamp (and those read of it before).
  std::vector<std::string> run = last_ms == from.modified_ms ? from.seen : std::vector<std::string>{};
  std::string last_id;
  bool decimal_ids = true;  // what NOT_IN and the checkpoint's text can carry
  for (const auto& rec : recs)
    if (rec.changed_at_ms == last_ms) {
      run.push_back(rec.hubspot_id);
      decimal_ids = decimal_ids && !rec.hubspot_id.empty() &&
                    std::all_of(rec.hubspot_id.begin(), rec.hubspot_id.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (last_id.empty() || id_less(last_id, rec.hubspot_id)) last_id = rec.hubspot_id;
    }
  if (!full) {
    // Everything after the cursor fit in one page: the sweep is caught up.
    out.records = std::move(recs);
    out.next = pipeline::SweepCursor{last_ms, last_id, true, {}, from.until_ms};
    out.done = true;
    return out;
  }
  // A full page may stop inside a run of equal timestamps. The next page
  // asks past the ids read of it (NOT_IN), while they are few enough for
  // HubSpot's caps.
  pipeline::SweepCursor past{last_ms, "", false, std::move(run), from.until_ms};
  if (decimal_ids && past.seen.size() <= kMaxSweepSeen && fits(past)) {
    out.records = std::move(recs);
    out.next = std::move(past);
    return out;
  }
  // Too many: a run the previous pages began goes on to the tie phase,
  // which reads it by id and drops what they read of it; this page's share
  // of it waits for that.
  if (last_ms == from.modified_ms) {
    out.next = pipeline::SweepCursor{last_ms, "", true, from.seen, from.until_ms};
    return out;
  }
  // A run this page began: keep what is strictly older and start again at
  // that timestamp (GT last - 1), the run first there, whole unless it
  // fills a page by itself: only a page holding nothing older (a run of a
  // page or more) needs the tie phase.
  for (auto& rec : recs)
    if (rec.changed_at_ms < last_ms) out.records.push_back(std::move(rec));
  out.next = out.records.empty() ? pipeline::SweepCursor{last_ms, "", true, {}, from.until_ms}
                                 : pipeline::SweepCursor{last_ms - 1, "", false, {}, from.until_ms};
  return out;
}

}  // namespace

model::Result<SweepResult> SearchApi::sweep(const std::string& type, const pipeline::SweepCursor& from,
                                            const std::vector<std::string>& properties, int page_size,
                                            const std::vector<Filter>& filters) {
  if (filters.size() > kMaxSweepFilters)
    return refuse("a sweep takes at most " + std::to_string(kMaxSweepFilters) + " filters beside its own");
  const std::string lm = codec::last_modified_property(type);
  const int limit = std::clamp(page_size, 1, kMaxSearchLimit);
  SweepResult out;
  auto q = sweep_request(lm, from, properties, limit, filters);
  if (!fits(q)) {
    q = sweep_request(lm, from, {}, limit, filters);
    out.complete = false;
  }
  auto page = search(type, q);
  if (!page.ok()) return std::move(page).error();

  for (auto& rec : page->records) codec::stamp_modified(rec, lm);
  const bool full = static_cast<int>(page->records.size()) >= limit;
  // A cut run is handed on while the next search fits as this one was
  // sent: a page whose properties fit is not made to read them apart for
  // the sake of the ids handed on.
  const auto& asked = out.complete ? properties : std::vector<std::string>{};
  auto swept = from.in_tie ? tie_page(std::move(page->records), from, full)
                           : window_page(lm, std::move(*page), from, full, [&](const pipeline::SweepCursor& next) {
                               return fits(sweep_request(lm, next, asked, limit, filters));
                             });
  if (!swept.ok()) return std::move(swept).error();
  out.page = std::move(*swept);
  return out;
}

}  // namespace hubsync::hubspot
