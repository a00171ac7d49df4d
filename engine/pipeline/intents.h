#pragma once

#include <cstdint>

#include <spdlog/logger.h>

#include "engine/mapping/mapping.h"
#include "engine/pipeline/crm_port.h"
#include "engine/pipeline/database_port.h"
#include "engine/state/state_store.h"

namespace hubsync::pipeline {

/// Settles the write intents a crash left for mapping `m`: rows whose
/// HubSpot write may have arrived with no commit after it. Reads those
/// objects (by id, or by match value for upserts) with their property
/// history: a field one of whose properties was written at or after the
/// intent started (put on HubSpot's clock by crm.clock_offset(), less
/// `clock_skew_ms`) takes the intent's value as its base — ours arrived,
/// or someone wrote after it — and rows are linked to the objects found.
/// Push and pull of the mapping then send only what changed since, never
/// an old value over a newer HubSpot edit. Errors:
/// HubSpot unreachable (the intents stay for the next run), state store.
model::Status recover_write_intents(const mapping::Mapping& m, CrmPort& crm,
                                    state::StateStore& state, std::int64_t now_ms,
                                    std::int64_t clock_skew_ms, spdlog::logger& log);

/// Settles the Postgres intents a crash left for mapping `m`: rows a pull
/// may have written with no commit after it. Reads those rows: a field whose
/// comparison value is the one the intent wrote takes it as its base (on
/// both sides: it came from HubSpot), so no push takes it for a Postgres
/// change and sends it over a newer HubSpot edit; a field Postgres holds
/// otherwise (the write never committed, or someone wrote since) keeps its
/// base. Every intent listed is settled. Errors: Postgres, state store.
model::Status recover_postgres_intents(const mapping::Mapping& m, DatabasePort& db, state::StateStore& state,
                                       std::int64_t now_ms, spdlog::logger& log);

}  // namespace hubsync::pipeline
