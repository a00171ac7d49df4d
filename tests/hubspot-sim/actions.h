#pragma once

// Custom workflow action definitions (HubSpot's automation actions v4 API):
// definitions per app, each PATCH a new revision, DELETE archives. Pure
// state, no I/O; the routes are in api_actions.cpp.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/hubspot-sim/json.h"

namespace hubsync::sim {

/// One revision of a definition: its members as stored (the request,
/// validated and normalised: functions as identifiers, HubSpot's defaults
/// filled in), without `id`, `revisionId` and `archivedAt`.
struct ActionRevisionView {
  std::string definition_id;
  std::int64_t revision = 0;
  std::int64_t created_ms = 0;
  std::string body_json;
};

struct ActionDefinitionView {
  std::string id;
  std::int64_t archived_ms = 0;  ///< 0: live
  ActionRevisionView current;
  std::string action_url;
  std::vector<std::string> object_types;
  std::vector<std::string> object_properties;  ///< objectRequestOptions.properties
};

/// HubSpot's PublicActionDefinition for the current revision.
std::string definition_json(const ActionDefinitionView& d);
/// HubSpot's PublicActionRevision (`id` is the definition's id).
std::string revision_json(const ActionRevisionView& r);

/// Thread-safe store of the definitions of every app. Methods throw
/// ApiError as HubSpot answers: 400 VALIDATION_ERROR naming the field (in
/// the message and `errors[].in`), 404 OBJECT_NOT_FOUND.
class ActionRegistry {
 public:
  using NowFn = std::function<std::int64_t()>;
  explicit ActionRegistry(NowFn now) : now_(std::move(now)) {}

  /// Validates a PublicActionDefinitionEgg and stores revision 1.
  ActionDefinitionView create(std::int64_t app_id, const rapidjson::Value& egg);
  /// Applies a PublicActionDefinitionPatch (only the given members change)
  /// as a new revision.
  ActionDefinitionView update(std::int64_t app_id, const std::string& id, const rapidjson::Value& patch);
  /// Archives a live definition (404 when unknown or already archived).
  void archive(std::int64_t app_id, const std::string& id);
  /// A live definition, or (archived = true) an archived one; else 404.
  ActionDefinitionView get(std::int64_t app_id, const std::string& id, bool archived) const;
  /// Live (or only archived) definitions with id >= after, in id order;
  /// `next` is the first id of the following page.
  std::vector<ActionDefinitionView> list(std::int64_t app_id, bool archived, int limit, std::uint64_t after,
                                         std::optional<std::uint64_t>& next) const;
  /// Revisions >= after of a live definition, oldest first.
  std::vector<ActionRevisionView> revisions(std::int64_t app_id, const std::string& id, int limit,
                                            std::uint64_t after, std::optional<std::uint64_t>& next) const;
  ActionRevisionView revision(std::int64_t app_id, const std::string& id, const std::string& revision_id) const;
  /// The current revision of a live definition of any app (workflow knob).
  std::optional<ActionDefinitionView> find_live(const std::string& id) const;
  /// Drops every definition; ids keep counting.
  void reset();

 private:
  struct Definition {
    std::int64_t app_id = 0;
    std::int64_t archived_ms = 0;
    std::vector<ActionRevisionView> revisions;
  };
  /// Throws 404 when the id is unknown or belongs to another app.
  const Definition& find_locked(std::int64_t app_id, const std::string& id) const;
  Definition& find_locked(std::int64_t app_id, const std::string& id);
  ActionDefinitionView view_locked(std::uint64_t id, const Definition& d) const;

  NowFn now_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, Definition> defs_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_function_id_ = 1;
};

}  // namespace hubsync::sim
