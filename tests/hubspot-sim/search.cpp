#include "tests/hubspot-sim/search.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "tests/hubspot-sim/validation.h"

namespace hubsync::sim {
namespace {

const std::set<std::string>& operators() {
  static const std::set<std::string> ops = {
      "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
      "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"};
  return ops;
}

ApiError bad(const std::string& msg) { return make_api_error(400, "VALIDATION_ERROR", msg); }

enum class Kind { kNumber, kTime, kText };

Kind kind_of(const ObjectType& type, const std::string& prop) {
  if (prop == "hs_object_id") return Kind::kNumber;
  const PropertyDef* d = type.find_property(prop);
  if (!d) return Kind::kText;
  if (d->type == "number") return Kind::kNumber;
  if (d->type == "date" || d->type == "datetime") return Kind::kTime;
  return Kind::kText;
}

// -1, 0, 1, or 2 when the two values cannot be compared.
int compare(Kind k, const std::string& a, const std::string& b) {
  if (k == Kind::kNumber) {
    auto x = parse_number(a), y = parse_number(b);
    if (!x || !y) return 2;
    return *x < *y ? -1 : (*x > *y ? 1 : 0);
  }
  if (k == Kind::kTime) {
    auto x = parse_time_ms(a), y = parse_time_ms(b);
    if (!x || !y) return 2;
    return *x < *y ? -1 : (*x > *y ? 1 : 0);
  }
  std::string la = to_lower(a), lb = to_lower(b);
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

std::vector<std::string> tokens(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      cur.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// HubSpot's APIs take dates and datetimes as epoch milliseconds (its FAQ
// "How should timestamps be formatted for HubSpot's APIs?"); a search value
// in any other form is refused here, the stricter reading (see README).
void check_time_value(const SearchFilter& f, const std::string& v) {
  if (v.empty()) return;
  const bool ms = std::all_of(v.begin() + (v[0] == '-' ? 1 : 0), v.end(),
                              [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!ms || v == "-")
    throw bad("Invalid value \"" + v + "\" for " + f.op + " on the date/datetime property " + f.property +
              ": use a Unix timestamp in milliseconds");
}

bool glob(const std::string& pat, const std::string& s) {
  size_t p = 0, i = 0, star = std::string::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == s[i]) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool contains_token(const std::string& value, const std::string& token) {
  std::string t = to_lower(token);
  if (t.find('*') != std::string::npos) {
    if (glob(t, to_lower(value))) return true;
    for (const auto& tok : tokens(value))
      if (glob(t, tok)) return true;
    return false;
  }
  auto want = tokens(t);
  auto have = tokens(value);
  if (want.empty()) return false;
  // every token of the filter value must appear, in order, as a run
  for (size_t i = 0; i + want.size() <= have.size(); ++i)
    if (std::equal(want.begin(), want.end(), have.begin() + static_cast<std::ptrdiff_t>(i)))
      return true;
  return false;
}

bool eval(const SearchFilter& f, const ObjectType& type, const Props& props) {
  auto it = props.find(f.property);
  bool has = it != props.end() && !it->second.empty();
  const std::string empty;
  const std::string& v = has ? it->second : empty;
  Kind k = kind_of(type, f.property);
  const std::string& op = f.op;
  if (op == "HAS_PROPERTY") return has;
  if (op == "NOT_HAS_PROPERTY") return !has;
  if (op == "NEQ") return !has || compare(k, v, f.value) != 0;
  if (op == "NOT_IN") {
    if (!has) return true;
    return std::none_of(f.values.begin(), f.values.end(),
                        [&](const std::string& x) { return compare(k, v, x) == 0; });
  }
  if (op == "NOT_CONTAINS_TOKEN") return !has || !contains_token(v, f.value);
  if (!has) return false;
  if (op == "EQ") return compare(k, v, f.value) == 0;
  if (op == "IN")
    return std::any_of(f.values.begin(), f.values.end(),
                       [&](const std::string& x) { return compare(k, v, x) == 0; });
  if (op == "CONTAINS_TOKEN") return contains_token(v, f.value);
  if (op == "BETWEEN") {
    int lo = compare(k, v, f.value), hi = compare(k, v, f.high_value);
    return lo != 2 && hi != 2 && lo >= 0 && hi <= 0;
  }
  int c = compare(k, v, f.value);
  if (c == 2) return false;
  if (op == "LT") return c < 0;
  if (op == "LTE") return c <= 0;
  if (op == "GT") return c > 0;
  if (op == "GTE") return c >= 0;
  return false;
}

}  // namespace

SearchQuery parse_search(const rapidjson::Value& body, size_t body_chars, const ObjectType& type) {
  if (!body.IsObject()) throw bad("Invalid input JSON: expected an object");
  if (body_chars > kSearchMaxBodyChars)
    throw bad("Search request body is too long: " + std::to_string(body_chars) +
              " characters, the limit is " + std::to_string(kSearchMaxBodyChars));
  SearchQuery q;
  auto fg = body.FindMember("filterGroups");
  int total_filters = 0;
  if (fg != body.MemberEnd() && fg->value.IsArray()) {
    if (fg->value.Size() > static_cast<unsigned>(kSearchMaxGroups))
      throw bad("Too many filter groups: " + std::to_string(fg->value.Size()) + ", the limit is " +
                std::to_string(kSearchMaxGroups));
    for (const auto& g : fg->value.GetArray()) {
      std::vector<SearchFilter> group;
      auto fl = g.FindMember("filters");
      if (fl == g.MemberEnd() || !fl->value.IsArray()) throw bad("filterGroups[].filters is required");
      if (fl->value.Size() > static_cast<unsigned>(kSearchMaxFiltersPerGroup))
        throw bad("Too many filters in a filter group: " + std::to_string(fl->value.Size()) +
                  ", the limit is " + std::to_string(kSearchMaxFiltersPerGroup));
      for (const auto& fv : fl->value.GetArray()) {
        SearchFilter f;
        f.property = get_string(fv, "propertyName");
        f.op = get_string(fv, "operator", "EQ");
        if (!operators().count(f.op)) throw bad("Invalid operator: " + f.op);
        if (f.property.empty()) throw bad("filters[].propertyName is required");
        if (f.property != "hs_object_id" && !type.find_property(f.property))
          throw bad("There was a problem with the request. Property \"" + f.property +
                    "\" does not exist");
        if (auto it = fv.FindMember("value"); it != fv.MemberEnd()) f.value = scalar_to_string(it->value);
        if (auto it = fv.FindMember("highValue"); it != fv.MemberEnd())
          f.high_value = scalar_to_string(it->value);
        if (auto it = fv.FindMember("values"); it != fv.MemberEnd() && it->value.IsArray())
          for (const auto& x : it->value.GetArray()) f.values.push_back(scalar_to_string(x));
        if ((f.op == "IN" || f.op == "NOT_IN") && f.values.empty())
          throw bad("Operator " + f.op + " requires `values`");
        if (f.op == "BETWEEN" && f.high_value.empty()) throw bad("Operator BETWEEN requires `highValue`");
        if (kind_of(type, f.property) == Kind::kTime) {
          check_time_value(f, f.value);
          check_time_value(f, f.high_value);
          for (const auto& v : f.values) check_time_value(f, v);
        }
        group.push_back(std::move(f));
        ++total_filters;
      }
      q.groups.push_back(std::move(group));
    }
  }
  if (total_filters > kSearchMaxFilters)
    throw bad("Too many filters: " + std::to_string(total_filters) + ", the limit is " +
              std::to_string(kSearchMaxFilters));
  if (auto it = body.FindMember("sorts"); it != body.MemberEnd() && it->value.IsArray()) {
    if (it->value.Size() > 1) throw bad("Only one sort is allowed");
    if (it->value.Size() == 1) {
      const auto& s = it->value[0];
      if (s.IsString()) {
        q.sort_property = s.GetString();
        if (!q.sort_property.empty() && q.sort_property[0] == '-') {
          q.sort_descending = true;
          q.sort_property.erase(0, 1);
        }
      } else {
        q.sort_property = get_string(s, "propertyName");
        q.sort_descending = get_string(s, "direction", "ASCENDING") == "DESCENDING";
      }
    }
  }
  if (auto it = body.FindMember("properties"); it != body.MemberEnd() && it->value.IsArray())
    for (const auto& p : it->value.GetArray())
      if (p.IsString()) q.properties.emplace_back(p.GetString());
  if (auto it = body.FindMember("limit"); it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsInt()) throw bad("limit must be an integer");
    q.limit = it->value.GetInt();
    if (q.limit < 1 || q.limit > kSearchMaxLimit)
      throw bad("limit must be between 1 and " + std::to_string(kSearchMaxLimit));
  }
  if (auto it = body.FindMember("after"); it != body.MemberEnd() && !it->value.IsNull()) {
    std::string a = scalar_to_string(it->value);
    if (!a.empty()) {
      auto n = parse_number(a);
      if (!n || *n < 0) throw bad("Invalid after: " + a);
      q.after = static_cast<std::int64_t>(*n);
    }
  }
  if (q.after + q.limit > kSearchResultCap)
    throw bad("The search API can return at most " + std::to_string(kSearchResultCap) +
              " results per query; after=" + std::to_string(q.after) + " limit=" +
              std::to_string(q.limit) + " goes past that");
  q.query = get_string(body, "query");
  return q;
}

bool search_matches(const SearchQuery& q, const ObjectType& type, const Props& props) {
  if (!q.query.empty()) {
    std::string needle = to_lower(q.query);
    bool hit = false;
    for (const auto& [k, v] : props) {
      (void)k;
      if (to_lower(v).find(needle) != std::string::npos) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  if (q.groups.empty()) return true;
  for (const auto& g : q.groups) {
    bool all = true;
    for (const auto& f : g)
      if (!eval(f, type, props)) {
        all = false;
        break;
      }
    if (all) return true;
  }
  return false;
}

bool search_less(const SearchQuery& q, const ObjectType& type, const Props& a, std::uint64_t a_id,
                 const Props& b, std::uint64_t b_id) {
  if (!q.sort_property.empty()) {
    auto ia = a.find(q.sort_property), ib = b.find(q.sort_property);
    bool ha = ia != a.end() && !ia->second.empty(), hb = ib != b.end() && !ib->second.empty();
    if (ha != hb) return ha;  // missing values last
    if (ha) {
      int c = compare(kind_of(type, q.sort_property), ia->second, ib->second);
      if (c == 2) c = ia->second < ib->second ? -1 : (ia->second > ib->second ? 1 : 0);
      if (c != 0) return q.sort_descending ? c > 0 : c < 0;
    }
  }
  return a_id < b_id;
}

}  // namespace hubsync::sim
