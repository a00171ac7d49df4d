#include "connectors/hubspot/objects.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <unordered_map>

#include "connectors/hubspot/batch_codec.h"
#include "connectors/hubspot/codec.h"
#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"
#include "connectors/hubspot/oauth.h"
#include "engine/model/value.h"

namespace hubsync::hubspot {

namespace {

model::Error too_many(const char* op, std::size_t n, std::size_t max = kMaxBatchInputs) {
  return too_many_inputs(op, n, max);
}

// A whole-batch rejection: an error for several inputs, or the outcome of a
// single one.
model::Result<std::vector<WriteOutcome>> whole_batch_failure(const HttpResponse& r, std::size_t n,
                                                             const char* op) {
  auto api = parse_api_error(r.status, r.body);
  auto err = to_error(api, op);
  const bool per_record = err.kind == model::ErrorKind::invalid_record || err.kind == model::ErrorKind::conflict;
  if (n == 1 && per_record) {
    WriteOutcome o;
    o.error = err;
    if (api.existing_id) o.existing_id = *api.existing_id;
    return std::vector<WriteOutcome>{o};
  }
  return err;
}

model::Result<model::Record> single_object(const model::Result<HttpResponse>& r, const char* op) {
  if (!r.ok()) return r.error();
  if (!is_2xx(r->status)) return response_error(*r, op);
  try {
    return codec::record_from_json(json::parse(r->body));
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string(op) + ": unreadable response: " + ex.what());
  }
}

std::vector<std::string> with_merge_property(std::vector<std::string> props) {
  if (std::find(props.begin(), props.end(), "hs_merged_object_ids") == props.end())
    props.emplace_back("hs_merged_object_ids");
  return props;
}

// The shared shape of batch create/update/upsert: {"inputs":[...]} with one
// object per input (`write_input` fills it; a trace id is added when asked),
// posted to `path`, the answer mapped back to the inputs in order.
model::Result<std::vector<WriteOutcome>> send_batch_write(
    HubSpotClient& client, const std::string& path, CallOptions options, bool trace_ids, std::size_t n,
    const BatchKeys& keys, const std::function<void(json::Writer&, std::size_t)>& write_input) {
  json::Writer w;
  w->StartObject();
  w.key("inputs");
  w->StartArray();
  for (std::size_t i = 0; i < n; ++i) {
    w->StartObject();
    write_input(w, i);
    if (trace_ids) w.kv("objectWriteTraceId", std::to_string(i));
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
  auto r = client.call(HttpMethod::post, path, w.take(), options);
  if (!r.ok()) return std::move(r).error();
  if (!is_2xx(r->status)) return whole_batch_failure(*r, n, options.op);
  return parse_batch_write(*r, n, keys, options.op);
}

}  // namespace

std::string objects_path(const std::string& type) { return "/crm/v3/objects/" + url_encode(type); }

bool fits_in_url(const std::vector<std::string>& properties) {
  return codec::properties_query(properties).size() <= kMaxPropertiesQuery;
}

model::Result<std::optional<model::Record>> ObjectsApi::get(const std::string& type, const std::string& id,
                                                            const std::vector<std::string>& properties,
                                                            const std::string& id_property) {
  if (!fits_in_url(properties)) {
    auto r = batch_read(type, {id}, pipeline::ReadRequest{properties, {}, id_property, false});
    if (!r.ok()) return std::move(r).error();
    auto& o = r->front();
    if (o.error) return *o.error;
    return o.record;
  }
  const std::string props = codec::properties_query(properties);
  std::string path = objects_path(type) + "/" + url_encode(id) + "?archived=false";
  if (!props.empty()) path += "&properties=" + props;
  if (!id_property.empty()) path += "&idProperty=" + url_encode(id_property);
  auto r = client_.call(HttpMethod::get, path, "", {.op = "objects.get"});
  if (r.ok() && r->status == 404) return std::optional<model::Record>();
  auto rec = single_object(r, "objects.get");
  if (!rec.ok()) return std::move(rec).error();
  return std::optional<model::Record>(std::move(rec).value());
}

model::Result<ListPage> ObjectsApi::list(const std::string& type, const std::vector<std::string>& properties,
                                         const std::string& after, int limit, bool archived) {
  std::string path = objects_path(type) + "?limit=" + std::to_string(std::clamp(limit, 1, kMaxListLimit)) +
                     "&archived=" + (archived ? "true" : "false");
  if (!after.empty()) path += "&after=" + url_encode(after);
  const std::string props = codec::properties_query(properties);
  if (!props.empty()) path += "&properties=" + props;
  if (path.size() > kMaxPropertiesQuery + 200)
    return model::make_error(model::ErrorKind::fatal,
                             "objects.list: property list too long for a URL; list ids, then batch_read");
  auto r = client_.call(HttpMethod::get, path, "", {.op = "objects.list"});
  if (!r.ok()) return std::move(r).error();
  if (!is_2xx(r->status)) return response_error(*r, "objects.list");
  try {
    auto d = json::parse(r->body);
    ListPage page;
    if (const auto* res = json::member(d, "results"); res && res->IsArray())
      for (const auto& o : res->GetArray()) page.records.push_back(codec::record_from_json(o));
    if (const auto* paging = json::member(d, "paging"))
      if (const auto* next = json::member(*paging, "next")) page.next_after = json::get_string(*next, "after");
    return page;
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string("objects.list: unreadable response: ") + ex.what());
  }
}

model::Result<std::vector<ReadOutcome>> ObjectsApi::batch_read(const std::string& type,
                                                               const std::vector<std::string>& ids,
                                                               const pipeline::ReadRequest& request) {
  const std::size_t max = request.history.empty() ? kMaxBatchInputs : kMaxHistoryBatchInputs;
  if (ids.size() > max) return too_many("objects.batch_read", ids.size(), max);
  std::vector<ReadOutcome> out(ids.size());
  if (ids.empty()) return out;
  const std::string& id_property = request.id_property;
  json::Writer w;
  w->StartObject();
  w.key("inputs");
  w->StartArray();
  for (const auto& id : ids) {
    w->StartObject();
    w.kv("id", id);
    w->EndObject();
  }
  w->EndArray();
  auto props = with_merge_property(request.properties);
  if (!id_property.empty() && std::find(props.begin(), props.end(), id_property) == props.end())
    props.push_back(id_property);
  codec::write_string_array(w, "properties", props);
  codec::write_string_array(w, "propertiesWithHistory", request.history);
  if (!id_property.empty()) w.kv("idProperty", id_property);
  w->EndObject();
  const std::string path = objects_path(type) + "/batch/read?archived=" + (request.archived ? "true" : "false");
  auto r = client_.call(HttpMethod::post, path, w.take(), {.op = "objects.batch_read"});
  if (!r.ok()) return std::move(r).error();
  if (r->status == 404) return out;  // none of them exists
  if (!is_2xx(r->status)) return response_error(*r, "objects.batch_read");
  try {
    auto d = json::parse(r->body);
    // Inputs by key, exactly and case-folded; a repeated id gets every answer.
    std::unordered_map<std::string, std::vector<std::size_t>> exact, folded;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      exact[ids[i]].push_back(i);
      folded[codec::lower(ids[i])].push_back(i);
    }
    auto inputs_for = [&](const std::string& key, bool fold) -> const std::vector<std::size_t>* {
      const auto& index = fold ? folded : exact;
      auto it = index.find(fold ? codec::lower(key) : key);
      return it == index.end() ? nullptr : &it->second;
    };
    struct Found {
      model::Record rec;
      std::map<std::string, std::vector<pipeline::PropertyVersion>> history;
      std::string key;
    };
    std::vector<Found> found;
    if (const auto* res = json::member(d, "results"); res && res->IsArray()) {
      for (const auto& o : res->GetArray()) {
        Found f{codec::record_from_json(o), codec::history_from_json(o), ""};
        if (id_property.empty()) {
          f.key = f.rec.hubspot_id;
        } else if (auto it = f.rec.fields.find(id_property); it != f.rec.fields.end() && !it->second.is_null()) {
          f.key = it->second.as_text();
        }
        found.push_back(std::move(f));
      }
    }
    auto place = [&](std::size_t i, const Found& f, const std::string& merged_into) {
      if (out[i].record) return;
      out[i].record = f.rec;
      out[i].merged_into = merged_into;
      for (const auto& p : request.history) {
        auto h = f.history.find(p);
        out[i].history[p] = h == f.history.end() ? std::vector<pipeline::PropertyVersion>{} : h->second;
      }
    };
    // Exact keys first; then, for emails, case-folded ones (HubSpot answers
    // `A@x.com` with the record of `a@x.com`).
    for (bool fold : {false, true}) {
      if (fold && !codec::case_insensitive(id_property)) break;
      for (const auto& f : found)
        if (const auto* idx = inputs_for(f.key, fold))
          for (auto i : *idx) place(i, f, "");
    }
    // Inputs still unanswered by id may be ids a result absorbed in a merge
    // (HubSpot answers an absorbed id with the survivor).
    for (const auto& f : found) {
      auto m = f.rec.fields.find("hs_merged_object_ids");
      if (!id_property.empty() || m == f.rec.fields.end() || m->second.is_null()) continue;
      for (const auto& absorbed : model::split_list(m->second.as_text()))
        if (const auto* idx = inputs_for(absorbed, false))
          for (auto i : *idx) place(i, f, f.rec.hubspot_id);
    }
    if (const auto* errors = json::member(d, "errors"); errors && errors->IsArray()) {
      for (const auto& e : errors->GetArray()) {
        auto api = parse_api_error(400, json::to_string(e));
        if (api.category == "OBJECT_NOT_FOUND") continue;  // absent is an answer, not an error
        for (const auto& v : api.context_values())
          if (const auto* idx = inputs_for(v, codec::case_insensitive(id_property)))
            for (auto i : *idx)
              if (!out[i].record) out[i].error = to_error(api, "objects.batch_read");
      }
    }
    return out;
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string("objects.batch_read: unreadable response: ") + ex.what());
  }
}

model::Result<model::Record> ObjectsApi::create(const std::string& type, const model::Fields& properties) {
  json::Writer w;
  w->StartObject();
  codec::write_properties(w, properties);
  w->EndObject();
  return single_object(client_.call(HttpMethod::post, objects_path(type), w.take(),
                                    {.op = "objects.create", .idempotent = false}),
                       "objects.create");
}

model::Result<model::Record> ObjectsApi::update(const std::string& type, const std::string& id,
                                                const model::Fields& properties) {
  json::Writer w;
  w->StartObject();
  codec::write_properties(w, properties);
  w->EndObject();
  return single_object(client_.call(HttpMethod::patch, objects_path(type) + "/" + url_encode(id), w.take(),
                                    {.op = "objects.update"}),
                       "objects.update");
}

model::Status ObjectsApi::archive(const std::string& type, const std::string& id) {
  auto r = client_.call(HttpMethod::del, objects_path(type) + "/" + url_encode(id), "", {.op = "objects.archive"});
  if (!r.ok()) return std::move(r).error();
  if (is_2xx(r->status) || r->status == 404) return {};
  return response_error(*r, "objects.archive");
}

model::Result<std::vector<WriteOutcome>> ObjectsApi::batch_create(const std::string& type,
                                                                  const std::vector<model::Fields>& inputs) {
  if (inputs.size() > kMaxBatchInputs) return too_many("objects.batch_create", inputs.size());
  if (inputs.empty()) return std::vector<WriteOutcome>{};
  return send_batch_write(client_, objects_path(type) + "/batch/create",
                          {.op = "objects.batch_create", .idempotent = false}, trace_ids_, inputs.size(),
                          {}, [&](json::Writer& w, std::size_t i) { codec::write_properties(w, inputs[i]); });
}

model::Result<std::vector<WriteOutcome>> ObjectsApi::batch_update(const std::string& type,
                                                                  const std::vector<pipeline::UpdateInput>& inputs) {
  if (inputs.size() > kMaxBatchInputs) return too_many("objects.batch_update", inputs.size());
  if (inputs.empty()) return std::vector<WriteOutcome>{};
  BatchKeys keys;
  for (const auto& in : inputs) keys.keys.push_back(in.id);
  return send_batch_write(client_, objects_path(type) + "/batch/update", {.op = "objects.batch_update"},
                          trace_ids_, inputs.size(), keys, [&](json::Writer& w, std::size_t i) {
                            w.kv("id", inputs[i].id);
                            codec::write_properties(w, inputs[i].properties);
                          });
}

model::Result<std::vector<WriteOutcome>> ObjectsApi::batch_upsert(const std::string& type,
                                                                  const std::string& id_property,
                                                                  const std::vector<UpsertInput>& inputs) {
  if (inputs.size() > kMaxBatchInputs) return too_many("objects.batch_upsert", inputs.size());
  if (inputs.empty()) return std::vector<WriteOutcome>{};
  BatchKeys keys;
  keys.key_property = id_property;
  for (const auto& in : inputs) keys.keys.push_back(in.match_value);
  return send_batch_write(client_, objects_path(type) + "/batch/upsert", {.op = "objects.batch_upsert"},
                          trace_ids_, inputs.size(), keys, [&](json::Writer& w, std::size_t i) {
                            w.kv("id", inputs[i].match_value);
                            w.kv("idProperty", id_property);
                            codec::write_properties(w, inputs[i].properties);
                          });
}

model::Result<std::vector<WriteOutcome>> ObjectsApi::batch_archive(const std::string& type,
                                                                   const std::vector<std::string>& ids) {
  if (ids.size() > kMaxBatchInputs) return too_many("objects.batch_archive", ids.size());
  std::vector<WriteOutcome> out(ids.size());
  if (ids.empty()) return out;
  json::Writer w;
  w->StartObject();
  w.key("inputs");
  w->StartArray();
  for (const auto& id : ids) {
    w->StartObject();
    w.kv("id", id);
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
  auto r = client_.call(HttpMethod::post, objects_path(type) + "/batch/archive", w.take(),
                        {.op = "objects.batch_archive"});
  if (!r.ok()) return std::move(r).error();
  if (!is_2xx(r->status) && r->status != 404) return whole_batch_failure(*r, ids.size(), "objects.batch_archive");
  for (std::size_t i = 0; i < ids.size(); ++i) out[i].hubspot_id = ids[i];
  return out;
}

model::Result<model::Record> ObjectsApi::merge(const std::string& type, const std::string& primary_id,
                                               const std::string& merged_id) {
  json::Writer w;
  w->StartObject();
  w.kv("primaryObjectId", primary_id);
  w.kv("objectIdToMerge", merged_id);
  w->EndObject();
  // A repeated merge of already-merged ids fails harmlessly; still, only a
  // surely-unprocessed request is retried.
  return single_object(client_.call(HttpMethod::post, objects_path(type) + "/merge", w.take(),
                                    {.op = "objects.merge", .idempotent = false}),
                       "objects.merge");
}

}  // namespace hubsync::hubspot
