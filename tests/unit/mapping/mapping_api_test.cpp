// The compiled Mapping as the push/pull pipeline and the merge use it.
#include <gtest/gtest.h>

#include <regex>

#include "engine/mapping/parser.h"
#include "test_util.h"

namespace hubsync::mapping {
namespace {

using model::Value;
using test::example;

model::Fields customer_row() {
  return {{"id", Value::integer(1)},
          {"email", Value::text("ada@acme.example")},
          {"first_name", Value::text("Ada")},
          {"last_name", Value::text("Lovelace")},
          {"phone", Value::null()},
          {"stage", Value::text("customer")},
          {"mrr_cents", Value::integer(129950)},
          {"tags", Value::list({"vip", "beta"})},
          {"status", Value::text("active")},
          {"account_id", Value::integer(1)},
          {"hubspot_id", Value::null()}};
}

TEST(MappingApi, PushesOnlyFieldsThatGoToHubspot) {
  Mapping m = example("customers");
  auto props = m.to_hubspot(customer_row());
  ASSERT_TRUE(props.ok()) << props.error().message;
  EXPECT_EQ((*props)["email"], "ada@acme.example");
  EXPECT_EQ((*props)["hubsync_mrr"], "1299.5");
  EXPECT_EQ((*props)["lifecyclestage"], "customer");
  EXPECT_EQ((*props)["hubsync_tags"], "vip;beta");
  EXPECT_EQ((*props)["phone"], "");  // null clears the HubSpot value
  EXPECT_EQ(props->count("hs_object_id"), 0u) << "to_postgres fields never go to HubSpot";
  auto all = m.to_hubspot(customer_row(), Scope::all);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->count("hs_object_id"), 1u);
}

TEST(MappingApi, PullsTypedColumnValues) {
  Mapping m = example("customers");
  Properties hs = {{"email", "ada@acme.example"}, {"firstname", "Ada"}, {"lastname", ""},
                   {"hubsync_mrr", "1299.50"}, {"lifecyclestage", "salesqualifiedlead"},
                   {"hubsync_tags", "beta;vip"}, {"hs_object_id", "501"}};
  auto row = m.to_postgres(hs);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)["mrr_cents"], Value::integer(129950));
  EXPECT_EQ((*row)["stage"], Value::text("qualified"));
  EXPECT_EQ((*row)["tags"], Value::list({"beta", "vip"}));
  EXPECT_EQ((*row)["last_name"], Value::null());
  EXPECT_EQ((*row)["hubspot_id"], Value::text("501"));
  EXPECT_EQ((*row)["phone"], Value::null()) << "a property missing from the response is null";
}

TEST(MappingApi, ComparesBothSidesInOneDomain) {
  Mapping m = example("customers");
  auto pg = m.compare_from_postgres(customer_row());
  Properties hs = {{"email", "ada@acme.example"}, {"firstname", "Ada"}, {"lastname", "Lovelace"},
                   {"hubsync_mrr", "1299.50"}, {"lifecyclestage", "customer"},
                   {"hubsync_tags", "beta;vip"}, {"phone", ""}};
  auto hsv = m.compare_from_hubspot(hs);
  ASSERT_TRUE(pg.ok() && hsv.ok());
  for (const char* f : {"email", "first_name", "last_name", "mrr_cents", "stage", "tags", "phone"})
    EXPECT_EQ((*pg)[f], (*hsv)[f]) << f;
  EXPECT_EQ((*pg)["mrr_cents"], "1299.5");
}

// A contact's email as HubSpot tells emails apart: the case and the
// spaces, tabs and line ends around it make no difference, and it goes to
// HubSpot without the whitespace, which HubSpot refuses.
TEST(MappingApi, AnEmailComparesAndGoesWithoutTheWhitespaceAroundIt) {
  EXPECT_EQ(email_form(" Ann@X.io\r\n"), "ann@x.io");
  EXPECT_EQ(email_form("\t a b@X.io "), "a b@x.io") << "only the whitespace around it";
  EXPECT_EQ(email_form(" \t "), "");
  EXPECT_EQ(email_form("\xC2\xA0zo\xC3\xAB@x.io"), "\xC2\xA0zo\xC3\xAB@x.io") << "ASCII whitespace only";
  Mapping m = example("customers");
  auto row = customer_row();
  row["email"] = Value::text("  Ada@Acme.example\r\n");
  auto props = m.to_hubspot(row);
  ASSERT_TRUE(props.ok()) << props.error().message;
  EXPECT_EQ((*props)["email"], "Ada@Acme.example") << "sent without the whitespace, its case as typed";
  auto pg = m.compare_from_postgres(row);
  auto hs = m.compare_from_hubspot({{"email", "ada@acme.example"}});
  ASSERT_TRUE(pg.ok() && hs.ok());
  EXPECT_EQ((*pg)["email"], (*hs)["email"]);
  row["first_name"] = Value::text(" Ada ");
  EXPECT_EQ(m.to_hubspot(row)->at("firstname"), " Ada ") << "other strings keep their spaces";
}

// A jsonb column gives back its own spelling of what HubSpot holds: keys
// in its order, one of duplicate keys, escapes decoded. Compared as text,
// each pull found the two sides apart and wrote Postgres's spelling back
// over the person's text in HubSpot.
TEST(MappingApi, JsonComparesAsTheDocumentAJsonbColumnHolds) {
  Mapping m = test::compile(R"(name: docs
postgres: {table: public.docs, key: id}
hubspot: {object: contacts, match: email}
fields:
  - {column: email, property: email}
  - {column: doc, property: hubsync_doc, type: json}
)");
  auto same = [&](const std::string& hubspot, const std::string& jsonb) {
    auto hs = m.compare_from_hubspot({{"email", "a@x.io"}, {"hubsync_doc", hubspot}});
    auto pg = m.compare_from_postgres({{"id", Value::integer(1)}, {"email", Value::text("a@x.io")},
                                       {"doc", Value::text(jsonb)}});
    EXPECT_TRUE(hs.ok() && pg.ok());
    return hs.ok() && pg.ok() && (*hs)["doc"] == (*pg)["doc"];
  };
  EXPECT_TRUE(same(R"({"b":1,"a":2})", R"({"a": 2, "b": 1})"));
  EXPECT_TRUE(same(R"({"k":1,"k":2})", R"({"k": 2})"));
  EXPECT_TRUE(same(R"({"s":"\u0041\n","n":[1.50, {"z":null,"y":true}]})",
                   R"({"n": [1.50, {"y": true, "z": null}], "s": "A\n"})"));
  EXPECT_TRUE(same(R"({ "a" :  1 })", R"({"a": 1})"));
  // Different documents stay different.
  EXPECT_FALSE(same(R"({"a":1})", R"({"a": "1"})"));
  EXPECT_FALSE(same(R"([1,2])", R"([2, 1])"));
  EXPECT_FALSE(same(R"({"k":1,"k":2})", R"({"k": 1})"));
  EXPECT_FALSE(same(R"({"a":1.5})", R"({"a": 1.50})"));  // numbers keep their text, as jsonb does
  // What the field sends to HubSpot keeps the row's own order.
  auto sent = m.to_hubspot({{"id", Value::integer(1)}, {"email", Value::text("a@x.io")},
                            {"doc", Value::text(R"({"b": 1, "a": 2})")}});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ((*sent)["hubsync_doc"], R"({"b":1,"a":2})");
}

TEST(MappingApi, BadDataIsInvalidRecordNamingMappingFieldAndValue) {
  Mapping m = example("customers");
  auto row = customer_row();
  row["stage"] = Value::text("vip");
  row["mrr_cents"] = Value::text("12.5");
  auto r = m.to_hubspot(row);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, model::ErrorKind::invalid_record);
  EXPECT_NE(r.error().message.find("mapping customers"), std::string::npos);
  EXPECT_NE(r.error().message.find("field stage: value 'vip' has no entry in value_map"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("field mrr_cents"), std::string::npos) << "every bad field is listed";

  auto pulled = m.to_postgres({{"email", "a@b.c"}, {"hubsync_mrr", "1.234"}});
  ASSERT_FALSE(pulled.ok());
  EXPECT_NE(pulled.error().message.find("field mrr_cents: amount '1.234' has more than 2 decimals"),
            std::string::npos)
      << pulled.error().message;

  // U+0000 from HubSpot: named, where PostgreSQL would refuse the whole batch
  // with "unsupported Unicode escape sequence".
  auto nul = m.to_postgres({{"email", "a@b.c"}, {"firstname", std::string("bad \0 nul", 9)}, {"lastname", "ok"}});
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().kind, model::ErrorKind::invalid_record);
  EXPECT_NE(nul.error().message.find("field first_name: the value holds a NUL character (U+0000)"), std::string::npos)
      << nul.error().message;
}

TEST(MappingApi, FieldDirectionsAndPolicies) {
  Mapping m = example("customers");
  EXPECT_TRUE(m.field("email")->to_hubspot());
  EXPECT_TRUE(m.field("email")->to_postgres());
  EXPECT_FALSE(m.field("hubspot_id")->to_hubspot());
  EXPECT_EQ(m.field("phone")->conflict, ConflictPolicy::hubspot);
  EXPECT_EQ(m.field("first_name")->conflict, ConflictPolicy::newest);
  EXPECT_EQ(m.match_column(), "email");
  EXPECT_EQ(m.field_for_property("hubsync_mrr")->id, "mrr_cents");
  auto cols = m.postgres_columns();
  EXPECT_EQ(cols.front(), "id");
  EXPECT_NE(std::find(cols.begin(), cols.end(), "account_id"), cols.end());
  auto props = m.hubspot_properties();
  EXPECT_EQ(props.front(), "email");
  EXPECT_EQ(props.size(), 8u);
}

TEST(MappingApi, PullFilterIsEvaluatedLocally) {
  Mapping m = test::compile(R"(
name: leads
postgres: {table: public.leads, key: id}
hubspot: {object: contacts, match: email}
filter:
  hubspot:
    - {property: email, operator: HAS_PROPERTY}
    - {property: lifecyclestage, operator: IN, values: [lead, customer]}
    - {property: hubsync_mrr, operator: GTE, value: "10.5"}
fields:
  - {column: email, property: email}
)");
  EXPECT_TRUE(m.pull_filter_accepts({{"email", "a@b"}, {"lifecyclestage", "lead"}, {"hubsync_mrr", "10.50"}}));
  EXPECT_TRUE(m.pull_filter_accepts({{"email", "a@b"}, {"lifecyclestage", "lead"}, {"hubsync_mrr", "100"}}));
  EXPECT_FALSE(m.pull_filter_accepts({{"email", "a@b"}, {"lifecyclestage", "lead"}, {"hubsync_mrr", "9.99"}}));
  EXPECT_FALSE(m.pull_filter_accepts({{"email", ""}, {"lifecyclestage", "lead"}, {"hubsync_mrr", "11"}}));
  EXPECT_FALSE(m.pull_filter_accepts({{"email", "a@b"}, {"lifecyclestage", "other"}, {"hubsync_mrr", "11"}}));
}

TEST(MappingApi, CompositeKeysAndQuotedTables) {
  Mapping m = example("registrations");
  EXPECT_EQ(m.kind, MappingKind::link);
  auto k = m.key_of({{"event_id", Value::integer(2)}, {"customer_id", Value::integer(7)}});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->encoded(), R"(["2","7"])");
  EXPECT_FALSE(m.key_of({{"event_id", Value::integer(2)}}).ok());

  Mapping q = test::compile(R"(
name: items
postgres: {table: '"Sales"."Order ""Items"""', key: id}
hubspot: {object: deals, match: hs_object_id}
direction: to_postgres
fields: [{column: id, property: hs_object_id}]
)");
  EXPECT_EQ(q.table.schema, "Sales");
  EXPECT_EQ(q.table.table, "Order \"Items\"");
  EXPECT_EQ(q.table.quoted(), R"("Sales"."Order ""Items""")");
  EXPECT_EQ(test::compile("name: x\npostgres: {table: Customers, key: id}\nhubspot: {object: contacts, match: email}\n"
                          "fields: [{column: email, property: email}]\n").table.quoted(),
            R"("public"."customers")");
}

// Two tables both pulling every contact: each contact lands in both, and
// rows of each overwrite the other's values. Warned, unless filters tell
// their objects apart or one only pushes.
TEST(MappingApi, TwoMappingsPullingEveryContactIntoTwoTablesAreWarned) {
  const auto mapping = [](const std::string& name, const std::string& extra) {
    return test::compile("name: " + name + "\npostgres: {table: " + name + ", key: id}\n"
                         "hubspot: {object: contacts, match: email}\n" + extra +
                         "fields: [{column: email, property: email}]\n");
  };
  auto f = validate_set({mapping("staff", ""), mapping("cust", "")});
  ASSERT_EQ(f.size(), 1u) << test::text(f);
  EXPECT_EQ(f[0].severity, Severity::warning);
  EXPECT_NE(f[0].message.find("mappings staff and cust both pull every contacts into their tables"), std::string::npos)
      << f[0].message;
  EXPECT_TRUE(validate_set({mapping("staff", "direction: to_hubspot\n"), mapping("cust", "")}).empty());
  const std::string only = "filter:\n  hubspot: [{property: lifecyclestage, operator: EQ, value: ";
  EXPECT_TRUE(validate_set({mapping("staff", only + "other}]\n"), mapping("cust", only + "customer}]\n")}).empty());
}

TEST(MappingApi, CustomObjectPaths) {
  EXPECT_EQ(example("events").object.path(), "p_event");
  EXPECT_EQ(example("customers").object.path(), "contacts");
  EXPECT_EQ(example("customers").object.object_type_id, "0-1");
}

// A standard object written by its type id is that object: the same name,
// path and email rules, and the set check sees two mappings of one table
// and object however each spells it.
TEST(MappingApi, AStandardObjectByItsIdIsThatObject) {
  const std::string rest = "postgres: {table: people, key: id}\nhubspot: {object: 0-1, match: email}\n"
                           "fields: [{column: email, property: email}]\n";
  Mapping by_id = test::compile("name: by_id\n" + rest);
  EXPECT_EQ(by_id.object.name, "contacts");
  EXPECT_EQ(by_id.object.path(), "contacts");
  EXPECT_EQ(by_id.object.object_type_id, "0-1");
  EXPECT_FALSE(by_id.object.custom);
  EXPECT_TRUE(by_id.match_field()->fold_case);
  Mapping by_name = test::compile("name: by_name\n" + std::regex_replace(rest, std::regex("0-1"), "contacts"));
  auto f = validate_set({by_name, by_id});
  ASSERT_EQ(f.size(), 1u) << test::text(f);
  EXPECT_NE(f[0].message.find("table public.people is already synced to contacts by mapping by_name"),
            std::string::npos)
      << f[0].message;
  EXPECT_EQ(test::compile("name: t\npostgres: {table: t, key: id}\nhubspot: {object: 0-5, match: hs_object_id}\n"
                          "direction: to_postgres\nfields: [{column: id, property: hs_object_id}]\n")
                .object.path(),
            "tickets");
  // Another 0-<n> is no custom object name: named an error, with the ids it could mean.
  auto typo = parse_mapping("name: t\n" + std::regex_replace(rest, std::regex("0-1"), "0-01"), "t.yaml");
  EXPECT_FALSE(typo.ok());
  EXPECT_NE(test::text(typo.findings).find("t.yaml:3:19: error: hubspot.object `0-01` is neither a standard object "
                                           "(contacts, companies, deals, tickets, or by id 0-1, 0-2, 0-3, 0-5)"),
            std::string::npos)
      << test::text(typo.findings);
}

TEST(MappingSet, AssociationAndLinkTargetsMustExist) {
  std::vector<Mapping> all = {example("customers"), example("events"), example("registrations")};
  auto f = validate_set(all);
  ASSERT_EQ(f.size(), 1u) << test::text(f);
  EXPECT_NE(f[0].to_string().find("customers.yaml:38:5: error: association points to mapping `accounts`, which does not exist"),
            std::string::npos)
      << f[0].to_string();
  all.push_back(example("accounts"));
  EXPECT_TRUE(validate_set(all).empty()) << test::text(validate_set(all));
  all.push_back(example("accounts"));
  auto dup = validate_set(all);
  ASSERT_FALSE(dup.empty());
  EXPECT_NE(dup[0].message.find("mapping name `accounts` is also used by"), std::string::npos);
}

TEST(MappingSet, MisspeltTargetGetsAHint) {
  Mapping a = test::compile("name: a\npostgres: {table: t, key: id}\nhubspot: {object: contacts, match: email}\n"
                            "fields: [{column: email, property: email}]\n"
                            "associations: [{column: cid, to: compnies}]\n");
  Mapping b = test::compile("name: companies\npostgres: {table: c, key: id}\nhubspot: {object: companies, match: hs_object_id}\n"
                            "direction: to_postgres\nfields: [{column: id, property: hs_object_id}]\n");
  auto f = validate_set({a, b});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("(did you mean `companies`?)"), std::string::npos) << f[0].message;
}

TEST(MappingParse, NeverThrowsAndAlwaysExplains) {
  for (const char* bad : {"", "[", "{", ":", "- - -", "name: [", "\t", "!!binary x", "*alias",
                          "&a [*a]", "name: x\npostgres: !!map {}", "fields: [[[[[[]]]]]]", "? [a]: b"}) {
    auto r = parse_mapping(bad, "f.yaml");
    EXPECT_FALSE(r.ok()) << bad;
    ASSERT_FALSE(r.findings.empty()) << bad;
    EXPECT_FALSE(r.findings[0].message.empty()) << bad;
  }
}

// A link table keyed by its own id may hold one pair twice; deleting one row
// then removes the association the other still stands for. Warned, with the fix.
TEST(MappingParse, ALinkTableKeyedByItsOwnIdIsWarnedOnce) {
  auto r = parse_mapping(R"(name: memberships
postgres: {table: public.memberships, key: id}
link:
  from: {column: account_id, mapping: accounts}
  to: {column: person_id, mapping: people}
direction: both
)",
                         "memberships.yaml");
  ASSERT_TRUE(r.ok()) << test::text(r.findings);
  ASSERT_EQ(r.findings.size(), 1u) << test::text(r.findings);
  EXPECT_EQ(r.findings[0].severity, Severity::warning);
  EXPECT_NE(r.findings[0].message.find("deleting either removes the association both stand for"), std::string::npos);
  EXPECT_NE(r.findings[0].message.find("UNIQUE (account_id, person_id)"), std::string::npos)
      << r.findings[0].message;
}

TEST(MappingParse, ExitCodes) {
  Findings none;
  EXPECT_EQ(exit_code(none), 0);
  Findings warn = {{Severity::warning, {}, "w"}};
  EXPECT_EQ(exit_code(warn), 0);
  Findings unavailable = {{Severity::unavailable, {}, "u"}, {Severity::warning, {}, "w"}};
  EXPECT_EQ(exit_code(unavailable), 2);
  unavailable.push_back({Severity::error, {"f.yaml", 3, 4}, "bad"});
  EXPECT_EQ(exit_code(unavailable), 1);
  EXPECT_EQ(unavailable.back().to_string(), "f.yaml:3:4: error: bad");
}

}  // namespace
}  // namespace hubsync::mapping
