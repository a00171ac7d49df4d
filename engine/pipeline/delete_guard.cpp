#include "engine/pipeline/delete_guard.h"

#include <limits>
#include <map>
#include <sstream>
#include <utility>

namespace hubsync::pipeline {

using model::Result;
using model::Status;

namespace {

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max();

// "minute:count,minute:count": deletions made per minute of the last hour.
std::map<std::int64_t, std::int64_t> parse_window(const std::string& s) {
  std::map<std::int64_t, std::int64_t> out;
  std::istringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    const auto colon = part.find(':');
    if (colon == std::string::npos) continue;
    try {
      out[std::stoll(part.substr(0, colon))] += std::stoll(part.substr(colon + 1));
    } catch (const std::exception&) {  // a damaged record counts nothing
    }
  }
  return out;
}

std::string format_window(const std::map<std::int64_t, std::int64_t>& w) {
  std::string out;
  for (const auto& [minute, n] : w) out += (out.empty() ? "" : ",") + std::to_string(minute) + ":" + std::to_string(n);
  return out;
}

// Whitespace-separated integers; missing ones read as 0.
std::vector<std::int64_t> numbers(const std::string& s, std::size_t n) {
  std::vector<std::int64_t> out(n, 0);
  std::istringstream in(s);
  for (auto& v : out)
    if (!(in >> v)) break;
  return out;
}

const char* dir_name(state::Direction d) { return state::to_string(d); }

}  // namespace

std::string deletes_done_checkpoint(state::Direction d) { return std::string("deletes done ") + dir_name(d); }
std::string deletes_held_checkpoint(state::Direction d) { return std::string("deletes held ") + dir_name(d); }
std::string deletes_allowed_checkpoint(state::Direction d) { return std::string("deletes allowed ") + dir_name(d); }

Result<std::optional<HeldDeletes>> held_deletes(state::StateStore& store, const std::string& mapping,
                                                state::Direction d) {
  auto cp = store.get_checkpoint(mapping, deletes_held_checkpoint(d));
  if (!cp.ok()) return std::move(cp).error();
  if (!*cp) return std::optional<HeldDeletes>{};
  const auto v = numbers((*cp)->value, 4);
  return std::optional<HeldDeletes>{HeldDeletes{v[0], v[1], v[2], v[3]}};
}

Status allow_deletes(state::StateStore& store, const std::string& mapping, state::Direction d,
                     std::int64_t count, std::int64_t now_ms) {
  return store.transaction([&]() -> Status {
    // The third number: whether a pass has made the held changes claimable.
    const std::string value = std::to_string(count) + " " + std::to_string(now_ms + kDeleteWindowMs) + " 0";
    if (auto st = store.set_checkpoint(mapping, deletes_allowed_checkpoint(d), value); !st.ok()) return st;
    return store.remove_checkpoint(mapping, deletes_held_checkpoint(d));
  });
}

DeleteGuard::DeleteGuard(const mapping::Mapping& m, state::Direction d, state::StateStore& store,
                         ratelimit::Clock& clock, std::shared_ptr<spdlog::logger> log, bool allow_all)
    : m_(m), dir_(d), store_(store), clock_(clock), log_(std::move(log)), allow_all_(allow_all) {}

Result<bool> DeleteGuard::begin() {
  if (allow_all_) {
    auto held = held_deletes(store_, m_.name, dir_);
    if (!held.ok()) return std::move(held).error();
    return held->has_value();
  }
  auto cp = store_.get_checkpoint(m_.name, deletes_allowed_checkpoint(dir_));
  if (!cp.ok()) return std::move(cp).error();
  if (!*cp) return false;
  const auto v = numbers((*cp)->value, 3);
  if (v[2] != 0 || v[1] <= clock_.wall_ms()) return false;
  if (auto st = store_.set_checkpoint(m_.name, deletes_allowed_checkpoint(dir_),
                                      std::to_string(v[0]) + " " + std::to_string(v[1]) + " 1");
      !st.ok())
    return std::move(st).error();
  return true;
}

Result<std::int64_t> DeleteGuard::made_within_hour() {
  auto cp = store_.get_checkpoint(m_.name, deletes_done_checkpoint(dir_));
  if (!cp.ok()) return std::move(cp).error();
  if (!*cp) return std::int64_t{0};
  const std::int64_t first = (clock_.wall_ms() - kDeleteWindowMs) / kMinuteMs;
  std::int64_t sum = 0;
  for (const auto& [minute, n] : parse_window((*cp)->value))
    if (minute > first) sum += n;
  return sum;
}

// A percentage counts the records linked as the hour began, so the hour's
// own deletions do not shrink the limit they count against.
Result<std::int64_t> DeleteGuard::limit(std::int64_t made) {
  auto linked = store_.count_links(m_.name);
  if (!linked.ok()) return std::move(linked).error();
  return m_.max_deletes.of(static_cast<std::int64_t>(*linked) + made);
}

Result<std::int64_t> DeleteGuard::room() {
  if (allow_all_ || m_.max_deletes.kind == mapping::DeleteLimit::Kind::off) return kUnlimited;
  auto made = made_within_hour();
  if (!made.ok()) return std::move(made).error();
  auto limited = limit(*made);
  if (!limited.ok()) return limited;
  std::int64_t room = *limited - *made;
  auto allowed = store_.get_checkpoint(m_.name, deletes_allowed_checkpoint(dir_));
  if (!allowed.ok()) return std::move(allowed).error();
  if (*allowed) {
    const auto v = numbers((*allowed)->value, 2);
    if (v[1] > clock_.wall_ms()) room += v[0];
  }
  return std::max<std::int64_t>(0, room);
}

Status DeleteGuard::hold(std::int64_t pending) {
  if (pending <= held_) return {};
  held_ = pending;
  auto made = made_within_hour();
  if (!made.ok()) return std::move(made).error();
  auto limited = limit(*made);
  if (!limited.ok()) return std::move(limited).error();
  const bool to_hubspot = dir_ == state::Direction::to_hubspot;
  log_->warn("deletions held mapping={} direction={} pending={} made_in_last_hour={} max_deletes={} ({}): "
             "{} would be {}; nothing was deleted. If they are meant, allow them: `hubsync deletes allow {}` "
             "(or `hubsync run --allow-deletes`); if not, undo them at their source and they are never made",
             m_.name, dir_name(dir_), pending, *made, *limited, m_.max_deletes.to_string(), pending,
             to_hubspot ? "HubSpot objects archived" : "Postgres rows deleted", m_.name);
  return store_.set_checkpoint(m_.name, deletes_held_checkpoint(dir_),
                               std::to_string(pending) + " " + std::to_string(*limited) + " " +
                                   std::to_string(*made) + " " + std::to_string(clock_.wall_ms()));
}

Status DeleteGuard::made(std::int64_t n) {
  if (n <= 0) return {};
  auto cp = store_.get_checkpoint(m_.name, deletes_done_checkpoint(dir_));
  if (!cp.ok()) return std::move(cp).error();
  auto window = *cp ? parse_window((*cp)->value) : std::map<std::int64_t, std::int64_t>{};
  const std::int64_t now = clock_.wall_ms() / kMinuteMs;
  window.erase(window.begin(), window.upper_bound(now - kDeleteWindowMs / kMinuteMs));
  window[now] += n;
  return store_.set_checkpoint(m_.name, deletes_done_checkpoint(dir_), format_window(window));
}

Status DeleteGuard::finish(std::int64_t settle_ms) {
  if (held_ > 0) return {};
  auto held = held_deletes(store_, m_.name, dir_);
  if (!held.ok()) return std::move(held).error();
  if (!*held || (*held)->at_ms + settle_ms > clock_.wall_ms()) return {};
  log_->info("held deletions released mapping={} direction={}: made, allowed or undone", m_.name, dir_name(dir_));
  return store_.remove_checkpoint(m_.name, deletes_held_checkpoint(dir_));
}

}  // namespace hubsync::pipeline
