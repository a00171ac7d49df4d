// Runs deploy/demo.sh end to end against a database and a simulator this
// test owns, then reads both systems itself and checks that the demo's
// final "after" tables say what Postgres and HubSpot hold, and that the
// demo's story happened: conflicts decided by the mappings' rules, the
// contact deleted in HubSpot gone from Postgres, the contact moved in
// HubSpot moved in Postgres.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "connectors/hubspot/json.h"
#include "tests/hubspot-sim/simulator.h"
#include "tests/support/pg.h"
#include "tests/support/process.h"

namespace hubsync::test {
namespace {

using ::testing::HasSubstr;

// One record of a printed table: the cells of its postgres line and of its
// hubspot line, by column title.
struct Pair {
  std::map<std::string, std::string> postgres, hubspot;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// The aligned table whose header line starts with `first_column`, after
// `from` in `out`: columns are where the dashes under the header are.
std::map<std::string, Pair> parse_table(const std::string& out, std::size_t from,
                                        const std::string& first_column) {
  std::istringstream in(out.substr(from));
  std::string line;
  while (std::getline(in, line) && trim(line).rfind(first_column + " ", 0) != 0) {
  }
  std::string header = line, rule;
  std::getline(in, rule);
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // start, length (npos: to the end)
  for (std::size_t i = 0; i < rule.size();) {
    if (rule[i] != '-') { ++i; continue; }
    std::size_t j = rule.find(' ', i);
    spans.push_back({i, j == std::string::npos ? std::string::npos : j - i});
    i = j == std::string::npos ? rule.size() : j;
  }
  auto cells = [&](const std::string& l) {
    std::vector<std::string> v;
    for (const auto& [start, len] : spans)
      v.push_back(start < l.size() ? trim(l.substr(start, len == std::string::npos ? std::string::npos : len)) : "");
    return v;
  };
  const auto titles = cells(header);
  std::map<std::string, Pair> table;
  std::string key;
  while (std::getline(in, line) && !trim(line).empty()) {
    auto v = cells(line);
    if (!v[0].empty()) key = v[0];
    auto& side = v[1] == "postgres" ? table[key].postgres : table[key].hubspot;
    for (std::size_t i = 2; i < v.size(); ++i)
      if (!v[i].empty()) side[titles[i]] = v[i];
  }
  return table;
}

struct SimObject {
  std::string id;
  bool archived = false;
  std::map<std::string, std::string> props;
};

std::vector<SimObject> dump(const sim::Simulator& sim, const std::string& type) {
  rapidjson::Document d;
  const std::string text = sim.dump_json(type);
  d.Parse(text.c_str(), text.size());
  std::vector<SimObject> out;
  for (const auto& o : d["results"].GetArray()) {
    SimObject obj{o["id"].GetString(), o.HasMember("archived") && o["archived"].GetBool(), {}};
    for (const auto& p : o["properties"].GetObject())
      if (p.value.IsString()) obj.props[p.name.GetString()] = p.value.GetString();
    out.push_back(std::move(obj));
  }
  return out;
}

// The companies a contact is associated with, through HubSpot's v4 API
// (another route than the demo's v3 reads).
std::set<std::string> companies_of(const sim::Simulator& sim, const std::string& contact_id) {
  auto r = run_command("curl -sS --fail-with-body -H 'Authorization: Bearer " + std::string(sim::kOtherToken) +
                       "' " + shell_quote(sim.base_url() + "/crm/v4/objects/contacts/" + contact_id +
                                          "/associations/companies"));
  EXPECT_EQ(r.code, 0) << r.out;
  rapidjson::Document d;
  d.Parse(r.out.c_str(), r.out.size());
  std::set<std::string> ids;
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("results")) return ids;
  for (const auto& a : d["results"].GetArray()) {
    const auto& to = a["toObjectId"];
    ids.insert(to.IsString() ? to.GetString() : std::to_string(to.GetInt64()));
  }
  return ids;
}

std::string cell(const pqxx::field& f) { return f.is_null() ? "-" : f.c_str(); }

TEST(Demo, TwoWayReportMatchesBothSystems) {
  HUBSYNC_REQUIRE_PG(server);
  TempDatabase db(server);
  sim::Simulator sim;  // the binary's defaults: tier 190, search lagging writes by 300 ms
  sim.start();

  const auto run = run_command("cd " + shell_quote(source_dir()) + " && HUBSYNC_BIN=" + shell_quote(HUBSYNC_BIN) +
                               " HUBSYNC_DEMO_PG_DSN=" + shell_quote(db.dsn()) +
                               " HUBSYNC_DEMO_SIM_URL=" + shell_quote(sim.base_url()) + " bash deploy/demo.sh");
  ASSERT_EQ(run.code, 0) << run.out;
  const std::string& out = run.out;
  const auto after = out.find("after the second sync: both systems");
  ASSERT_NE(after, std::string::npos) << out;
  const auto contacts = parse_table(out, after, "email");
  const auto companies = parse_table(out, after, "code");

  pqxx::connection c(db.dsn());
  pqxx::nontransaction tx(c);
  std::map<std::string, std::string> code_of_account;  // accounts.id -> code
  std::map<std::string, std::string> account_of_code;
  for (const auto& r : tx.exec("SELECT id, code, name, domain, industry, employees, deleted_at FROM accounts")) {
    code_of_account[r[0].c_str()] = r[1].c_str();
    account_of_code[r[1].c_str()] = r[0].c_str();
    SCOPED_TRACE(r[1].c_str());
    ASSERT_TRUE(companies.count(r[1].c_str())) << out;
    const auto& p = companies.at(r[1].c_str()).postgres;
    EXPECT_EQ(p.at("id"), r[0].c_str());
    EXPECT_EQ(p.at("name"), cell(r[2]));
    EXPECT_EQ(p.at("domain"), cell(r[3]));
    EXPECT_EQ(p.at("industry"), cell(r[4]));
    EXPECT_EQ(p.at("employees"), cell(r[5]));
    EXPECT_EQ(p.at("deleted"), r[6].is_null() ? "-" : "deleted_at set");
  }
  std::set<std::string> pg_emails;
  for (const auto& r : tx.exec("SELECT email, id, first_name, last_name, phone, stage, account_id FROM customers")) {
    pg_emails.insert(r[0].c_str());
    SCOPED_TRACE(r[0].c_str());
    ASSERT_TRUE(contacts.count(r[0].c_str())) << out;
    const auto& p = contacts.at(r[0].c_str()).postgres;
    EXPECT_EQ(p.at("id"), r[1].c_str());
    EXPECT_EQ(p.at("first name"), cell(r[2]));
    EXPECT_EQ(p.at("last name"), cell(r[3]));
    EXPECT_EQ(p.at("phone"), cell(r[4]));
    EXPECT_EQ(p.at("stage / lifecyclestage"), cell(r[5]));
    EXPECT_EQ(p.at("company"), r[6].is_null() ? "-" : code_of_account.at(r[6].c_str()));
  }
  for (const auto& [email, pair] : contacts) {
    if (!pg_emails.count(email)) {
      EXPECT_EQ(pair.postgres.at("id"), "(no row)") << email;
    }
  }

  // HubSpot, read from the simulator's own memory (and v4 associations).
  std::map<std::string, std::string> code_of_company;  // HubSpot id -> account code
  std::set<std::string> live_codes;
  for (const auto& o : dump(sim, "companies")) {
    const std::string code = o.props.count("hubsync_account_code") ? o.props.at("hubsync_account_code") : "-";
    code_of_company[o.id] = code;
    SCOPED_TRACE(code);
    ASSERT_TRUE(companies.count(code)) << out;
    const auto& h = companies.at(code).hubspot;
    if (o.archived) {
      EXPECT_EQ(h.at("id"), "(deleted)");
      continue;
    }
    live_codes.insert(code);
    EXPECT_EQ(h.at("id"), o.id);
    for (const auto& [title, prop] : std::map<std::string, std::string>{
             {"name", "name"}, {"domain", "domain"}, {"industry", "industry"}, {"employees", "numberofemployees"}})
      EXPECT_EQ(h.at(title), o.props.count(prop) && !o.props.at(prop).empty() ? o.props.at(prop) : "-") << title;
  }
  std::map<std::string, std::string> live_contact_id;  // email -> id
  for (const auto& o : dump(sim, "contacts")) {
    const std::string email = o.props.at("email");
    SCOPED_TRACE(email);
    ASSERT_TRUE(contacts.count(email)) << out;
    const auto& h = contacts.at(email).hubspot;
    if (o.archived) {
      EXPECT_EQ(h.at("id"), "(deleted)");
      continue;
    }
    EXPECT_FALSE(live_contact_id.count(email)) << "duplicate contact";
    live_contact_id[email] = o.id;
    EXPECT_EQ(h.at("id"), o.id);
    for (const auto& [title, prop] : std::map<std::string, std::string>{{"first name", "firstname"},
                                                                          {"last name", "lastname"},
                                                                          {"phone", "phone"},
                                                                          {"stage / lifecyclestage", "lifecyclestage"}})
      EXPECT_EQ(h.at(title), o.props.count(prop) && !o.props.at(prop).empty() ? o.props.at(prop) : "-") << title;
    std::string codes;
    for (const auto& id : companies_of(sim, o.id)) codes += (codes.empty() ? "" : ",") + code_of_company.at(id);
    EXPECT_EQ(h.at("company"), codes.empty() ? "-" : codes);
  }

  // Both systems agree, without duplicates: every syncable customer is one
  // live contact, every live account one live company.
  std::set<std::string> syncable;
  for (const auto& r : tx.exec("SELECT email FROM customers WHERE status <> 'test'")) syncable.insert(r[0].c_str());
  std::set<std::string> live_emails;
  for (const auto& [email, id] : live_contact_id) live_emails.insert(email);
  EXPECT_EQ(syncable, live_emails);
  std::set<std::string> live_accounts;
  for (const auto& r : tx.exec("SELECT code FROM accounts WHERE deleted_at IS NULL")) live_accounts.insert(r[0].c_str());
  EXPECT_EQ(live_accounts, live_codes);

  // The story: the contact deleted in HubSpot lost its row; the company
  // deleted in HubSpot is soft-deleted (accounts.yaml); the contact moved in
  // HubSpot points at its new account; HubSpot-only records came in.
  EXPECT_EQ(tx.exec("SELECT 1 FROM customers WHERE email = 'edsger@acme.example'").size(), 0u);
  EXPECT_EQ(contacts.at("edsger@acme.example").hubspot.at("id"), "(deleted)");
  EXPECT_EQ(tx.exec("SELECT 1 FROM accounts WHERE code = 'UMBRELLA' AND deleted_at IS NOT NULL").size(), 1u);
  EXPECT_EQ(db.scalar("SELECT account_id FROM customers WHERE email = 'grace@globex.example'"),
            account_of_code.at("ACME"));
  EXPECT_EQ(db.scalar("SELECT account_id FROM customers WHERE email = 'linus@hooli.example'"),
            account_of_code.at("HOOLI"));

  // Each conflict names its rule; the two of the second run were decided
  // as the mappings say (customers: newest, HubSpot's later edit; accounts:
  // postgres, whatever HubSpot did).
  const std::string conflicts = out.substr(out.find("$ hubsync conflicts list"));
  std::regex decided(R"(-> (postgres|hubspot) won \(rule: (newest|postgres|hubspot)\))");
  EXPECT_EQ(std::distance(std::sregex_iterator(conflicts.begin(), conflicts.end(), decided), std::sregex_iterator()),
            4)
      << conflicts;
  EXPECT_TRUE(std::regex_search(conflicts, std::regex(R"(customers  key=\d+  hubspot_id=\d+  field=first_name\n)"
                                                      R"(    postgres 'Augusta Ada', hubspot 'Countess Ada', base 'Ada')"
                                                      R"( -> hubspot won \(rule: newest\))")))
      << conflicts;
  EXPECT_TRUE(std::regex_search(conflicts, std::regex(R"(accounts  key=\d+  hubspot_id=\d+  field=employees\n)"
                                                      R"(    postgres '130', hubspot '150', base '120')"
                                                      R"( -> postgres won \(rule: postgres\))")))
      << conflicts;
  EXPECT_EQ(db.scalar("SELECT first_name FROM customers WHERE email = 'ada@acme.example'"), "Countess Ada");
  EXPECT_EQ(db.scalar("SELECT employees FROM accounts WHERE code = 'ACME'"), "130");
  EXPECT_THAT(out, HasSubstr("$ hubsync dead-letters list\nno dead letters\n"));
  // Both runs succeeded (the script's exit code says the same).
  const std::regex exit_line(R"(\(exit code (\d+)\))");
  std::vector<std::string> codes;
  for (auto i = std::sregex_iterator(out.begin(), out.end(), exit_line); i != std::sregex_iterator(); ++i)
    codes.push_back((*i)[1]);
  EXPECT_EQ(codes, (std::vector<std::string>{"0", "0"})) << out;
}

}  // namespace
}  // namespace hubsync::test
