#pragma once

// The `people` table and two-way mapping the crash trials share: email (the
// match), first name and city.
#include <string>

namespace hubsync::test {

inline constexpr const char* kPeopleMapping = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
fields:
  - {column: email, property: email}
  - {column: first_name, property: firstname}
  - {column: city, property: city}
)";

/// The table, keyed by `id` of `key_type` (bigserial, bigint...).
inline std::string people_table_sql(const std::string& key_type) {
  return "CREATE TABLE public.people (id " + key_type +
         " PRIMARY KEY, email text NOT NULL UNIQUE, first_name text, city text)";
}

}  // namespace hubsync::test
