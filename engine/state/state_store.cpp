#include "engine/state/state_store.h"

namespace hubsync::state {

const char* to_string(Direction d) {
  switch (d) {
    case Direction::to_hubspot:
      return "to_hubspot";
    case Direction::to_postgres:
      return "to_postgres";
  }
  return "?";
}

std::optional<Direction> direction_from_string(const std::string& s) {
  if (s == "to_hubspot") return Direction::to_hubspot;
  if (s == "to_postgres") return Direction::to_postgres;
  return std::nullopt;
}

const char* to_string(DeadLetterStatus s) {
  switch (s) {
    case DeadLetterStatus::pending:
      return "pending";
    case DeadLetterStatus::discarded:
      return "discarded";
  }
  return "?";
}

const char* to_string(Side s) {
  switch (s) {
    case Side::postgres:
      return "postgres";
    case Side::hubspot:
      return "hubspot";
  }
  return "?";
}

}  // namespace hubsync::state
