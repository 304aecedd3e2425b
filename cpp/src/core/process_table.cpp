#include "core/process_table.hpp"

#include "core/process.hpp"

namespace noexpp {

void ProcessTable::insert(std::shared_ptr<Process> p, std::uint64_t serial) {
  auto& s = shard(serial);
  std::lock_guard lk(s.mu);
  s.procs.emplace(serial, std::move(p));
}

std::shared_ptr<Process> ProcessTable::find(std::uint64_t serial) const {
  auto& s = shard(serial);
  std::lock_guard lk(s.mu);
  auto it = s.procs.find(serial);
  return it == s.procs.end() ? nullptr : it->second;
}

std::shared_ptr<Process> ProcessTable::remove(std::uint64_t serial) {
  std::shared_ptr<Process> removed;
  {
    auto& s = shard(serial);
    std::lock_guard lk(s.mu);
    if (auto it = s.procs.find(serial); it != s.procs.end()) {
      removed = std::move(it->second);
      s.procs.erase(it);
    }
  }
  notify();
  return removed;
}

std::size_t ProcessTable::size() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.procs.size();
  }
  return n;
}

std::vector<std::shared_ptr<Process>> ProcessTable::snapshot() const {
  std::vector<std::shared_ptr<Process>> out;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto& [serial, p] : s.procs) out.push_back(p);
  }
  return out;
}

void ProcessTable::clear() {
  for (auto& s : shards_) {
    std::unordered_map<std::uint64_t, std::shared_ptr<Process>> gone;
    {
      std::lock_guard lk(s.mu);
      gone.swap(s.procs);
    }
  }
}

void ProcessTable::notify() {
  // Only a stopping node waits: spare every exit the lock otherwise.
  if (waiters_.load() == 0) return;  // seq_cst: pairs with the waiter's increment
  std::lock_guard lk(wait_mu_);
  changed_.notify_all();
}

}  // namespace noexpp
