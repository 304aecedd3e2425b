#pragma once
// Requests to a node itself (calls to its serial 0, DESIGN §6): the table of
// handlers (built-in ones and those the layers above add), and how an Error
// travels back as the answer.
#include <optional>
#include <string>
#include <unordered_map>

#include "noexpp/cluster/cluster.hpp"

namespace noexpp::cluster {

class NodeRequests {
 public:
  /// Adds the handler of `op` (before the node starts; read-only after).
  void add(std::string op, Cluster::RequestHandler handler);
  /// Runs the handler of `request`'s op; an unknown op is invalid_argument.
  RequestAnswer run(const Term& request) const;

  /// The answer that carries `e` to the asking node: ("$error", category, code, detail).
  static Term error_term(const Error& e);
  /// The Error an answer carries, if it is one.
  static std::optional<Error> error_of(const Term& answer);

 private:
  std::unordered_map<std::string, Cluster::RequestHandler> handlers_;
};

/// A request's op: its first item (tuple or list), or the request itself
/// when it is a string; "" otherwise.
std::string request_op(const Term& request);

}  // namespace noexpp::cluster
