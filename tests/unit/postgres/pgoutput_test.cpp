// The pgoutput decoder against messages built byte by byte as PostgreSQL
// 15's documentation lays them out ("Logical Replication Message
// Formats"); capture_logical_test reads the real server's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/postgres/pgoutput.h"

namespace hubsync::postgres::pgoutput {
namespace {

using ::testing::HasSubstr;

// Big-endian writers for building messages.
struct Bytes {
  std::string b;
  Bytes& c(char v) { b += v; return *this; }
  Bytes& u(std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  Bytes& s(const std::string& v) { b += v; b += '\0'; return *this; }
  Bytes& text(const std::string& v) { return c('t').u(v.size(), 4).raw(v); }
  Bytes& raw(const std::string& v) { b += v; return *this; }
};

Message ok(const std::string& bytes) {
  auto m = decode(bytes);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : Message{};
}

TEST(PgOutput, BeginCommitAndRelation) {
  auto b = ok(Bytes().c('B').u(0x1234, 8).u(789'000'000, 8).u(731, 4).b);
  EXPECT_EQ(b.kind, Kind::begin);
  EXPECT_EQ(b.xid, 731u);
  EXPECT_EQ(b.commit_time_us, 789'000'000);
  auto c = ok(Bytes().c('C').c(0).u(0x10, 8).u(0x1929B80, 8).u(5, 8).b);
  EXPECT_EQ(c.kind, Kind::commit);
  EXPECT_EQ(c.end_lsn, 0x1929B80u);
  auto r = ok(Bytes().c('R').u(16384, 4).s("public").s("my table").c('i').u(2, 2)
                  .c(1).s("id").u(20, 4).u(0xffffffff, 4)
                  .c(0).s("name").u(25, 4).u(0xffffffff, 4).b);
  EXPECT_EQ(r.kind, Kind::relation);
  EXPECT_EQ(r.relation_oid, 16384u);
  EXPECT_EQ(r.schema, "public");
  EXPECT_EQ(r.table, "my table");
  EXPECT_EQ(r.replica_identity, 'i');
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_TRUE(r.columns[0].in_identity);
  EXPECT_EQ(r.columns[0].type_oid, 20u);
  EXPECT_FALSE(r.columns[1].in_identity);
  EXPECT_EQ(r.columns[1].name, "name");
}

TEST(PgOutput, InsertUpdateDeleteTruncateAndTheirTuples) {
  auto i = ok(Bytes().c('I').u(16384, 4).c('N').u(3, 2).text("1").c('n').c('u').b);
  EXPECT_EQ(i.kind, Kind::insert);
  ASSERT_EQ(i.new_tuple.size(), 3u);
  EXPECT_EQ(i.new_tuple[0].text, "1");
  EXPECT_EQ(i.new_tuple[1].form, Value::Form::null);
  EXPECT_EQ(i.new_tuple[2].form, Value::Form::unchanged_toast);
  auto plain = ok(Bytes().c('U').u(16384, 4).c('N').u(1, 2).text("2").b);
  EXPECT_EQ(plain.kind, Kind::update);
  EXPECT_EQ(plain.old_kind, 0);
  auto keyed = ok(Bytes().c('U').u(16384, 4).c('K').u(1, 2).text("2").c('N').u(1, 2).text("3").b);
  EXPECT_EQ(keyed.old_kind, 'K');
  EXPECT_EQ(keyed.old_tuple[0].text, "2");
  EXPECT_EQ(keyed.new_tuple[0].text, "3");
  auto d = ok(Bytes().c('D').u(16384, 4).c('O').u(1, 2).text("it's \"x\"").b);
  EXPECT_EQ(d.kind, Kind::del);
  EXPECT_EQ(d.old_kind, 'O');
  EXPECT_EQ(d.old_tuple[0].text, "it's \"x\"");
  auto t = ok(Bytes().c('T').u(2, 4).c(1).u(16384, 4).u(16390, 4).b);
  EXPECT_EQ(t.kind, Kind::truncate);
  EXPECT_EQ(t.relations, (std::vector<std::uint32_t>{16384, 16390}));
  // Text may hold NUL-free bytes of any kind, at any length.
  const std::string big(70000, 'x');
  EXPECT_EQ(ok(Bytes().c('I').u(1, 4).c('N').u(1, 2).text(big).b).new_tuple[0].text, big);
}

TEST(PgOutput, MessagesOriginAndType) {
  auto m = ok(Bytes().c('M').c(1).u(0x99, 8).s("hubsync.origin").u(8, 4).raw("public.t").b);
  EXPECT_EQ(m.kind, Kind::message);
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.prefix, "hubsync.origin");
  EXPECT_EQ(m.content, "public.t");
  EXPECT_EQ(ok(Bytes().c('O').u(0x99, 8).s("node_a").b).origin, "node_a");
  EXPECT_EQ(ok(Bytes().c('Y').u(16500, 4).s("public").s("mood").b).kind, Kind::type);
}

TEST(PgOutput, MalformedMessagesAreErrorsThatSayWhere) {
  auto short_begin = decode(Bytes().c('B').u(1, 8).b);
  ASSERT_FALSE(short_begin.ok());
  EXPECT_THAT(short_begin.error().message, HasSubstr("byte(s) short"));
  auto unknown = decode("Z");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown message type 'Z'"));
  auto trailing = decode(Bytes().c('I').u(1, 4).c('N').u(0, 2).c('x').b);
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(trailing.error().message, HasSubstr("runs on past offset 8"));
  auto bad_form = decode(Bytes().c('I').u(1, 4).c('N').u(1, 2).c('q').b);
  ASSERT_FALSE(bad_form.ok());
  EXPECT_THAT(bad_form.error().message, HasSubstr("unknown tuple value form 'q'"));
  auto no_old = decode(Bytes().c('D').u(1, 4).c('N').u(0, 2).b);
  ASSERT_FALSE(no_old.ok());
  EXPECT_THAT(no_old.error().message, HasSubstr("expected 'K' or 'O'"));
  auto huge_len = decode(Bytes().c('I').u(1, 4).c('N').u(1, 2).c('t').u(0xffffffff, 4).b);
  EXPECT_FALSE(huge_len.ok());
  EXPECT_FALSE(decode("").ok());
  EXPECT_FALSE(decode(Bytes().c('R').u(1, 4).raw("public").b).ok());  // a string with no end
}

TEST(PgOutput, LsnTextRoundTrips) {
  EXPECT_EQ(lsn_text(0x1929B80), "0/1929B80");
  EXPECT_EQ(lsn_text((std::uint64_t{0x16} << 32) | 0xB374D848), "16/B374D848");
  EXPECT_EQ(parse_lsn("16/B374D848"), (std::uint64_t{0x16} << 32) | 0xB374D848);
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_FALSE(parse_lsn("16B374D848"));
  EXPECT_FALSE(parse_lsn("/1"));
  EXPECT_FALSE(parse_lsn("1/"));
  EXPECT_FALSE(parse_lsn("1/xyz"));
}

}  // namespace
}  // namespace hubsync::postgres::pgoutput
