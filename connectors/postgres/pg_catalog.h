#pragma once

#include <memory>
#include <string>

#include "engine/mapping/catalog.h"

namespace hubsync::postgres {

/// The mapping validator's view of the live database: tables, column types,
/// keys and unique indexes, read from pg_catalog. Opens its own connection
/// on first use. Not thread-safe.
class PgCatalogReader final : public mapping::PgCatalog {
 public:
  explicit PgCatalogReader(std::string dsn);
  ~PgCatalogReader() override;

  model::Result<mapping::PgTableInfo> describe_table(const mapping::TableName& table) override;
  model::Status check_filter(const mapping::TableName& table, const std::string& expression) override;

 private:
  struct Conn;
  std::string dsn_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace hubsync::postgres
