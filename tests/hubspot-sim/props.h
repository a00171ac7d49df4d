#pragma once

// Props: a record's property values, a sorted flat map. Copy-on-write
// snapshots of it are taken on every write, so one allocation for the
// vector (plus long strings) beats a node per property.
#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hubsync::sim {

class Props {
 public:
  using value_type = std::pair<std::string, std::string>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  Props() = default;
  Props(std::initializer_list<value_type> values) {
    for (const auto& v : values) (*this)[v.first] = v.second;
  }
  Props(const std::map<std::string, std::string>& m) : v_(m.begin(), m.end()) {}  // NOLINT: sorted already
  /// From values in any order; of equal keys the last counts, as assigning
  /// each in turn would. One sort, where inserting each shifts the rest.
  /// Room is kept for one more value.
  static Props from_unsorted(std::vector<value_type> values) {
    std::stable_sort(values.begin(), values.end(),
                     [](const value_type& a, const value_type& b) { return a.first < b.first; });
    Props p;
    p.v_.reserve(values.size() + 1);
    for (std::size_t i = 0; i < values.size(); ++i)
      if (i + 1 == values.size() || values[i + 1].first != values[i].first) p.v_.push_back(std::move(values[i]));
    return p;
  }

  iterator begin() { return v_.begin(); }
  iterator end() { return v_.end(); }
  const_iterator begin() const { return v_.begin(); }
  const_iterator end() const { return v_.end(); }
  std::size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }

  iterator find(std::string_view k) {
    auto it = lower(k);
    return it != v_.end() && it->first == k ? it : v_.end();
  }
  const_iterator find(std::string_view k) const {
    auto it = std::lower_bound(v_.begin(), v_.end(), k, key_less);
    return it != v_.end() && it->first == k ? it : v_.end();
  }
  std::size_t count(std::string_view k) const { return find(k) == end() ? 0 : 1; }
  std::string& operator[](std::string_view k) {
    auto it = lower(k);
    if (it == v_.end() || it->first != k) it = v_.emplace(it, std::string(k), std::string());
    return it->second;
  }
  std::pair<iterator, bool> emplace(std::string k, std::string v) {
    auto it = lower(k);
    if (it != v_.end() && it->first == k) return {it, false};
    return {v_.emplace(it, std::move(k), std::move(v)), true};
  }
  std::size_t erase(std::string_view k) {
    auto it = find(k);
    if (it == v_.end()) return 0;
    v_.erase(it);
    return 1;
  }
  void reserve(std::size_t n) { v_.reserve(n); }
  /// Adds a value after every other: the caller keeps the keys sorted (a
  /// merge of two sorted sequences builds a snapshot in one pass this way).
  void append(value_type v) { v_.push_back(std::move(v)); }
  void append(const_iterator first, const_iterator last) { v_.insert(v_.end(), first, last); }

 private:
  // The order of std::string's operator<, with the first bytes compared
  // inline: property names mostly differ there, and the call to memcmp
  // was most of a lookup's cost.
  static bool key_less(const value_type& a, std::string_view b) {
    if (!a.first.empty() && !b.empty() && a.first[0] != b[0])
      return static_cast<unsigned char>(a.first[0]) < static_cast<unsigned char>(b[0]);
    return std::string_view(a.first) < b;
  }
  iterator lower(std::string_view k) { return std::lower_bound(v_.begin(), v_.end(), k, key_less); }
  std::vector<value_type> v_;
};

}  // namespace hubsync::sim
