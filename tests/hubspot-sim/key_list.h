#pragma once

// KeyList: an ordered set of (time, id) keys with rank queries, for the
// simulator's search index (search_index.cpp). Sorted blocks of at most
// kMaxBlock keys, a Fenwick tree over the block sizes: insert and erase
// are O(log N + kMaxBlock) with a small constant and no allocation per key
// (an insert at the end, every write's new time, appends), plus O(N /
// kMaxBlock) when a block splits or empties; rank is O(log N), iteration
// sequential. Internal to the simulator; not
// thread-safe by itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hubsync::sim {

class KeyList {
 public:
  using Key = std::pair<std::int64_t, std::uint64_t>;

  /// A position: block and index in it; end() is {blocks, 0}.
  class const_iterator {
   public:
    const Key& operator*() const { return (*blocks_)[b_][i_]; }
    const Key* operator->() const { return &**this; }
    const_iterator& operator++() {
      if (++i_ == (*blocks_)[b_].size()) ++b_, i_ = 0;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return b_ == o.b_ && i_ == o.i_; }

   private:
    friend class KeyList;
    const_iterator(const std::vector<std::vector<Key>>* blocks, std::size_t b, std::size_t i)
        : blocks_(blocks), b_(b), i_(i) {}
    const std::vector<std::vector<Key>>* blocks_;
    std::size_t b_, i_;
  };

  /// Adds `k`; no-op when present.
  void insert(const Key& k) {
    if (blocks_.empty()) {
      blocks_.push_back({k});
      rebuild();
      size_ = 1;
      return;
    }
    std::size_t b = block_for(k);
    if (b == blocks_.size()) --b;  // past every key: the last block
    auto& v = blocks_[b];
    auto it = std::lower_bound(v.begin(), v.end(), k);
    if (it != v.end() && *it == k) return;
    v.insert(it, k);
    ++size_;
    if (v.size() > kMaxBlock) {
      std::vector<Key> upper(v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
      v.resize(v.size() / 2);
      blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::move(upper));
      rebuild();
    } else {
      lasts_[b] = v.back();
      add(b, 1);
    }
  }

  /// Removes `k`; no-op when absent.
  void erase(const Key& k) {
    const std::size_t b = block_for(k);
    if (b == blocks_.size()) return;
    auto& v = blocks_[b];
    auto it = std::lower_bound(v.begin(), v.end(), k);
    if (it == v.end() || *it != k) return;
    v.erase(it);
    --size_;
    if (v.empty()) {
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b));
      rebuild();
    } else {
      lasts_[b] = v.back();
      add(b, -1);
    }
  }

  /// Keys < k (`inclusive`: <= k).
  std::size_t rank(const Key& k, bool inclusive) const {
    const std::size_t b = inclusive ? block_above(k) : block_for(k);
    if (b == blocks_.size()) return size_;
    const auto& v = blocks_[b];
    auto it = inclusive ? std::upper_bound(v.begin(), v.end(), k) : std::lower_bound(v.begin(), v.end(), k);
    return prefix(b) + static_cast<std::size_t>(it - v.begin());
  }

  /// The first key >= k.
  const_iterator lower_bound(const Key& k) const {
    const std::size_t b = block_for(k);
    if (b == blocks_.size()) return end();
    const auto& v = blocks_[b];
    return {&blocks_, b, static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), k) - v.begin())};
  }
  const_iterator end() const { return {&blocks_, blocks_.size(), 0}; }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kMaxBlock = 256;

  // The first block whose last key is >= k (holds k if present).
  std::size_t block_for(const Key& k) const {
    return static_cast<std::size_t>(std::lower_bound(lasts_.begin(), lasts_.end(), k) - lasts_.begin());
  }
  // The first block whose last key is > k.
  std::size_t block_above(const Key& k) const {
    return static_cast<std::size_t>(std::upper_bound(lasts_.begin(), lasts_.end(), k) - lasts_.begin());
  }
  // Fenwick tree over block sizes (0-based: fenwick_[i] sums (i & (i + 1)) .. i).
  void add(std::size_t b, std::ptrdiff_t d) {
    for (; b < fenwick_.size(); b |= b + 1) fenwick_[b] = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(fenwick_[b]) + d);
  }
  std::size_t prefix(std::size_t b) const {  // keys in blocks [0, b)
    std::size_t s = 0;
    for (; b > 0; b &= b - 1) s += fenwick_[b - 1];
    return s;
  }
  void rebuild() {
    lasts_.resize(blocks_.size());
    fenwick_.assign(blocks_.size(), 0);
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      lasts_[i] = blocks_[i].back();
      fenwick_[i] += blocks_[i].size();
      if (const std::size_t j = i | (i + 1); j < fenwick_.size()) fenwick_[j] += fenwick_[i];
    }
  }

  std::vector<std::vector<Key>> blocks_;  ///< sorted, none empty, each key in one
  std::vector<Key> lasts_;  ///< each block's last key, for the block searches
  std::vector<std::size_t> fenwick_;
  std::size_t size_ = 0;
};

}  // namespace hubsync::sim
