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
    auto it = std::lower_bound(v_.begin(), v_.end(), k, [](const value_type& a, std::string_view b) { return a.first < b; });
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

 private:
  iterator lower(std::string_view k) {
    return std::lower_bound(v_.begin(), v_.end(), k, [](const value_type& a, std::string_view b) { return a.first < b; });
  }
  std::vector<value_type> v_;
};

}  // namespace hubsync::sim
