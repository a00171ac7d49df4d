// The three-way merge (engine/reconcile): the table-driven cases under
// tests/data/reconcile/, and properties checked over every combination.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/mapping/parser.h"
#include "engine/reconcile/merge.h"
#include "tests/support/pg.h"

namespace hubsync::reconcile {
namespace {

using mapping::ConflictPolicy;
using mapping::Direction;

std::string data_file(const std::string& name) {
  return ::hubsync::test::source_dir() + "/tests/data/reconcile/" + name;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// `?` unknown, `_` empty, anything else itself.
std::optional<std::string> value_of(const std::string& w) {
  if (w == "?") return std::nullopt;
  if (w == "_") return std::string();
  return w;
}

Direction direction_of(const std::string& w) {
  if (w == "to_hubspot") return Direction::to_hubspot;
  if (w == "to_postgres") return Direction::to_postgres;
  EXPECT_EQ(w, "both");
  return Direction::both;
}

ConflictPolicy policy_of(const std::string& w) {
  if (w == "postgres") return ConflictPolicy::postgres;
  if (w == "hubspot") return ConflictPolicy::hubspot;
  EXPECT_EQ(w, "newest");
  return ConflictPolicy::newest;
}

// Calls fn(line_number, line) for each case line of a data file.
template <class F>
int for_each_case(const std::string& file, F fn) {
  std::ifstream in(data_file(file));
  EXPECT_TRUE(in.good()) << "cannot read " << data_file(file);
  int n = 0, line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    fn(line_no, line);
    ++n;
  }
  return n;
}

// "lhs -> rhs" split into the parts between '|'.
std::vector<std::string> parts(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  const std::string body = line.substr(0, line.find("->"));
  while (true) {
    auto bar = body.find('|', start);
    out.push_back(body.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  out.push_back(line.substr(line.find("->") + 2));
  return out;
}

struct Expected {
  std::string action;
  bool conflict = false, needs_time = false;
  std::optional<std::optional<std::string>> value;  // set when "= v" is given
};

Expected expected_of(const std::string& rhs) {
  Expected e;
  auto w = words(rhs);
  e.action = w.at(0);
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "conflict") e.conflict = true;
    else if (w[i] == "needs_time") e.needs_time = true;
    else if (w[i] == "=" && i + 1 < w.size()) e.value = value_of(w[++i]);
  }
  return e;
}

void check(const std::string& where, const Decision& d, const Expected& e,
           const std::optional<std::string>& pg, const std::optional<std::string>& hs) {
  EXPECT_EQ(to_string(d.action), e.action) << where;
  EXPECT_EQ(d.conflict, e.conflict) << where;
  EXPECT_EQ(d.needs_hubspot_time, e.needs_time) << where;
  if (e.value) {
    EXPECT_EQ(d.value, e.value->value_or("")) << where;
  } else if (d.action == Action::write_hubspot) {
    EXPECT_EQ(d.value, pg.value_or("")) << where;
  } else if (d.action == Action::write_postgres) {
    EXPECT_EQ(d.value, hs.value_or("")) << where;
  }
}

TEST(Merge, EveryCaseOfTheTable) {
  int n = for_each_case("merge.cases", [](int line_no, const std::string& line) {
    const std::string where = "merge.cases:" + std::to_string(line_no) + ": " + line;
    auto p = parts(line);
    ASSERT_EQ(p.size(), 4u) << where;
    auto head = words(p[0]), values = words(p[1]), times = words(p[2]);
    ASSERT_EQ(head.size(), 2u) << where;
    ASSERT_EQ(values.size(), 3u) << where;
    ASSERT_EQ(times.size(), 2u) << where;
    FieldState f{value_of(values[0]), value_of(values[1]), value_of(values[2]),
                 std::stoll(times[0]), std::stoll(times[1])};
    if (auto slash = values[0].find('/'); slash != std::string::npos) {
      f.base = value_of(values[0].substr(0, slash));
      f.base_hs = value_of(values[0].substr(slash + 1));
    }
    check(where, decide(f, direction_of(head[0]), policy_of(head[1])), expected_of(p[3]), f.pg, f.hs);
  });
  EXPECT_GE(n, 95);
}

// Over every combination of values, times, directions and policies: the
// direction is never violated, a write carries the value of the side it
// comes from, and swapping the sides mirrors the decision.
TEST(Merge, PropertiesHoldForEveryCombination) {
  const std::vector<std::optional<std::string>> bases{std::nullopt, "", "a"};
  const std::vector<std::optional<std::string>> sides{std::nullopt, "", "a", "b", "c"};
  const std::vector<std::pair<std::int64_t, std::int64_t>> times{{1, 2}, {2, 1}, {2, 2}, {1, 0}, {0, 1}};
  int checked = 0;
  for (auto dir : {Direction::both, Direction::to_hubspot, Direction::to_postgres})
    for (auto pol : {ConflictPolicy::postgres, ConflictPolicy::hubspot, ConflictPolicy::newest})
      for (const auto& base : bases)
        for (const auto& pg : sides)
          for (const auto& hs : sides)
            for (auto [pt, ht] : times) {
              FieldState f{base, pg, hs, pt, ht};
              Decision d = decide(f, dir, pol);
              if (dir == Direction::to_hubspot) {
                EXPECT_NE(d.action, Action::write_postgres);
              }
              if (dir == Direction::to_postgres) {
                EXPECT_NE(d.action, Action::write_hubspot);
              }
              if (d.action == Action::write_hubspot) {
                EXPECT_EQ(d.value, pg.value_or("?"));
              }
              if (d.action == Action::write_postgres) {
                EXPECT_EQ(d.value, hs.value_or("?"));
              }
              if (!pg || !hs) {
                EXPECT_FALSE(d.conflict);
              }
              if (pg && hs && *pg == *hs) {
                EXPECT_NE(d.action, Action::write_hubspot);
              }
              // Mirror: Postgres <-> HubSpot (times too, and a tie has a side).
              if (pt == ht || ht == 0 || pt == 0) continue;
              auto mirror_dir = dir == Direction::both ? dir
                                : dir == Direction::to_hubspot ? Direction::to_postgres
                                                               : Direction::to_hubspot;
              auto mirror_pol = pol == ConflictPolicy::newest ? pol
                                : pol == ConflictPolicy::postgres ? ConflictPolicy::hubspot
                                                                  : ConflictPolicy::postgres;
              Decision m = decide(FieldState{base, hs, pg, ht, pt}, mirror_dir, mirror_pol);
              auto mirrored = d.action == Action::write_hubspot    ? Action::write_postgres
                              : d.action == Action::write_postgres ? Action::write_hubspot
                                                                   : d.action;
              EXPECT_EQ(m.action, mirrored) << "base=" << base.value_or("?") << " pg="
                                            << pg.value_or("?") << " hs=" << hs.value_or("?");
              ++checked;
            }
  EXPECT_GT(checked, 1000);
}

// A record deleted on one side: the kept side's change since the base is an
// edit the deletion discards when the field's direction would have carried
// it across; no base, both sides or neither set, or no change: none.
TEST(Merge, AnEditIsLostToADeletionOnlyWhenItWouldHaveCrossed) {
  auto pg_kept = [](std::optional<std::string> base, std::string pg, Direction d) {
    return edit_lost_to_deletion(FieldState{base, pg, std::nullopt}, d);
  };
  auto hs_kept = [](std::optional<std::string> base, std::string hs, Direction d,
                    std::optional<std::string> base_hs = std::nullopt) {
    FieldState f{base, std::nullopt, hs};
    f.base_hs = base_hs;
    return edit_lost_to_deletion(f, d);
  };
  EXPECT_TRUE(pg_kept("a", "b", Direction::both));
  EXPECT_TRUE(pg_kept("a", "", Direction::both));  // cleared is a change too
  EXPECT_TRUE(pg_kept("a", "b", Direction::to_hubspot));
  EXPECT_FALSE(pg_kept("a", "b", Direction::to_postgres));  // would never have gone to HubSpot
  EXPECT_FALSE(pg_kept("a", "a", Direction::both));
  EXPECT_FALSE(pg_kept(std::nullopt, "b", Direction::both));  // never agreed: nothing known lost
  EXPECT_TRUE(hs_kept("a", "b", Direction::both));
  EXPECT_TRUE(hs_kept("a", "b", Direction::to_postgres));
  EXPECT_FALSE(hs_kept("a", "b", Direction::to_hubspot));
  EXPECT_FALSE(hs_kept("a", "a", Direction::both));
  // HubSpot's own form of the base (it normalised what was written) is no edit.
  EXPECT_FALSE(hs_kept("1.50", "1.5", Direction::both, "1.5"));
  EXPECT_TRUE(hs_kept("1.50", "2", Direction::both, "1.5"));
  EXPECT_FALSE(edit_lost_to_deletion(FieldState{"a", "b", "c"}, Direction::both));
  EXPECT_FALSE(edit_lost_to_deletion(FieldState{"a", std::nullopt, std::nullopt}, Direction::both));
}

// resync --overwrite: a one-way field's source wins wherever the sides
// differ, an empty value included, whatever the base says; a two-way field
// is merged as ever.
TEST(Merge, SourceWinsPutsTheSourceValueAcrossAnEmptyOneIncluded) {
  auto overwrite = [](std::optional<std::string> pg, std::optional<std::string> hs, Direction d) {
    FieldState f{"base", pg, hs};
    f.source_wins = true;
    return decide(f, d, ConflictPolicy::newest);
  };
  auto d = overwrite("", "hand", Direction::to_hubspot);
  EXPECT_EQ(d.action, Action::write_hubspot);
  EXPECT_EQ(d.value, "");
  EXPECT_FALSE(d.conflict);
  d = overwrite("", std::nullopt, Direction::to_hubspot);  // HubSpot not read (the push)
  EXPECT_EQ(d.action, Action::write_hubspot);
  EXPECT_EQ(d.value, "");
  EXPECT_EQ(overwrite("base", "base", Direction::to_hubspot).action, Action::adopt);
  d = overwrite("hand", "", Direction::to_postgres);
  EXPECT_EQ(d.action, Action::write_postgres);
  EXPECT_EQ(d.value, "");
  EXPECT_EQ(overwrite(std::nullopt, "x", Direction::to_hubspot).action, Action::none) << "source not read";
  EXPECT_EQ(overwrite("a", "a", Direction::to_postgres).action, Action::adopt);
  // Without the mark, the same base keeps the first-link and base rules.
  EXPECT_EQ(decide(FieldState{std::nullopt, "", "hand"}, Direction::to_hubspot, ConflictPolicy::newest).action,
            Action::none);
  // A two-way field ignores the mark: both changed since "base" is a conflict.
  auto both = overwrite("p", "h", Direction::both);
  EXPECT_TRUE(both.conflict || both.needs_hubspot_time);
}

// --- values compared after the mapping's transforms and normalisation ---

mapping::Mapping one_field(const std::string& type, const std::string& transform) {
  std::string yaml =
      "name: t\npostgres: {table: public.t, key: id}\nhubspot: {object: contacts, match: email}\n"
      "fields:\n  - {column: email, property: email}\n"
      "  - {column: v, property: p, type: " + type + (transform.empty() ? "" : ", transform: " + transform) + "}\n";
  auto parsed = mapping::parse_mapping(yaml, "t.yaml");
  if (!parsed.ok()) {
    std::string all;
    for (const auto& f : parsed.findings) all += f.to_string() + "\n";
    ADD_FAILURE() << all;
    return {};
  }
  return std::move(*parsed.mapping);
}

model::Value pg_value(const std::string& type, const std::string& text) {
  if (text == "<null>") return model::Value::null();
  if (text == "<empty>") return model::Value::text("");
  if (type == "integer") return model::Value::integer(*model::parse_integer(text));
  if (type == "decimal") return model::Value::decimal(*model::parse_decimal(text));
  if (type == "boolean") return model::Value::boolean(*model::parse_boolean(text));
  if (type == "date") return model::Value::date(*model::parse_date(text));
  if (type == "datetime") return model::Value::datetime(*model::parse_datetime(text));
  if (type == "multi_select") return model::Value::list(model::split_list(text));
  return model::Value::text(text);
}

TEST(Merge, ValuesEqualAfterNormalisationAreEqual) {
  int n = for_each_case("normalised.cases", [](int line_no, const std::string& line) {
    const std::string where = "normalised.cases:" + std::to_string(line_no) + ": " + line;
    auto p = parts(line);
    ASSERT_EQ(p.size(), 5u) << where;
    auto type = words(p[0]);
    ASSERT_FALSE(type.empty()) << where;
    const std::string transform = type.size() > 1 ? type[1] : "";
    auto m = one_field(type[0], transform);
    ASSERT_EQ(m.fields.size(), 2u) << where;
    const auto& field = m.fields[1];
    const std::string pg_text = words(p[2]).empty() ? "" : p[2].substr(p[2].find_first_not_of(' '));
    std::string pg_trim = pg_text.substr(0, pg_text.find_last_not_of(' ') + 1);
    std::string hs_text = p[3].substr(p[3].find_first_not_of(' '));
    hs_text = hs_text.substr(0, hs_text.find_last_not_of(' ') + 1);
    model::Fields row{{"v", pg_value(type[0], pg_trim)}};
    mapping::Properties props;
    if (hs_text != "<missing>") props["p"] = hs_text == "<empty>" ? "" : hs_text;
    auto pg = field.compare_from_postgres(row);
    auto hs = field.compare_from_hubspot(props);
    ASSERT_TRUE(pg.ok()) << where << ": " << pg.error().message;
    ASSERT_TRUE(hs.ok()) << where << ": " << hs.error().message;
    FieldState f{value_of(words(p[1]).at(0)), *pg, *hs, 1, 2};
    Decision d = decide(f, Direction::both, ConflictPolicy::newest);
    EXPECT_EQ(to_string(d.action), words(p[4]).at(0)) << where << " (pg '" << *pg << "', hs '" << *hs << "')";
  });
  EXPECT_GE(n, 20);
}

}  // namespace
}  // namespace hubsync::reconcile
