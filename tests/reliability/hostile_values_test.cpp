// Bad input that is not malformed: identifiers with quotes, spaces and
// unicode; values with unicode, emoji, 64 KiB of text and NUL bytes. Both
// ways, byte for byte, or (NUL: Postgres text cannot hold one) refused alone
// with a reason while the rest of the batch lands.
#include <gtest/gtest.h>

#include "tests/integration/push/push_harness.h"

namespace hubsync::test {
namespace {

constexpr const char* kTable =
    "CREATE SCHEMA \"Vertrieb Ü\"; "
    "CREATE TABLE \"Vertrieb Ü\".\"Kunden \"\"Liste\"\"\" (\"Kunden-Nr\" bigserial PRIMARY KEY, "
    "\"E-Mail Adresse\" text NOT NULL UNIQUE, \"Name \"\"Rufname\"\"\" text, \"Notiz 📝\" text)";

constexpr const char* kMapping = R"(name: kunden
postgres:
  table: '"Vertrieb Ü"."Kunden ""Liste"""'
  key: Kunden-Nr
hubspot: {object: contacts, match: email}
direction: both
fields:
  - {column: E-Mail Adresse, property: email}
  - {column: 'Name "Rufname"', property: firstname}
  - {column: "Notiz 📝", property: hubsync_note}
)";

constexpr const char* kQualified = "\"Vertrieb Ü\".\"Kunden \"\"Liste\"\"\"";

std::string big_text() {
  std::string s;
  const std::string piece = "Zoë 🚀 王 \"quoted\" 'single' \\back\\ ";
  while (s.size() + piece.size() < 64 * 1024) s += piece;
  return s;
}

std::string sql_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

class HostileValues : public ::testing::Test {
 protected:
  void SetUp() override {
    HUBSYNC_REQUIRE_PG(server);
    h_ = quick_harness(server, kTable, {kMapping});
    h_->create_text_property("contacts", "hubsync_note", false);
    h_->migrate();
  }
  std::string pg(const std::string& sql) { return h_->db.scalar(sql); }
  std::unique_ptr<PushHarness> h_;
};

TEST_F(HostileValues, QuotedUnicodeIdentifiersAndEmojiAnd64KiBTextRoundTripByteForByte) {
  const std::string note = big_text();
  h_->db.exec(std::string("INSERT INTO ") + kQualified +
              " (\"E-Mail Adresse\", \"Name \"\"Rufname\"\"\", \"Notiz 📝\") VALUES ('zoe@example.com', "
              "'Zoë 🚀 O''Brien \"Z\"', " + sql_literal(note) + ")");
  auto pushed = push_ok(*h_, "kunden");
  EXPECT_EQ(pushed.created, 1);
  auto live = h_->live_by("contacts", "email");
  ASSERT_EQ(live.count("zoe@example.com"), 1u);
  auto& c = live.at("zoe@example.com");
  EXPECT_EQ(c.props["firstname"], "Zoë 🚀 O'Brien \"Z\"");
  EXPECT_EQ(c.props["hubsync_note"].size(), note.size());
  EXPECT_EQ(c.props["hubsync_note"], note);

  // Back from HubSpot: a UI edit with other scripts and a 4-byte emoji.
  pull_ok(*h_, "kunden");
  h_->sim.ui_edit("contacts", c.id, {{"firstname", "Ωmega 👩‍👩‍👧 ملاك"}});
  auto pulled = pull_ok(*h_, "kunden");
  EXPECT_EQ(pulled.updated, 1);
  EXPECT_EQ(pg(std::string("SELECT \"Name \"\"Rufname\"\"\" FROM ") + kQualified), "Ωmega 👩‍👩‍👧 ملاك");
  EXPECT_EQ(pg(std::string("SELECT length(\"Notiz 📝\") FROM ") + kQualified),
            pg("SELECT length(" + sql_literal(note) + ")"));
  // Nothing echoes: the pull's write was not captured.
  EXPECT_EQ(push_ok(*h_, "kunden").pushed(), 0);
}

TEST_F(HostileValues, ANulBytePostgresCannotStoreIsRefusedAloneWithAReason) {
  h_->db.exec(std::string("INSERT INTO ") + kQualified +
              " (\"E-Mail Adresse\", \"Name \"\"Rufname\"\"\") VALUES ('a@example.com', 'A'), ('b@example.com', 'B')");
  push_ok(*h_, "kunden");
  pull_ok(*h_, "kunden");
  auto live = h_->live_by("contacts", "email");
  h_->sim.ui_edit("contacts", live.at("a@example.com").id, {{"firstname", std::string("nul\0byte", 8)}});
  h_->sim.ui_edit("contacts", live.at("b@example.com").id, {{"firstname", "Bée"}});
  auto pulled = h_->pull("kunden");
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(pulled->updated, 1);
  EXPECT_EQ(pulled->dead_lettered, 1);
  EXPECT_EQ(pg(std::string("SELECT \"Name \"\"Rufname\"\"\" FROM ") + kQualified +
               " WHERE \"E-Mail Adresse\" = 'b@example.com'"),
            "Bée");
  EXPECT_EQ(pg(std::string("SELECT \"Name \"\"Rufname\"\"\" FROM ") + kQualified +
               " WHERE \"E-Mail Adresse\" = 'a@example.com'"),
            "A");
  auto dead = h_->store->list_dead_letters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().hubspot_id, live.at("a@example.com").id);
  EXPECT_FALSE(dead->front().message.empty());
}

}  // namespace
}  // namespace hubsync::test
