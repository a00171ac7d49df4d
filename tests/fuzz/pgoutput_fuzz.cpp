// libFuzzer target over the decoder of PostgreSQL's logical replication
// messages (connectors/postgres/pgoutput.h), which the relay of
// `postgres.capture: logical` runs on what the server's slot returns. Never
// a crash, a leak, a hang or an exception escaping; a failed decode says
// why; a decoded message is self-consistent; an LSN's text round-trips.
// Input: one message, as pg_logical_slot_peek_binary_changes returns it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "connectors/postgres/pgoutput.h"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "pgoutput_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hubsync::postgres::pgoutput;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = decode(bytes);
  if (!m.ok()) {
    if (m.error().message.empty()) fail("a failed decode says nothing");
  } else {
    if (size == 0) fail("an empty message decoded");
    if (m->kind == Kind::relation && m->columns.size() > 0xffff) fail("more columns than a message can name");
    if ((m->kind == Kind::insert || m->kind == Kind::update) && m->new_tuple.size() > 0xffff)
      fail("a tuple longer than a message can hold");
    if (m->kind == Kind::del && m->old_kind != 'K' && m->old_kind != 'O') fail("a delete without its old key");
    for (const auto& v : m->new_tuple)
      if (v.form != Value::Form::text && !v.text.empty()) fail("a NULL or unsent value with text");
  }
  if (auto lsn = parse_lsn(bytes); lsn && parse_lsn(lsn_text(*lsn)) != lsn) fail("an LSN's text does not round-trip");
  return 0;
}
