#pragma once

// UniqueValues: one unique property's values, each to the live record that
// holds it (the simulator's unique-value index; emails lower-cased by the
// caller). Every upsert by email looks its value up here, so the table is
// flat: open addressing with linear probing, each slot one cache line with
// the key's hash, the record and (up to kInline bytes) the key itself, so a
// lookup usually touches one line where a node-based map touches three or
// four. Erase shifts the following slots back (no tombstones). Internal to
// the simulator; not thread-safe by itself.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace hubsync::sim {

struct Record;

class UniqueValues {
 public:
  UniqueValues() = default;
  UniqueValues(const UniqueValues& other);
  UniqueValues& operator=(const UniqueValues& other);
  UniqueValues(UniqueValues&&) noexcept = default;
  UniqueValues& operator=(UniqueValues&&) noexcept = default;

  /// The record holding `key`, or null.
  Record* find(std::string_view key) const;
  /// Points `key` at `r` (inserted, or replacing the record it held).
  void set(std::string_view key, Record* r);
  /// Drops `key`; no-op when absent.
  void erase(std::string_view key);
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kInline = 36;  // fills the slot's 64 bytes
  struct alignas(64) Slot {
    std::uint64_t hash = 0;
    Record* record = nullptr;  ///< null: an empty slot
    std::uint32_t size = 0;
    char text[kInline];
    std::unique_ptr<char[]> long_text;  ///< the key when longer than kInline

    std::string_view key() const { return {long_text ? long_text.get() : text, size}; }
    void assign(std::string_view k);
  };

  std::size_t home(std::uint64_t hash) const { return hash & (slots_.size() - 1); }
  /// The slot holding `key`, or slots_.size().
  std::size_t locate(std::string_view key, std::uint64_t hash) const;
  void grow();

  std::vector<Slot> slots_;  ///< a power of two in size, at most half full
  std::size_t size_ = 0;
};

}  // namespace hubsync::sim
