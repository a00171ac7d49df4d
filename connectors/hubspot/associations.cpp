#include "connectors/hubspot/associations.h"

#include <unordered_map>

#include "connectors/hubspot/errors.h"
#include "connectors/hubspot/json.h"
#include "connectors/hubspot/oauth.h"

namespace hubsync::hubspot {

namespace {


std::vector<pipeline::AssociationType> read_types(const rapidjson::Value* arr) {
  std::vector<pipeline::AssociationType> out;
  if (!arr || !arr->IsArray()) return out;
  for (const auto& t : arr->GetArray()) {
    pipeline::AssociationType a;
    a.category = json::get_string(t, "category");
    a.type_id = static_cast<std::int32_t>(json::get_int(t, "typeId"));
    a.label = json::get_string(t, "label");
    out.push_back(std::move(a));
  }
  return out;
}

void write_id(json::Writer& w, std::string_view key, const std::string& id) {
  w.key(key);
  w->StartObject();
  w.kv("id", id);
  w->EndObject();
}

// `{inputs:[{from:{id}, to:{id}, types:[{associationCategory, associationTypeId}]}]}`,
// the body of batch/create and batch/labels/archive.
std::string typed_pairs_body(const std::vector<pipeline::AssociationInput>& inputs) {
  json::Writer w;
  w->StartObject();
  w.key("inputs");
  w->StartArray();
  for (const auto& in : inputs) {
    w->StartObject();
    write_id(w, "from", in.from_id);
    write_id(w, "to", in.to_id);
    w.key("types");
    w->StartArray();
    w->StartObject();
    w.kv("associationCategory", in.type.category.empty() ? "HUBSPOT_DEFINED" : in.type.category);
    w.key("associationTypeId");
    w->Int(in.type.type_id);
    w->EndObject();
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
  return w.take();
}

// Archive calls answer 204; 404 (nothing there) counts as done.
model::Status archived_or_error(const model::Result<HttpResponse>& r, const char* op) {
  if (!r.ok()) return r.error();
  if (is_2xx(r->status) || r->status == 404) return {};
  return response_error(*r, op);
}

}  // namespace

std::string AssociationsApi::base(const std::string& from, const std::string& to) const {
  return "/crm/v4/associations/" + url_encode(from) + "/" + url_encode(to);
}

model::Result<std::vector<pipeline::WriteOutcome>> AssociationsApi::batch_create(
    const std::string& from, const std::string& to, const std::vector<pipeline::AssociationInput>& inputs) {
  if (inputs.size() > kMaxAssociationWrite) return too_many_inputs("associations.batch_create", inputs.size(), kMaxAssociationWrite);
  std::vector<pipeline::WriteOutcome> out(inputs.size());
  if (inputs.empty()) return out;
  auto r = client_.call(HttpMethod::post, base(from, to) + "/batch/create", typed_pairs_body(inputs),
                        {.op = "associations.batch_create"});
  if (!r.ok()) return std::move(r).error();
  if (!is_2xx(r->status)) {
    auto err = response_error(*r, "associations.batch_create");
    if (inputs.size() == 1 && (err.kind == model::ErrorKind::invalid_record || err.kind == model::ErrorKind::conflict)) {
      out[0].error = err;
      return out;
    }
    return err;
  }
  try {
    auto d = json::parse(r->body);
    for (std::size_t i = 0; i < inputs.size(); ++i) out[i].hubspot_id = inputs[i].from_id;
    if (const auto* errors = json::member(d, "errors"); errors && errors->IsArray()) {
      for (const auto& e : errors->GetArray()) {
        auto api = parse_api_error(400, json::to_string(e));
        for (const auto& v : api.context_values())
          for (std::size_t i = 0; i < inputs.size(); ++i)
            if ((inputs[i].from_id == v || inputs[i].to_id == v) && !out[i].error)
              out[i].error = to_error(api, "associations.batch_create");
      }
    }
    return out;
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string("associations.batch_create: ") + ex.what());
  }
}

model::Result<std::vector<pipeline::Associated>> AssociationsApi::batch_read(const std::string& from,
                                                                             const std::string& to,
                                                                             const std::vector<std::string>& ids) {
  if (ids.size() > kMaxAssociationRead) return too_many_inputs("associations.batch_read", ids.size(), kMaxAssociationRead);
  std::vector<pipeline::Associated> out(ids.size());
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out[i].from_id = ids[i];
    index.emplace(ids[i], i);
  }
  // (id, after) still to read; each round asks for the next page of each.
  std::vector<std::pair<std::string, std::string>> pending;
  for (const auto& id : ids) pending.emplace_back(id, "");
  for (int round = 0; !pending.empty(); ++round) {
    if (round > 10'000)
      return model::make_error(model::ErrorKind::fatal, "associations.batch_read: paging does not end");
    json::Writer w;
    w->StartObject();
    w.key("inputs");
    w->StartArray();
    for (const auto& [id, after] : pending) {
      w->StartObject();
      w.kv("id", id);
      if (!after.empty()) w.kv("after", after);
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
    auto r = client_.call(HttpMethod::post, base(from, to) + "/batch/read", w.take(), {.op = "associations.batch_read"});
    if (!r.ok()) return std::move(r).error();
    if (r->status == 404) break;  // none of them has associations
    if (!is_2xx(r->status)) return response_error(*r, "associations.batch_read");
    pending.clear();
    try {
      auto d = json::parse(r->body);
      if (const auto* res = json::member(d, "results"); res && res->IsArray()) {
        for (const auto& item : res->GetArray()) {
          const auto* f = json::member(item, "from");
          if (!f) continue;
          auto it = index.find(json::get_string(*f, "id"));
          if (it == index.end()) continue;
          auto& dest = out[it->second];
          if (const auto* tos = json::member(item, "to"); tos && tos->IsArray()) {
            for (const auto& t : tos->GetArray())
              dest.to.push_back({json::get_string(t, "toObjectId"), read_types(json::member(t, "associationTypes"))});
          }
          if (const auto* paging = json::member(item, "paging"))
            if (const auto* next = json::member(*paging, "next")) {
              auto after = json::get_string(*next, "after");
              if (!after.empty()) pending.emplace_back(dest.from_id, after);
            }
        }
      }
    } catch (const std::exception& ex) {
      return model::make_error(model::ErrorKind::transient, std::string("associations.batch_read: ") + ex.what());
    }
  }
  return out;
}

model::Status AssociationsApi::batch_archive(const std::string& from, const std::string& to,
                                             const std::vector<std::pair<std::string, std::string>>& pairs) {
  if (pairs.size() > kMaxAssociationWrite) return too_many_inputs("associations.batch_archive", pairs.size(), kMaxAssociationWrite);
  if (pairs.empty()) return {};
  json::Writer w;
  w->StartObject();
  w.key("inputs");
  w->StartArray();
  for (const auto& [f, t] : pairs) {
    w->StartObject();
    write_id(w, "from", f);
    w.key("to");
    w->StartArray();
    w->StartObject();
    w.kv("id", t);
    w->EndObject();
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
  return archived_or_error(client_.call(HttpMethod::post, base(from, to) + "/batch/archive", w.take(),
                                        {.op = "associations.batch_archive"}),
                           "associations.batch_archive");
}

model::Status AssociationsApi::batch_archive_labels(const std::string& from, const std::string& to,
                                                    const std::vector<pipeline::AssociationInput>& inputs) {
  if (inputs.size() > kMaxAssociationWrite)
    return too_many_inputs("associations.batch_archive_labels", inputs.size(), kMaxAssociationWrite);
  if (inputs.empty()) return {};
  return archived_or_error(client_.call(HttpMethod::post, base(from, to) + "/batch/labels/archive",
                                        typed_pairs_body(inputs), {.op = "associations.batch_archive_labels"}),
                           "associations.batch_archive_labels");
}

model::Result<std::vector<pipeline::AssociationType>> AssociationsApi::labels(const std::string& from,
                                                                              const std::string& to) {
  auto r = client_.call(HttpMethod::get, base(from, to) + "/labels", "", {.op = "associations.labels"});
  if (!r.ok()) return std::move(r).error();
  if (!is_2xx(r->status)) return response_error(*r, "associations.labels");
  try {
    auto d = json::parse(r->body);
    return read_types(json::member(d, "results"));
  } catch (const std::exception& ex) {
    return model::make_error(model::ErrorKind::transient, std::string("associations.labels: ") + ex.what());
  }
}

}  // namespace hubsync::hubspot
