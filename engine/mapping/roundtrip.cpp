// The round-trip proof: a field that syncs both ways must give back, after
// Postgres -> HubSpot -> Postgres, the value it started from, or the two
// sides would rewrite each other forever.
#include <limits>

#include "engine/mapping/parser.h"

namespace hubsync::mapping {

using model::Value;

namespace {

std::vector<Value> kind_samples(const FieldMapping& f) {
  std::vector<Value> out;
  switch (f.pg_kind) {
    case ValueType::text:
      if (f.type == FieldType::json) {
        for (const char* s : {"{\"a\":1}", "[1,2,{\"b\":\"x y\"}]", "\"s\"", "42"}) out.push_back(Value::text(s));
      } else {
        for (const char* s : {"Ada Lovelace", "x", "MiXeD Case", " padded ", "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "de",
                              "O'Brien-Smith"})
          out.push_back(Value::text(s));
      }
      break;
    case ValueType::integer:
      for (std::int64_t i : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{42},
                             std::int64_t{129900}, std::int64_t{9007199254740993},
                             std::numeric_limits<std::int64_t>::max()})
        out.push_back(Value::integer(i));
      break;
    case ValueType::decimal:
      for (const char* s : {"0", "1.5", "-2.25", "12345678901234567890.123456789"})
        out.push_back(Value::decimal(model::Decimal{s}));
      break;
    case ValueType::boolean:
      out.push_back(Value::boolean(true));
      out.push_back(Value::boolean(false));
      break;
    case ValueType::date:
      for (std::int32_t d : {0, 19782, -25568}) out.push_back(Value::date(model::Date{d}));
      break;
    case ValueType::datetime:
      for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1700000000123}, std::int64_t{-1000}})
        out.push_back(Value::datetime(model::DateTime{ms}));
      break;
    case ValueType::list:
      // An empty array is no value to HubSpot, like NULL: not sampled.
      out.push_back(Value::list({"vip", "beta"}));
      out.push_back(Value::list({"a b", "Mixed"}));
      break;
    case ValueType::null:
      break;
  }
  // Values a leading value_map or date_format accepts, which generic samples miss.
  if (!f.transforms.empty()) {
    const Transform& t = f.transforms.front();
    if (t.kind == TransformKind::value_map) {
      for (const auto& [pg, hs] : t.map) {
        auto v = coerce(Value::text(pg), f.pg_kind == ValueType::list ? ValueType::text : f.pg_kind);
        if (!v) continue;
        out.push_back(f.pg_kind == ValueType::list ? Value::list({pg}) : static_cast<const Value&>(*v));
      }
    } else if (t.kind == TransformKind::date_format && t.in == ValueType::text) {
      for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1709251199000}})
        out.push_back(Value::text(format_pattern(t.pattern, t.out == ValueType::date ? ms - ms % 86'400'000 : ms)));
    }
  }
  return out;
}

// HubSpot-side strings a both-way field may meet: values people type in
// HubSpot, not only the images of Postgres values.
std::vector<std::vector<std::string>> hubspot_samples(const FieldMapping& f) {
  std::vector<std::vector<std::string>> out;
  if (f.properties.size() > 1) {
    out.push_back({"Ada", "Lovelace"});
    out.push_back({"Mary Ann", "Evans"});
    return out;
  }
  if (!f.transforms.empty()) {
    const Transform& t = f.transforms.back();
    if (t.kind == TransformKind::value_map) {
      for (const auto& [pg, hs] : t.map) out.push_back({hs});
      return out;
    }
    if (t.kind == TransformKind::date_format && t.out == ValueType::text) {
      out.push_back({format_pattern(t.pattern, 1709251199000 - (t.in == ValueType::date ? 1709251199000 % 86'400'000 : 0))});
      return out;
    }
  }
  FieldMapping as_hs = f;  // samples of the HubSpot-side kind
  as_hs.pg_kind = f.hs_kind;
  as_hs.transforms.clear();
  for (const auto& v : kind_samples(as_hs)) out.push_back({format_hubspot(v)});
  return out;
}

std::string show(const std::vector<Value>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + ("'" + v.canonical() + "'");
  return out;
}

}  // namespace

std::string round_trip_counterexample(const FieldMapping& f) {
  std::vector<std::vector<Value>> rows;
  if (f.columns.size() > 1) {
    rows.push_back({Value::text("Ada"), Value::text("Lovelace")});
    rows.push_back({Value::text("Ada"), Value::null()});
    rows.push_back({Value::text("Mary Ann"), Value::text("Evans")});
  } else if (f.properties.size() > 1) {
    // A split keeps inner separators in the last part; values with leading
    // or trailing separators are not representable and not sampled.
    for (const char* s : {"Ada Lovelace", "Ada", "Jean Paul Sartre", "x"}) rows.push_back({Value::text(s)});
  } else {
    for (auto& v : kind_samples(f)) rows.push_back({v});
  }
  std::size_t sent = 0;
  for (const auto& sample : rows) {
    model::Fields row;
    std::vector<Value> expected;
    for (std::size_t i = 0; i < f.columns.size(); ++i) {
      row[f.columns[i]] = sample[i];
      auto c = coerce(sample[i], f.pg_kind);
      Value e = c ? *c : sample[i];
      if (f.type == FieldType::json && !e.is_null()) {
        auto j = normalise_json(e.canonical());
        if (j) e = Value::text(*j);
      }
      expected.push_back(e);
    }
    auto pushed = f.push(row);
    if (!pushed) continue;  // data the field rejects is not a round-trip failure
    ++sent;
    Properties props;
    for (std::size_t i = 0; i < f.properties.size(); ++i) props[f.properties[i]] = (*pushed)[i];
    auto pulled = f.pull(props);
    std::string hs;
    for (const auto& s : *pushed) hs += (hs.empty() ? "" : ", ") + ("'" + s + "'");
    if (!pulled) return show(sample) + " -> HubSpot " + hs + " cannot come back (" + pulled.error().message + ")";
    if (*pulled != expected)
      return show(sample) + " -> HubSpot " + hs + " -> " + show(*pulled);
  }
  if (sent == 0) return "no sample value could be sent to HubSpot";
  // And the other way: HubSpot -> Postgres -> HubSpot must compare equal.
  for (const auto& sample : hubspot_samples(f)) {
    Properties props;
    std::string hs;
    for (std::size_t i = 0; i < f.properties.size() && i < sample.size(); ++i) {
      props[f.properties[i]] = sample[i];
      hs += (hs.empty() ? "" : ", ") + ("'" + sample[i] + "'");
    }
    auto pulled = f.pull(props);
    if (!pulled) continue;
    model::Fields row;
    for (std::size_t i = 0; i < f.columns.size(); ++i) row[f.columns[i]] = (*pulled)[i];
    auto back = f.push(row);
    auto from_pg = f.compare_from_postgres(row);
    auto from_hs = f.compare_from_hubspot(props);
    if (!back || !from_pg || !from_hs || *from_pg != *from_hs) {
      std::string again;
      if (back)
        for (const auto& s : *back) again += (again.empty() ? "" : ", ") + ("'" + s + "'");
      return "HubSpot " + hs + " -> " + show(*pulled) + " -> HubSpot " + (back ? again : back.error().message);
    }
  }
  return {};
}

}  // namespace hubsync::mapping
