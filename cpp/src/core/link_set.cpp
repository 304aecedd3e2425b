#include "core/link_set.hpp"

#include <algorithm>
#include <utility>

namespace noexpp {

std::size_t LinkSet::find(Pid p) const {
  if (index_) {
    auto it = index_->find(p);
    return it == index_->end() ? pids_.size() : it->second;
  }
  return static_cast<std::size_t>(std::find(pids_.begin(), pids_.end(), p) - pids_.begin());
}

void LinkSet::insert(Pid p) {
  if (find(p) != pids_.size()) return;
  pids_.push_back(p);
  if (index_) {
    index_->emplace(p, pids_.size() - 1);
  } else if (pids_.size() >= kIndexFrom) {
    index_ = std::make_unique<std::unordered_map<Pid, std::size_t, PidHash>>();
    for (std::size_t i = 0; i < pids_.size(); ++i) index_->emplace(pids_[i], i);
  }
}

bool LinkSet::erase(Pid p) {
  const std::size_t i = find(p);
  if (i == pids_.size()) return false;
  // Swap with the last: O(1), and order does not matter for links.
  if (i != pids_.size() - 1) {
    pids_[i] = pids_.back();
    if (index_) (*index_)[pids_[i]] = i;
  }
  pids_.pop_back();
  if (index_) index_->erase(p);
  return true;
}

std::vector<Pid> LinkSet::take() {
  index_.reset();
  return std::exchange(pids_, {});
}

}  // namespace noexpp
