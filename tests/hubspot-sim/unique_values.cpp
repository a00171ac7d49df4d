#include "tests/hubspot-sim/unique_values.h"

#include <cstring>
#include <functional>
#include <stdexcept>
#include <utility>

namespace hubsync::sim {
namespace {

std::uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }

}  // namespace

void UniqueValues::Slot::assign(std::string_view k) {
  size = static_cast<std::uint32_t>(k.size());
  if (k.size() <= kInline) {
    long_text.reset();
    if (!k.empty()) std::memcpy(text, k.data(), k.size());
    return;
  }
  long_text = std::make_unique_for_overwrite<char[]>(k.size());
  std::memcpy(long_text.get(), k.data(), k.size());
}

UniqueValues::UniqueValues(const UniqueValues& other) : slots_(other.slots_.size()), size_(other.size_) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& from = other.slots_[i];
    if (!from.record) continue;
    slots_[i].hash = from.hash;
    slots_[i].record = from.record;
    slots_[i].assign(from.key());
  }
}

UniqueValues& UniqueValues::operator=(const UniqueValues& other) {
  if (this != &other) *this = UniqueValues(other);
  return *this;
}

std::size_t UniqueValues::locate(std::string_view key, std::uint64_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(hash);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (!s.record) return slots_.size();
    if (s.hash == hash && s.key() == key) return i;
  }
}

Record* UniqueValues::find(std::string_view key) const {
  if (size_ == 0) return nullptr;
  std::size_t i = locate(key, hash_of(key));
  return i == slots_.size() ? nullptr : slots_[i].record;
}

void UniqueValues::set(std::string_view key, Record* r) {
  if (!r) throw std::logic_error("UniqueValues::set: a null record");
  if (2 * (size_ + 1) > slots_.size()) grow();
  const std::uint64_t hash = hash_of(key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(hash);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (!s.record) {
      s.hash = hash;
      s.record = r;
      s.assign(key);
      ++size_;
      return;
    }
    if (s.hash == hash && s.key() == key) {
      s.record = r;
      return;
    }
  }
}

// Backward-shift deletion: each following slot of the run moves into the
// hole unless its home lies cyclically in (hole, slot], so every key stays
// reachable from its home without tombstones.
void UniqueValues::erase(std::string_view key) {
  if (size_ == 0) return;
  std::size_t hole = locate(key, hash_of(key));
  if (hole == slots_.size()) return;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t j = (hole + 1) & mask; slots_[j].record; j = (j + 1) & mask) {
    const std::size_t h = home(slots_[j].hash);
    const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (stays) continue;
    slots_[hole] = std::move(slots_[j]);
    hole = j;
  }
  slots_[hole] = Slot{};
  --size_;
}

void UniqueValues::grow() {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots_.empty() ? 16 : 2 * slots_.size()));
  const std::size_t mask = slots_.size() - 1;
  for (auto& s : old) {
    if (!s.record) continue;
    std::size_t i = home(s.hash);
    while (slots_[i].record) i = (i + 1) & mask;
    slots_[i] = std::move(s);
  }
}

}  // namespace hubsync::sim
