#include "sup/requests.hpp"

namespace noexpp::sup {

std::uint64_t RequestBox::post(Request r) {
  std::lock_guard lk(mu_);
  auto token = next_token_++;
  requests_.emplace(token, std::move(r));
  return token;
}

std::optional<Request> RequestBox::take(std::uint64_t token) {
  std::lock_guard lk(mu_);
  auto it = requests_.find(token);
  if (it == requests_.end()) return std::nullopt;
  Request r = std::move(it->second);
  requests_.erase(it);
  return r;
}

void RequestBox::answer(std::uint64_t token, Reply r) {
  std::lock_guard lk(mu_);
  replies_[token] = std::move(r);
}

std::optional<Reply> RequestBox::take_reply(std::uint64_t token) {
  std::lock_guard lk(mu_);
  auto it = replies_.find(token);
  if (it == replies_.end()) return std::nullopt;
  Reply r = std::move(it->second);
  replies_.erase(it);
  return r;
}

void RequestBox::forget(std::uint64_t token) {
  std::lock_guard lk(mu_);
  requests_.erase(token);
  replies_.erase(token);
}

void RequestBox::set_final(SupervisorStats s) {
  std::lock_guard lk(mu_);
  final_ = std::move(s);
}

std::optional<SupervisorStats> RequestBox::final_stats() {
  std::lock_guard lk(mu_);
  return final_;
}

void RequestBox::set_start_error(Error e) {
  std::lock_guard lk(mu_);
  start_error_ = std::move(e);
}

std::optional<Error> RequestBox::start_error() {
  std::lock_guard lk(mu_);
  return start_error_;
}

}  // namespace noexpp::sup
