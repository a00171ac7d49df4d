#include "connectors/postgres/pgoutput.h"

#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace hubsync::postgres::pgoutput {

namespace {

struct Truncated : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads big-endian integers and NUL-terminated strings, refusing to read past the end.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}

  std::uint64_t uint(int bytes) {
    need(static_cast<std::size_t>(bytes));
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
    return v;
  }
  char byte() { return static_cast<char>(uint(1)); }
  std::string cstring() {
    const auto end = b_.find('\0', pos_);
    if (end == std::string_view::npos) throw Truncated("a string has no end at offset " + std::to_string(pos_));
    std::string s(b_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::string bytes(std::size_t n) {
    need(n);
    std::string s(b_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == b_.size(); }
  std::size_t pos() const { return pos_; }

 private:
  void need(std::size_t n) const {
    if (b_.size() - pos_ < n)
      throw Truncated("the message ends at offset " + std::to_string(b_.size()) + ", " + std::to_string(n) +
                      " byte(s) short");
  }
  std::string_view b_;
  std::size_t pos_ = 0;
};

Tuple tuple(Reader& r) {
  const auto n = r.uint(2);
  Tuple t(n);
  for (auto& v : t) {
    switch (const char form = r.byte()) {
      case 'n': v.form = Value::Form::null; break;
      case 'u': v.form = Value::Form::unchanged_toast; break;
      case 't':
        v.form = Value::Form::text;
        v.text = r.bytes(r.uint(4));
        break;
      default:
        throw Truncated(std::string("unknown tuple value form '") + form + "' at offset " +
                        std::to_string(r.pos() - 1));
    }
  }
  return t;
}

void relation(Reader& r, Message& m) {
  m.relation_oid = static_cast<std::uint32_t>(r.uint(4));
  m.schema = r.cstring();
  m.table = r.cstring();
  m.replica_identity = r.byte();
  const auto n = r.uint(2);
  for (std::uint64_t i = 0; i < n; ++i) {
    Column c;
    c.in_identity = (r.uint(1) & 1) != 0;
    c.name = r.cstring();
    c.type_oid = static_cast<std::uint32_t>(r.uint(4));
    r.uint(4);  // atttypmod
    m.columns.push_back(std::move(c));
  }
}

// 'K' or 'O' then a tuple, when the next byte says so; else nothing is read.
void old_tuple(Reader& r, Message& m, bool required) {
  Reader peek = r;
  const char k = peek.byte();
  if (k != 'K' && k != 'O') {
    if (required) throw Truncated(std::string("expected 'K' or 'O', found '") + k + "'");
    return;
  }
  r.byte();
  m.old_kind = k;
  m.old_tuple = tuple(r);
}

void expect_new(Reader& r, Message& m) {
  if (const char n = r.byte(); n != 'N') throw Truncated(std::string("expected 'N', found '") + n + "'");
  m.new_tuple = tuple(r);
}

void body(Reader& r, Message& m, char type) {
  switch (type) {
    case 'B':
      m.kind = Kind::begin;
      r.uint(8);  // final LSN of the transaction
      m.commit_time_us = static_cast<std::int64_t>(r.uint(8));
      m.xid = static_cast<std::uint32_t>(r.uint(4));
      return;
    case 'C':
      m.kind = Kind::commit;
      r.uint(1);  // flags
      r.uint(8);  // LSN of the commit record
      m.end_lsn = r.uint(8);
      m.commit_time_us = static_cast<std::int64_t>(r.uint(8));
      return;
    case 'O':
      m.kind = Kind::origin;
      r.uint(8);
      m.origin = r.cstring();
      return;
    case 'R': m.kind = Kind::relation; relation(r, m); return;
    case 'Y':
      m.kind = Kind::type;
      r.uint(4);
      r.cstring();
      r.cstring();
      return;
    case 'I':
      m.kind = Kind::insert;
      m.relation_oid = static_cast<std::uint32_t>(r.uint(4));
      expect_new(r, m);
      return;
    case 'U':
      m.kind = Kind::update;
      m.relation_oid = static_cast<std::uint32_t>(r.uint(4));
      old_tuple(r, m, false);
      expect_new(r, m);
      return;
    case 'D':
      m.kind = Kind::del;
      m.relation_oid = static_cast<std::uint32_t>(r.uint(4));
      old_tuple(r, m, true);
      return;
    case 'T': {
      m.kind = Kind::truncate;
      const auto n = r.uint(4);
      r.uint(1);  // options: CASCADE, RESTART IDENTITY
      for (std::uint64_t i = 0; i < n; ++i) m.relations.push_back(static_cast<std::uint32_t>(r.uint(4)));
      return;
    }
    case 'M':
      m.kind = Kind::message;
      m.transactional = (r.uint(1) & 1) != 0;
      r.uint(8);  // LSN
      m.prefix = r.cstring();
      m.content = r.bytes(r.uint(4));
      return;
    default:
      throw Truncated(std::string("unknown message type '") + type + "'");
  }
}

}  // namespace

model::Result<Message> decode(std::string_view bytes) {
  Message m;
  try {
    Reader r(bytes);
    body(r, m, r.byte());
    if (!r.done())
      throw Truncated("the message runs on past offset " + std::to_string(r.pos()) + " (of " +
                      std::to_string(bytes.size()) + ")");
  } catch (const Truncated& e) {
    return model::make_error(model::ErrorKind::fatal, std::string("logical replication message: ") + e.what());
  }
  return m;
}

std::string lsn_text(std::uint64_t lsn) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn));
  return buf;
}

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return std::nullopt;
  std::uint32_t hi = 0, lo = 0;
  const auto* end = text.data() + text.size();
  auto a = std::from_chars(text.data(), text.data() + slash, hi, 16);
  auto b = std::from_chars(text.data() + slash + 1, end, lo, 16);
  if (a.ec != std::errc() || a.ptr != text.data() + slash || b.ec != std::errc() || b.ptr != end)
    return std::nullopt;
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

}  // namespace hubsync::postgres::pgoutput
