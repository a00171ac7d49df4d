// The application's own roles write mapped tables: capture must work for a
// role with nothing but table rights, and must not be hijackable by it.
#include <pqxx/pqxx>

#include "tests/integration/postgres/capture_fixture.h"

namespace hubsync::postgres {
namespace {

class CaptureRolesTest : public CaptureFixture {
 protected:
  void SetUp() override {
    CaptureFixture::SetUp();
    if (!db_) return;
    role_ = "app_" + db_->name();
    db_->exec("CREATE ROLE " + role_ + " LOGIN;"
              "CREATE TABLE public.customers (id bigint PRIMARY KEY, email text, name text);"
              "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON public.customers TO " + role_);
    migrate({customers_});
  }

  void TearDown() override {
    if (!db_) return;
    db_.reset();  // drops the database and with it everything the role owned there
    pqxx::connection c(server_);
    pqxx::nontransaction(c).exec("DROP ROLE IF EXISTS " + role_);
  }

  /// Runs SQL as the application role, over its own login.
  void as_app(const std::string& sql) {
    pqxx::connection c(db_->dsn_as(role_));
    pqxx::nontransaction tx(c);
    ASSERT_EQ(tx.exec("SELECT current_user")[0][0].as<std::string>(), role_);
    tx.exec(sql);
  }

  CaptureSpec customers_{"customers", "public", "customers", {"id"}, {"email", "name"}};
  CaptureSpec visits_{"visits", "public", "visits", {"day"}, {"note"}};
  std::string role_;
};

TEST_F(CaptureRolesTest, ARoleWithOnlyTableRightsWritesAndIsCaptured) {
  EXPECT_EQ(db_->scalar("SELECT has_schema_privilege('" + role_ + "', 'hubsync', 'USAGE')"), "f");
  as_app("INSERT INTO customers VALUES (1, 'a@x.com', 'A')");
  as_app("UPDATE customers SET name = 'Ann' WHERE id = 1");
  as_app("UPDATE customers SET id = 2 WHERE id = 1");
  as_app("DELETE FROM customers WHERE id = 2");
  as_app("INSERT INTO customers VALUES (3, 'c@x.com', 'C')");
  as_app("TRUNCATE customers");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"1\"} -\n"
            "customers update {\"id\": \"1\"} name\n"
            "customers delete {\"id\": \"1\"} -\n"
            "customers insert {\"id\": \"2\"} -\n"
            "customers delete {\"id\": \"2\"} -\n"
            "customers insert {\"id\": \"3\"} -\n"
            "customers truncate {} -");
  // Capture needs no right on hubsync, and gives none: the role still cannot touch the changelog.
  EXPECT_THROW(as_app("DELETE FROM hubsync.changelog"), pqxx::sql_error);
  EXPECT_EQ(db_->scalar("SELECT has_function_privilege('" + role_ + "', 'hubsync.capture_customers()', 'EXECUTE')"),
            "f");
}

TEST_F(CaptureRolesTest, TheRolesSearchPathCannotHijackTheTrigger) {
  // The function has no search_path of its own: it runs under the writer's.
  // Look-alikes of everything it names, first on the role's search_path: a
  // current_setting that claims every write is hubsync's own (nothing would
  // be captured), an `=` on bigint, text and integer that says every value
  // is unchanged or every test true, a `<` on date, a type `text` and a
  // type `date`, a jsonb_build_object and a changelog table that would
  // record elsewhere. Every one of them logs its calls in evil.calls.
  db_->exec("CREATE TABLE public.visits (day date PRIMARY KEY, note json);"
            "GRANT SELECT, INSERT, UPDATE, DELETE ON public.visits TO " + role_);
  migrate({customers_, visits_});
  db_->exec("CREATE SCHEMA evil AUTHORIZATION " + role_);
  as_app(
      "CREATE TABLE evil.calls (what pg_catalog.text);"
      "CREATE FUNCTION evil.logged(pg_catalog.text) RETURNS boolean LANGUAGE sql AS "
      "  $$ INSERT INTO evil.calls VALUES ($1) RETURNING true $$;"
      "CREATE FUNCTION evil.same_text(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.logged('=text') $$;"
      "CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.same_text);"
      "CREATE FUNCTION evil.same_int(integer, integer) RETURNS boolean LANGUAGE sql AS "
      "  $$ SELECT evil.logged('=integer') $$;"
      "CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.same_int);"
      "CREATE FUNCTION evil.before(date, date) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.logged('<date') $$;"
      "CREATE OPERATOR evil.< (LEFTARG = date, RIGHTARG = date, FUNCTION = evil.before);"
      "CREATE DOMAIN evil.text AS pg_catalog.text CHECK (evil.logged('text'));"
      "CREATE DOMAIN evil.date AS pg_catalog.date CHECK (evil.logged('date'));");
  as_app(
      "CREATE TABLE evil.changelog (mapping text, table_schema text, table_name text, pk jsonb, op text,"
      "  changed_columns text[]);"
      "CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql AS "
      "  $$ INSERT INTO evil.calls VALUES ('current_setting') RETURNING 'hubsync' $$;"
      "CREATE FUNCTION evil.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE sql AS "
      "  $$ INSERT INTO evil.calls VALUES ('jsonb_build_object') RETURNING '{}'::jsonb $$;"
      "CREATE FUNCTION evil.same(bigint, bigint) RETURNS boolean LANGUAGE sql AS "
      "  $$ INSERT INTO evil.calls VALUES ('=') RETURNING true $$;"
      "CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.same);"
      "CREATE FUNCTION evil.array_remove(anyarray, anyelement) RETURNS anyarray LANGUAGE sql AS "
      "  $$ INSERT INTO evil.calls VALUES ('array_remove') RETURNING $1 $$;");
  as_app(
      "SET search_path = evil, pg_catalog, public;"
      "CREATE TEMP TABLE changelog (mapping pg_catalog.text, table_schema pg_catalog.text,"
      "  table_name pg_catalog.text, pk jsonb, op pg_catalog.text, changed_columns pg_catalog.text[]);"
      "INSERT INTO public.customers VALUES (1, 'a@x.com', 'A');"
      "UPDATE public.customers SET id = 2, name = 'B';"
      "UPDATE public.customers SET name = 'C';"
      "DELETE FROM public.customers;"
      "INSERT INTO public.visits VALUES ('2026-12-06', '{\"a\": 1}');"
      "UPDATE public.visits SET note = '{\"a\": 2}';"
      "UPDATE public.visits SET day = '2026-12-07';");
  EXPECT_EQ(changes(),
            "customers insert {\"id\": \"1\"} -\n"
            "customers delete {\"id\": \"1\"} -\n"
            "customers insert {\"id\": \"2\"} -\n"
            "customers update {\"id\": \"2\"} name\n"
            "customers delete {\"id\": \"2\"} -\n"
            "visits insert {\"day\": \"2026-12-06\"} -\n"
            "visits update {\"day\": \"2026-12-06\"} note\n"
            "visits delete {\"day\": \"2026-12-06\"} -\n"
            "visits insert {\"day\": \"2026-12-07\"} -");
  EXPECT_EQ(db_->scalar("SELECT coalesce(string_agg(DISTINCT what, ' '), 'none') FROM evil.calls"), "none");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM evil.changelog"), "0");
}

}  // namespace
}  // namespace hubsync::postgres
