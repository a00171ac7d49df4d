#pragma once

#include <exception>
#include <string>
#include <vector>

#include "engine/mapping/mapping.h"
#include "engine/model/result.h"

namespace hubsync::postgres {

/// "name" with embedded quotes doubled: safe for any identifier, including
/// mixed case and spaces ("Order Items"). One implementation, the mapping's.
using mapping::quote_ident;
/// "schema"."table"
std::string quote_qualified(const std::string& schema, const std::string& table);
/// 'text' with embedded quotes doubled (standard_conforming_strings on).
std::string quote_literal(const std::string& text);
/// A text[] literal body: {"a","b \"c\""}, each element quoted and escaped.
std::string array_literal(const std::vector<std::string>& items);

/// Translates an exception thrown by libpqxx into an engine Error whose kind
/// says who retries: lost connections and serialization failures are
/// transient, constraint violations invalid_record, the rest fatal. The
/// message carries the SQLSTATE and never the DSN.
model::Error translate_exception(const std::exception& e, const std::string& context);

}  // namespace hubsync::postgres
