#include "connectors/postgres/sql.h"

#include <pqxx/pqxx>

namespace hubsync::postgres {

std::string quote_qualified(const std::string& schema, const std::string& table) {
  return quote_ident(schema) + "." + quote_ident(table);
}

std::string quote_literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

model::Error translate_exception(const std::exception& e, const std::string& context) {
  using model::ErrorKind;
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  if (dynamic_cast<const pqxx::broken_connection*>(&e) ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    auto err = model::make_error(ErrorKind::transient, context + ": connection lost: " + what);
    return err;
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string state = sql->sqlstate();
    ErrorKind kind = ErrorKind::fatal;
    if (state.rfind("40", 0) == 0 || state.rfind("08", 0) == 0 || state == "55P03" ||
        state == "57P01" || state == "57P02" || state == "57P03" || state == "53300")
      kind = ErrorKind::transient;  // serialization, connection, lock, shutdown, too many conns
    else if (state.rfind("23", 0) == 0 || state.rfind("22", 0) == 0)
      kind = ErrorKind::invalid_record;  // integrity or data exception: this row, not the run
    auto err = model::make_error(kind, context + ": " + what + " (SQLSTATE " + state + ")");
    err.code = state;
    return err;
  }
  return model::make_error(ErrorKind::fatal, context + ": " + what);
}

}  // namespace hubsync::postgres
