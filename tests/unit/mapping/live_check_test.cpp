// Live checks against in-memory catalogs shaped like mappings/demo.sql and a
// HubSpot portal.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/mapping/live_check.h"
#include "engine/mapping/validate.h"
#include "engine/mapping/schema_plan.h"
#include "fakes.h"
#include "test_util.h"

namespace hubsync::mapping {
namespace {

using test::example;
using test::FakeCrm;
using test::FakePg;

PgColumn col(std::string name, std::string type, bool nullable = true, bool has_default = false) {
  return PgColumn{std::move(name), std::move(type), nullable, has_default, false};
}

// The tables of mappings/demo.sql as the catalog describes them.
FakePg demo_pg() {
  FakePg pg;
  PgTableInfo customers;
  customers.exists = true;
  customers.columns = {col("id", "bigint", false, true), col("email", "text", false), col("first_name", "text"),
                       col("last_name", "text"), col("phone", "text"), col("stage", "text", false, true),
                       col("mrr_cents", "bigint"), col("tags", "text[]"), col("status", "text", false, true),
                       col("account_id", "bigint"), col("hubspot_id", "text"),
                       col("updated_at", "timestamp with time zone", false, true)};
  customers.primary_key = {"id"};
  customers.unique_indexes = {{"id"}, {"email"}};
  pg.tables["public.customers"] = customers;
  PgTableInfo accounts;
  accounts.exists = true;
  accounts.columns = {col("id", "bigint", false, true), col("code", "text", false), col("name", "text", false),
                      col("domain", "text"), col("industry", "text"), col("employees", "integer"),
                      col("deleted_at", "timestamp with time zone"),
                      col("updated_at", "timestamp with time zone", false, true)};
  accounts.primary_key = {"id"};
  accounts.unique_indexes = {{"id"}, {"code"}};
  pg.tables["public.accounts"] = accounts;
  PgTableInfo events;
  events.exists = true;
  events.columns = {col("id", "bigint", false, true), col("code", "text", false), col("name", "text", false),
                    col("starts_on", "date"), col("location", "text"), col("capacity", "integer")};
  events.primary_key = {"id"};
  events.unique_indexes = {{"id"}, {"code"}};
  pg.tables["public.events"] = events;
  PgTableInfo regs;
  regs.exists = true;
  regs.columns = {col("event_id", "bigint", false), col("customer_id", "bigint", false),
                  col("registered_at", "timestamp with time zone", false, true)};
  regs.primary_key = {"event_id", "customer_id"};
  regs.unique_indexes = {{"event_id", "customer_id"}};
  pg.tables["public.registrations"] = regs;
  return pg;
}

std::vector<Mapping> demo_mappings() {
  return {example("accounts"), example("customers"), example("events"), example("registrations")};
}

TEST(LiveCheckPostgres, DemoTablesAreValid) {
  FakePg pg = demo_pg();
  for (const auto& m : demo_mappings()) {
    auto findings = check_postgres(m, pg);
    findings.erase(std::remove_if(findings.begin(), findings.end(),
                                  [](const Finding& f) { return f.severity == Severity::info; }),
                   findings.end());
    EXPECT_EQ(test::text(findings), "") << m.name;
  }
}

// The validator says which soft-delete rule applies: a boolean is deleted
// when true, any other column when set.
TEST(LiveCheckPostgres, SaysWhichSoftDeleteRuleApplies) {
  FakePg pg = demo_pg();
  EXPECT_NE(test::text(check_postgres(example("accounts"), pg)).find("deleted when deleted_at is set (not NULL)"),
            std::string::npos);
  pg.tables["public.accounts"].columns[6] = col("deleted_at", "boolean", false, true);
  const std::string out = test::text(check_postgres(example("accounts"), pg));
  EXPECT_NE(out.find("info: soft delete: a row counts as deleted when deleted_at is true"), std::string::npos) << out;
  EXPECT_EQ(out.find("error"), std::string::npos) << out;
}

// A match column unique among rows not soft-deleted (a partial unique
// index naming the soft-delete column) is unique enough for a mapping with
// soft deletes, and only for one.
TEST(LiveCheckPostgres, AMatchColumnUniqueAmongLiveRowsServesAMappingWithSoftDeletes) {
  FakePg pg = demo_pg();
  auto& t = pg.tables["public.accounts"];
  t.unique_indexes = {{"id"}};
  t.partial_unique_indexes = {{{"code"}, "(deleted_at IS NULL)"}};
  std::string out = test::text(check_postgres(example("accounts"), pg));
  EXPECT_EQ(out.find("error"), std::string::npos) << out;
  EXPECT_NE(out.find("info: match column `code` is unique among rows not soft-deleted"), std::string::npos) << out;
  auto m = example("accounts");
  m.soft_delete_column.clear();
  out = test::text(check_postgres(m, pg));
  EXPECT_NE(out.find("error: match column `code` needs a unique index"), std::string::npos) << out;
}

TEST(LiveCheckPostgres, ReportsEachProblemWithItsPlace) {
  FakePg pg = demo_pg();
  auto& t = pg.tables["public.customers"];
  t.unique_indexes = {{"id"}};                           // email no longer unique
  t.columns[3] = col("lastname", "text");                // last_name renamed
  t.columns[6] = col("mrr_cents", "numeric(12,2)");      // lossy for integer
  t.columns[7] = col("tags", "text");                    // not an array
  t.columns.push_back(col("region", "text", false));     // NOT NULL, no default, unmapped
  pg.bad_filter_words = {"status"};
  std::string out = test::text(check_postgres(example("customers"), pg));
  const std::string file = test::source_dir() + "/mappings/customers.yaml";
  EXPECT_NE(out.find(file + ":19:5: error: column `last_name` does not exist in public.customers (did you mean `lastname`?)"), std::string::npos) << out;
  EXPECT_NE(out.find(file + ":8:10: error: match column `email` needs a unique index"), std::string::npos) << out;
  EXPECT_NE(out.find("warning: field mrr_cents: column mrr_cents is numeric(12,2): values with a fraction fail"), std::string::npos) << out;
  EXPECT_NE(out.find("error: field tags: column tags is text; a multi_select field needs a text[] column"), std::string::npos) << out;
  EXPECT_NE(out.find("warning: column region is NOT NULL without a default"), std::string::npos) << out;
  EXPECT_NE(out.find(file + ":12:13: error: filter.postgres is not valid: column \"status\" does not exist"), std::string::npos) << out;
}

// A table the database fills by logical replication: a mapping that pulls
// into it is warned (the publisher overwrites what it writes); one that
// only pushes is not.
TEST(LiveCheckPostgres, WarnsWhenATablePulledIntoIsWrittenByLogicalReplication) {
  FakePg pg = demo_pg();
  pg.tables["public.customers"].subscriptions = {"from_app"};
  auto m = example("customers");
  ASSERT_TRUE(m.pulls());
  const std::string out = test::text(check_postgres(m, pg));
  EXPECT_NE(out.find("warning: public.customers is written by logical replication (subscription from_app): what "
                     "hubsync pulls into it never reaches the publisher"),
            std::string::npos)
      << out;
  m.direction = Direction::to_hubspot;
  EXPECT_EQ(test::text(check_postgres(m, pg)).find("logical replication"), std::string::npos);
}

TEST(LiveCheckPostgres, KeyMustBeUniqueAndTableMustExist) {
  FakePg pg = demo_pg();
  pg.tables["public.registrations"].primary_key = {};
  pg.tables["public.registrations"].unique_indexes = {{"event_id"}};
  std::string out = test::text(check_postgres(example("registrations"), pg));
  EXPECT_NE(out.find("error: key (event_id, customer_id) is not unique in public.registrations"), std::string::npos) << out;
  pg.tables.erase("public.events");
  out = test::text(check_postgres(example("events"), pg));
  EXPECT_NE(out.find("events.yaml:4:10: error: table public.events does not exist"), std::string::npos) << out;
}

TEST(LiveCheckPostgres, KeyMustBeNotNullAndOfAKeyType) {
  FakePg pg;
  PgTableInfo t;
  t.exists = true;
  t.columns = {col("code", "text"), col("score", "double precision", false), col("email", "text", false)};
  t.unique_indexes = {{"code"}, {"score"}, {"email"}};
  pg.tables["public.things"] = t;
  const std::string tail = "hubspot: {object: contacts, match: email}\nfields:\n  - {column: email, property: email}\n";
  std::string out = test::text(check_postgres(test::compile("name: things\npostgres: {table: things, key: code}\n" + tail), pg));
  EXPECT_NE(out.find("test.yaml:2:32: error: key column `code` allows NULL: a row with a NULL key cannot be captured "
                     "or read back; declare it NOT NULL (ALTER TABLE \"public\".\"things\" ALTER COLUMN \"code\" SET NOT NULL)"),
            std::string::npos) << out;
  out = test::text(check_postgres(test::compile("name: things\npostgres: {table: things, key: score}\n" + tail), pg));
  EXPECT_NE(out.find("test.yaml:2:32: error: key column `score` is double precision, which cannot be a key: its text is "
                     "not exact"), std::string::npos) << out;
  EXPECT_EQ(out.find("allows NULL"), std::string::npos) << out;
  EXPECT_EQ(exit_code(check_postgres(test::compile("name: things\npostgres: {table: things, key: email}\n" + tail), pg)), 0);
}

// The names format_type() prints for the key types postgres::key_type_supported()
// accepts by typname (int2 int4 int8 numeric text varchar bpchar citext name
// uuid date timestamp timestamptz), typmods included, and for types it refuses.
TEST(LiveCheckPostgres, KeyTypesUnderTheirFormatTypeNames) {
  for (const char* t : {"smallint", "integer", "bigint", "numeric", "numeric(12,2)", "text", "character varying",
                        "character varying(255)", "character(4)", "citext", "public.citext", "name", "uuid", "date",
                        "timestamp without time zone", "timestamp(3) without time zone", "timestamp with time zone",
                        "timestamp(6) with time zone"})
    EXPECT_TRUE(key_column_type_supported(t)) << t;
  for (const char* t : {"real", "double precision", "boolean", "json", "jsonb", "bytea", "interval", "integer[]",
                        "text[]", "money", "oid", "time without time zone", "time with time zone", "\"char\"", "inet",
                        "mood", "xml", "point", "bit(3)", "tsvector"})
    EXPECT_FALSE(key_column_type_supported(t)) << t;
}

TEST(LiveCheckPostgres, UnreachableCatalogIsUnavailableNotInvalid) {
  FakePg pg = demo_pg();
  pg.down = true;
  auto f = check_postgres(example("customers"), pg);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::unavailable);
  EXPECT_EQ(exit_code(f), 2);
}

TEST(LiveCheckPostgres, ColumnTypeCompatibility) {
  Mapping m = test::compile(R"(
name: t
postgres: {table: t, key: id}
hubspot: {object: contacts, match: email}
fields:
  - {column: email, property: email}
  - {column: at, property: at, type: datetime}
  - {column: amount, property: amount, type: decimal}
  - {column: flag, property: flag, type: boolean}
  - {column: doc, property: doc, type: json}
)");
  Severity s;
  auto at = *m.field("at");
  EXPECT_EQ(column_compatibility(at, col("at", "timestamp with time zone"), s), "");
  EXPECT_NE(column_compatibility(at, col("at", "timestamp without time zone"), s), "");
  EXPECT_EQ(s, Severity::warning);
  EXPECT_NE(column_compatibility(at, col("at", "date"), s), "");
  EXPECT_EQ(s, Severity::error);
  EXPECT_EQ(column_compatibility(*m.field("amount"), col("amount", "numeric(12,2)"), s), "");
  EXPECT_NE(column_compatibility(*m.field("amount"), col("amount", "double precision"), s), "");
  EXPECT_EQ(s, Severity::warning);
  EXPECT_NE(column_compatibility(*m.field("flag"), col("flag", "integer"), s), "");
  EXPECT_EQ(column_compatibility(*m.field("doc"), col("doc", "jsonb"), s), "");
  EXPECT_EQ(column_compatibility(*m.field("email"), col("email", "character varying(255)"), s), "");
}

TEST(LiveCheckHubspot, MissingSchemaPropertiesPointToSchemaApply) {
  FakeCrm crm;
  auto all = demo_mappings();
  std::string out = test::text(check_hubspot(example("customers"), crm, all));
  EXPECT_NE(out.find("error: property `hubsync_mrr` does not exist on contacts (declared in the schema block: run `hubsync schema apply`)"),
            std::string::npos) << out;
  out = test::text(check_hubspot(example("events"), crm, all));
  EXPECT_NE(out.find("events.yaml:7:11: error: custom object `event` does not exist in HubSpot (run `hubsync schema apply`)"),
            std::string::npos) << out;
}

TEST(LiveCheckHubspot, DemoIsValidAfterSchemaApply) {
  FakeCrm crm;
  auto all = demo_mappings();
  for (const auto& m : all) {
    auto plan = plan_schema(m, crm);
    ASSERT_FALSE(has_errors(plan.findings)) << test::text(plan.findings);
    ASSERT_TRUE(apply_schema(plan, crm).ok());
  }
  for (const auto& m : all) EXPECT_EQ(test::text(check_hubspot(m, crm, all)), "") << m.name;
}

TEST(LiveCheckHubspot, TypesUniquenessReadOnlyOptionsAndAssociations) {
  FakeCrm crm;
  crm.objects["contacts"].push_back(FakeCrm::prop("hubsync_mrr", "string", "text"));
  crm.objects["contacts"].push_back(FakeCrm::read_only(FakeCrm::prop("hubsync_tags", "enumeration", "checkbox")));
  crm.objects["contacts"][4].options.pop_back();  // lifecyclestage loses `other`
  crm.associations.erase({"0-1", "0-2"});
  std::vector<Mapping> all = {example("customers"), example("accounts")};
  std::string out = test::text(check_hubspot(all[0], crm, all));
  EXPECT_NE(out.find("error: property `hubsync_tags` is read-only in HubSpot"), std::string::npos) << out;
  EXPECT_NE(out.find("error: value_map sends `other`, which is not an option of lifecyclestage"), std::string::npos) << out;
  EXPECT_NE(out.find("error: association account_id: HubSpot has no association type id 279 from 0-1 to 0-2"), std::string::npos) << out;
  EXPECT_EQ(out.find("hubsync_mrr"), std::string::npos) << "a number as a string property is fine: " << out;

  Mapping by_domain = test::compile(R"(
name: companies
postgres: {table: public.accounts, key: id}
hubspot: {object: companies, match: domain}
fields:
  - {column: domain, property: domain}
  - {column: name, property: nmae}
  - {column: hubspot_id, property: hs_object_id, direction: to_postgres}
)");
  out = test::text(check_hubspot(by_domain, crm, {}));
  EXPECT_NE(out.find("test.yaml:4:37: error: match property `domain` is not unique in HubSpot"), std::string::npos) << out;
  EXPECT_NE(out.find("error: property `nmae` does not exist on companies (did you mean `name`?)"), std::string::npos) << out;
}

TEST(LiveCheckHubspot, AssociationLabels) {
  FakeCrm crm;
  std::vector<Mapping> all = {example("accounts"),
                              test::compile("name: people\npostgres: {table: p, key: id}\nhubspot: {object: contacts, match: email}\n"
                                            "fields: [{column: email, property: email}]\n"
                                            "associations: [{column: a, to: accounts, type: Primary}, {column: b, to: accounts, type: Primery}, {column: c, to: accounts}]\n")};
  std::string out = test::text(check_hubspot(all[1], crm, all));
  EXPECT_EQ(out.find("association a:"), std::string::npos) << out;
  EXPECT_NE(out.find("association b: HubSpot has no association label `Primery` from 0-1 to 0-2 (did you mean `Primary`?)"
                     "; hubsync does not create labels: create it in HubSpot"), std::string::npos) << out;
  EXPECT_EQ(out.find("association c:"), std::string::npos) << out;
}

TEST(LiveCheckHubspot, UnreachablePortalIsUnavailable) {
  FakeCrm crm;
  crm.down = true;
  auto f = check_hubspot(example("customers"), crm, {});
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(exit_code(f), 2);
}

}  // namespace
}  // namespace hubsync::mapping

namespace hubsync::mapping {
namespace {

std::vector<std::string> demo_files() {
  std::vector<std::string> out;
  for (const char* n : {"accounts", "customers", "events", "registrations"})
    out.push_back(test::source_dir() + "/mappings/" + n + ".yaml");
  return out;
}

TEST(ValidateFiles, OfflineSaysSo) {
  auto run = validate_files(demo_files(), nullptr, nullptr);
  EXPECT_EQ(run.exit_code(), 0) << test::text(run.findings);
  EXPECT_EQ(run.mappings.size(), 4u);
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_EQ(run.findings[0].to_string(),
            "info: remote checks skipped (--offline): Postgres and HubSpot catalogs not consulted");
}

TEST(ValidateFiles, LiveAgainstDemoAfterSchemaApply) {
  FakePg pg = demo_pg();
  FakeCrm crm;
  auto before = validate_files(demo_files(), &pg, &crm);
  EXPECT_EQ(before.exit_code(), 1) << "properties and the event object are missing";
  for (const auto& m : before.mappings) ASSERT_TRUE(apply_schema(plan_schema(m, crm), crm).ok());
  auto after = validate_files(demo_files(), &pg, &crm);
  EXPECT_EQ(after.exit_code(), 0) << test::text(after.findings);
  for (const auto& f : after.findings) EXPECT_EQ(f.severity, Severity::info) << f.to_string();
  crm.down = true;
  EXPECT_EQ(validate_files(demo_files(), &pg, &crm).exit_code(), 2);
  auto with_bad = demo_files();
  with_bad.push_back(test::source_dir() + "/tests/data/mapping/bad/misspelt_key.yaml");
  EXPECT_EQ(validate_files(with_bad, &pg, &crm).exit_code(), 1);
}

}  // namespace
}  // namespace hubsync::mapping
