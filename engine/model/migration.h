#pragma once

#include <vector>

namespace hubsync::model {

/// One schema migration embedded in the binary at build time
/// (cmake/embed_sql.cmake turns migrations/<store>/NNNN_name.sql into these).
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

}  // namespace hubsync::model
