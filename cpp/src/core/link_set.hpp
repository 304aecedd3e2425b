#pragma once
/// The set of processes linked to one process. Most processes have a link or
/// two (a vector is smallest then); a supervisor may have tens of thousands,
/// where a linear search per link and unlink made starting and stopping
/// children quadratic. Past a threshold a hash index takes over lookups.
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

#include "noexpp/pid.hpp"

namespace noexpp {

class LinkSet {
 public:
  /// Adds `p` unless present.
  void insert(Pid p);
  /// Removes `p`; false if it was not there.
  bool erase(Pid p);
  /// Takes every link out, in no particular order.
  std::vector<Pid> take();
  /// The links `pred` selects (a node going down: its pids), left in place.
  template <class Pred>
  std::vector<Pid> select(Pred pred) const {
    std::vector<Pid> out;
    for (Pid p : pids_)
      if (pred(p)) out.push_back(p);
    return out;
  }
  std::size_t size() const { return pids_.size(); }
  bool contains(Pid p) const { return find(p) != pids_.size(); }

 private:
  static constexpr std::size_t kIndexFrom = 32;
  std::size_t find(Pid p) const;  // index in pids_, or size() if absent
  std::vector<Pid> pids_;
  std::unique_ptr<std::unordered_map<Pid, std::size_t, PidHash>> index_;  // pid -> position, once large
};

}  // namespace noexpp
