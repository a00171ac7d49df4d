#include <iostream>
#include <map>

#include "connectors/postgres/pg_database.h"
#include "engine/cli/app.h"
#include "engine/cli/status.h"
#include "engine/cli/mappings.h"
#include "engine/cli/runtime.h"
#include "engine/model/value.h"
#include "engine/ops/logging.h"
#include "engine/pipeline/push.h"

namespace hubsync::cli {

int cmd_dead_letters_list(const GlobalOptions& global, const std::string& mapping, bool all) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  auto store = open_state(cfg, /*read_only=*/true);
  if (!store) return kExitUnavailable;
  state::DeadLetterFilter filter;
  if (!mapping.empty()) filter.mapping = mapping;
  if (!all) filter.status = state::DeadLetterStatus::pending;
  constexpr std::size_t kShown = 1000;
  filter.limit = kShown + 1;  // one more says whether there are more
  auto list = store->list_dead_letters(filter);
  if (!list.ok()) {
    std::cerr << "dead-letters: " << list.error().message << '\n';
    return kExitUnavailable;
  }
  if (list->empty()) {
    std::cout << "no dead letters\n";
    return kExitOk;
  }
  const bool more = list->size() > kShown;
  if (more) list->resize(kShown);
  for (const auto& dl : *list) {
    std::cout << "#" << dl.id << "  " << dl.mapping << "  " << state::to_string(dl.direction)
              << "  key=" << (dl.pg_key.empty() ? "-" : dl.pg_key)
              << "  hubspot_id=" << (dl.hubspot_id.empty() ? "-" : dl.hubspot_id)
              << "  attempts=" << dl.attempts << "  status=" << state::to_string(dl.status)
              << "  next_retry=" << format_when(dl.next_retry_at_ms) << '\n'
              << "    " << (dl.http_status ? std::to_string(dl.http_status) + " " : "")
              << (dl.category.empty() ? model::to_string(dl.error_kind) : dl.category) << ": "
              << dl.message << '\n';
  }
  if (more)
    std::cout << "(the first " << kShown << " only: there are more; `hubsync status` counts them, and "
              << "--mapping NAME lists one mapping's)\n";
  return kExitOk;
}

int cmd_dead_letters_retry(const GlobalOptions& global, const std::vector<std::int64_t>& ids,
                           bool all) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  std::vector<mapping::Mapping> mappings;
  if (!load_mappings(cfg.mappings.dir, {}, mappings)) return kExitError;
  bool beside = false;  // serve holds the store: it retries them
  auto store = open_state_for_edit(cfg, beside);
  if (!store) return kExitUnavailable;
  std::vector<state::DeadLetter> letters;
  if (all) {
    state::DeadLetterFilter filter;
    filter.status = state::DeadLetterStatus::pending;
    filter.limit = 1'000'000;
    auto list = store->list_dead_letters(filter);
    if (!list.ok()) {
      std::cerr << "dead-letters: " << list.error().message << '\n';
      return kExitUnavailable;
    }
    letters = std::move(*list);
  }
  for (auto id : ids) {
    auto dl = store->get_dead_letter(id);
    if (!dl.ok() || !*dl) {
      std::cerr << "dead-letters: no dead letter #" << id << '\n';
      return kExitError;
    }
    letters.push_back(**dl);
  }
  // A letter of the pull is read again from HubSpot by the next run.
  std::vector<std::int64_t> pulled;
  for (const auto& dl : letters)
    if (dl.direction == state::Direction::to_postgres && dl.status == state::DeadLetterStatus::pending)
      pulled.push_back(dl.id);
  if (auto st = store->reschedule_dead_letters(pulled, ratelimit::SystemClock().wall_ms()); !st.ok()) {
    std::cerr << "dead-letters: " << st.error().message << '\n';
    return kExitUnavailable;
  }
  postgres::PgDatabase db(cfg.postgres.dsn.value, ops::logger("postgres"));
  std::int64_t total = static_cast<std::int64_t>(pulled.size());
  for (const auto& m : mappings) {
    auto n = pipeline::requeue_dead_letters(m, db, *store, letters);
    if (!n.ok()) {
      std::cerr << "dead-letters: " << config::redact(cfg, n.error().message) << '\n';
      return n.error().kind == model::ErrorKind::transient ? kExitUnavailable : kExitError;
    }
    total += *n;
  }
  std::cout << "requeued " << total << " dead letter(s); "
            << (beside ? "the running hubsync process (serve) retries them\n"
                       : "the next `hubsync run --once` (or serve) retries them\n");
  return kExitOk;
}

int cmd_dead_letters_discard(const GlobalOptions& global, const std::vector<std::int64_t>& ids,
                             const std::string& reason) {
  config::Config cfg;
  if (!load_config_or_report(global, cfg)) return kExitError;
  bool beside = false;
  auto store = open_state_for_edit(cfg, beside);
  if (!store) return kExitUnavailable;
  for (auto id : ids) {
    if (auto st = store->discard_dead_letter(id, reason); !st.ok()) {
      std::cerr << "dead-letters: #" << id << ": " << st.error().message << '\n';
      return kExitError;
    }
    std::cout << "discarded #" << id << '\n';
  }
  return kExitOk;
}

}  // namespace hubsync::cli
