#pragma once

// What the serve tests share: the two-way mapping they run and a poll.
#include <chrono>
#include <functional>
#include <thread>

namespace hubsync::test {

inline constexpr const char* kServePeople = R"(name: people
postgres: {table: public.people, key: id}
hubspot: {object: contacts, match: email}
direction: both
fields:
  - {column: email, property: email}
  - {column: name, property: firstname}
)";

/// Polls `done` every `every` for up to `limit`; its last answer.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20),
                       std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace hubsync::test
