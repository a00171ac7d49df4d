#pragma once

// A decoder of PostgreSQL's logical replication protocol (the messages the
// built-in `pgoutput` plugin writes, protocol version 1, plus the logical
// decoding messages of `messages 'true'`), as
// pg_logical_slot_peek_binary_changes() returns them: one message per row.
// Pure: no connection. Format: PostgreSQL 15 documentation, "Logical
// Replication Message Formats" (section 55.9).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/result.h"

namespace hubsync::postgres::pgoutput {

/// A column of a published relation, in the table's column order.
struct Column {
  std::string name;
  std::uint32_t type_oid = 0;
  bool in_identity = false;  ///< part of the replica identity (flag 1)
};

/// A value of a tuple: NULL, a TOASTed value the change did not touch (its
/// text is not sent), or the value in its type's text output form.
struct Value {
  enum class Form { null, unchanged_toast, text };
  Form form = Form::null;
  std::string text;
};

using Tuple = std::vector<Value>;

enum class Kind { begin, commit, origin, relation, type, insert, update, del, truncate, message };

/// One decoded message. Which fields are set depends on `kind`:
/// begin: xid, commit_time_us; commit: end_lsn; relation: relation_oid,
/// schema, table, replica_identity, columns; insert: relation_oid,
/// new_tuple; update: relation_oid, old_tuple (identity 'K' or whole old
/// row 'O', only when the identity changed or is FULL), new_tuple; del:
/// relation_oid, old_tuple; truncate: relations; message: transactional,
/// prefix, content; origin: origin. `type` carries nothing used.
struct Message {
  Kind kind = Kind::begin;
  std::uint32_t xid = 0;
  std::int64_t commit_time_us = 0;  ///< microseconds since 2000-01-01 00:00 UTC
  std::uint64_t end_lsn = 0;
  std::uint32_t relation_oid = 0;
  std::string schema, table;
  char replica_identity = 'd';  ///< d(efault), n(othing), f(ull), i(ndex)
  std::vector<Column> columns;
  char old_kind = 0;  ///< 'K' (identity columns only; the others null) or 'O'; 0: none
  Tuple old_tuple, new_tuple;
  std::vector<std::uint32_t> relations;
  bool transactional = false;
  std::string prefix, content, origin;
};

/// Decodes one message. Errors (fatal): a message type this decoder does
/// not know, or bytes that end early or run on, with the offset named.
model::Result<Message> decode(std::string_view bytes);

/// "0/1A2B3C" as pg_lsn prints it.
std::string lsn_text(std::uint64_t lsn);
/// The inverse of lsn_text(); nullopt when `text` is no LSN.
std::optional<std::uint64_t> parse_lsn(std::string_view text);

}  // namespace hubsync::postgres::pgoutput
