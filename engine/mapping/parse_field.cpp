// A field's transform chain and default value.
#include "engine/mapping/parse_parts.h"

namespace hubsync::mapping::detail {

using model::Value;

bool parse_transforms(Reader& r, const YAML::Node& node, FieldMapping& f) {
  std::vector<YAML::Node> items;
  if (node.IsSequence()) {
    for (const auto& item : node) items.push_back(item);
  } else {
    items.push_back(node);
  }
  ValueType kind = f.pg_kind;
  bool ok = true;
  for (const auto& item : items) {
    std::string tname;
    YAML::Node arg;
    bool has_arg = false;
    if (item.IsScalar()) {
      tname = item.Scalar();
    } else if (item.IsMap() && item.size() == 1) {
      auto it = item.begin();
      if (!it->first.IsScalar()) {
        r.error(item, "a transform is a name or {name: argument}");
        ok = false;
        continue;
      }
      tname = it->first.Scalar();
      arg = it->second;
      has_arg = true;
    } else {
      r.error(item, "a transform is a name or {name: argument}");
      ok = false;
      continue;
    }
    const auto& known = transform_names();
    std::size_t idx = 0;
    while (idx < known.size() && known[idx] != tname) ++idx;
    if (idx == known.size()) {
      r.error(item, "unknown transform `" + tname + "`" + Reader::hint(tname, known));
      ok = false;
      continue;
    }
    if (tname == "split_name" || tname == "split" || tname == "join_name" || tname == "join") {
      bool is_split = tname.rfind("split", 0) == 0;
      std::string sep = " ";
      if (tname == "split" || tname == "join") {
        auto s = has_arg ? r.scalar(arg, tname + " separator") : std::nullopt;
        if (!s || s->empty()) {
          if (s) r.error(item, tname + " needs a non-empty separator");
          else if (!has_arg) r.error(item, tname + " needs a separator: {" + tname + ": \" \"}");
          ok = false;
          continue;
        }
        sep = *s;
      }
      if (is_split ? f.properties.size() < 2 : f.columns.size() < 2) {
        r.error(item, tname + (is_split ? " needs `properties: [a, b]`" : " needs `columns: [a, b]`"));
        ok = false;
        continue;
      }
      if (!f.separator.empty()) {
        r.error(item, "only one split/join per field");
        ok = false;
        continue;
      }
      f.separator = sep;
      continue;
    }
    Transform t;
    t.kind = static_cast<TransformKind>(idx);
    t.mark = r.mark(item);
    bool takes_arg = t.kind == TransformKind::value_map || t.kind == TransformKind::date_format;
    if (takes_arg && !has_arg) {
      r.error(item, tname + (t.kind == TransformKind::value_map
                                  ? " needs its map: {value_map: {pg_value: hubspot_value}}"
                                  : " needs a pattern: {date_format: \"%d/%m/%Y\"}"));
      ok = false;
      continue;
    }
    if (!takes_arg && has_arg && !arg.IsNull()) {
      r.error(item, tname + " takes no argument");
      ok = false;
      continue;
    }
    if (t.kind == TransformKind::value_map) {
      if (!arg.IsMap()) {
        r.error(arg, "value_map must map Postgres values to HubSpot values");
        ok = false;
        continue;
      }
      for (auto it = arg.begin(); it != arg.end(); ++it) {
        if (!it->first.IsScalar() || !it->second.IsScalar()) {
          r.error(it->first, "value_map entries are `postgres value: hubspot value`");
          ok = false;
          continue;
        }
        for (const auto& [pg, hs] : t.map)
          if (pg == it->first.Scalar()) r.error(it->first, "value_map lists `" + pg + "` twice");
        t.map.emplace_back(it->first.Scalar(), it->second.Scalar());
      }
    } else if (t.kind == TransformKind::date_format) {
      auto s = r.scalar(arg, "date_format pattern");
      if (!s) {
        ok = false;
        continue;
      }
      t.pattern = *s;
    }
    std::string why = type_transform(t, kind);
    if (!why.empty()) {
      r.error(item, "field " + f.id + ": " + why);
      ok = false;
      continue;
    }
    kind = t.out;
    f.transforms.push_back(std::move(t));
  }
  f.hs_kind = kind;
  return ok;
}

bool parse_default(Reader& r, const YAML::Node& node, FieldMapping& f) {
  Value raw;
  if (node.IsSequence() && f.type == FieldType::multi_select) {
    std::vector<std::string> items;
    for (const auto& i : node)
      if (i.IsScalar()) items.push_back(i.Scalar());
    raw = Value::list(items);
  } else if (auto s = r.scalar(node, "default")) {
    raw = Value::text(*s);
  } else {
    return false;
  }
  auto v = coerce(raw, f.pg_kind);
  if (!v) {
    r.error(node, "field " + f.id + ": default " + v.error().message);
    return false;
  }
  f.default_value.emplace(std::move(*v));
  return true;
}

}  // namespace hubsync::mapping::detail
