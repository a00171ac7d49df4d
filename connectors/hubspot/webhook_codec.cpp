#include "connectors/hubspot/webhook_codec.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "connectors/hubspot/json.h"

namespace hubsync::hubspot {

namespace {

using model::ErrorKind;
using model::make_error;

constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kClassicTypes = {{
    {"contact", "contacts"}, {"company", "companies"}, {"deal", "deals"}, {"ticket", "tickets"}}};

constexpr std::array<std::string_view, 7> kKinds = {
    "creation", "deletion", "propertyChange", "merge", "restore", "associationChange",
    "privacyDeletion"};

// A write of the app the event is for: hubsync's own (HUBSPOT-API.md:
// changeSource INTEGRATION, sourceId the writing app).
bool own_write(const rapidjson::Value& ev) {
  const auto source = json::opt_string(ev, "changeSource");
  if (!source || *source != "INTEGRATION") return false;
  const auto by = json::id_text(ev, "sourceId");
  const auto app = json::id_text(ev, "appId");
  return by && app && *by == *app;
}

model::Error field_error(std::size_t index, const char* what) {
  return make_error(ErrorKind::invalid_record,
                    fmt::format("webhook event [{}]: {}", index, what));
}

}  // namespace

model::Result<webhook::DecodedBatch> decode_webhook_events(std::string_view body, std::int64_t portal_id) {
  try {
    rapidjson::Document doc;
    try {
      doc = json::parse(body);
    } catch (const JsonError& e) {
      return make_error(ErrorKind::invalid_record, std::string("webhook body: ") + e.what());
    }
    if (!doc.IsArray()) return make_error(ErrorKind::invalid_record, "webhook body is not a JSON array");

    webhook::DecodedBatch out;
    out.total = doc.Size();
    out.events.reserve(doc.Size());
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
      const auto& ev = doc[i];
      if (!ev.IsObject()) return field_error(i, "not an object");
      const auto* st = json::member(ev, "subscriptionType");
      if (st == nullptr || !st->IsString()) return field_error(i, "no subscriptionType");
      const std::string type(st->GetString(), st->GetStringLength());
      const auto dot = type.find('.');
      const std::string_view prefix = std::string_view(type).substr(0, dot);
      const std::string_view kind =
          dot == std::string::npos ? std::string_view() : std::string_view(type).substr(dot + 1);

      std::optional<std::string> object_type;
      for (const auto& [p, t] : kClassicTypes)
        if (prefix == p) object_type = std::string(t);
      const bool generic = prefix == "object";
      bool known_kind = false;
      for (auto k : kKinds) known_kind = known_kind || kind == k;
      if ((!object_type && !generic) || !known_kind) {
        out.ignored_types.push_back(type);
        continue;
      }
      if (generic) {
        auto t = json::opt_string(ev, "objectTypeId");
        if (!t || t->empty()) return field_error(i, "object.* event without objectTypeId");
        object_type = std::move(t);
      }

      if (portal_id != 0) {
        const std::int64_t from = json::get_int(ev, "portalId", 0);
        if (from != portal_id) {
          out.other_portals.push_back(from);
          continue;
        }
      }
      if (own_write(ev)) {
        ++out.own_writes;
        continue;
      }
      state::InboxEvent e;
      auto event_id = json::id_text(ev, "eventId");
      if (!event_id) return field_error(i, "no eventId");
      e.event_id = std::move(*event_id);
      e.subscription_id = json::id_text(ev, "subscriptionId").value_or("");
      e.subscription_type = type;
      e.object_type = std::move(*object_type);
      auto object_id = json::id_text(ev, "objectId");
      if (!object_id && kind == "associationChange") object_id = json::id_text(ev, "fromObjectId");
      if (!object_id) return field_error(i, "no objectId");
      e.object_id = std::move(*object_id);
      e.occurred_at_ms = json::get_int(ev, "occurredAt", 0);
      if (kind == "propertyChange") {
        e.property_name = json::get_string(ev, "propertyName");
        if (e.property_name.empty()) return field_error(i, "propertyChange without propertyName");
        e.property_value = json::opt_string(ev, "propertyValue");
      }
      e.raw_json = json::to_string(ev);
      out.events.push_back(std::move(e));
    }
    return out;
  } catch (const std::exception& e) {
    // RapidJSON's asserts throw JsonError (json.h); nothing escapes the port.
    return make_error(ErrorKind::invalid_record, std::string("webhook body: ") + e.what());
  }
}

}  // namespace hubsync::hubspot
