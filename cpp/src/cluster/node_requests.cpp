#include "cluster/node_requests.hpp"

namespace noexpp::cluster {
namespace {

constexpr const char* kErrorTag = "$error";

/// The categories an answer may name: the engine's own, by their names.
const std::error_category* category_named(const std::string& name) {
  for (const auto* c : {&core_category(), &cluster_category()})
    if (name == c->name()) return c;
  return nullptr;
}

}  // namespace

std::string request_op(const Term& request) {
  if (request.is_string()) return request.as_string();
  return request.at(0).is_string() ? request.at(0).as_string() : "";
}

void NodeRequests::add(std::string op, Cluster::RequestHandler handler) { handlers_[std::move(op)] = std::move(handler); }

RequestAnswer NodeRequests::run(const Term& request) const {
  const auto op = request_op(request);
  if (auto it = handlers_.find(op); it != handlers_.end()) return it->second(request);
  return Error{Errc::invalid_argument, "unknown node request " + (op.empty() ? std::string("(no operation)") : op)};
}

Term NodeRequests::error_term(const Error& e) {
  return Term::tuple({Term(kErrorTag), Term(e.code.category().name()), Term(static_cast<std::int64_t>(e.code.value())),
                      Term(e.detail)});
}

std::optional<Error> NodeRequests::error_of(const Term& answer) {
  if (!answer.is_tuple()) return std::nullopt;
  const auto& i = answer.as_tuple().items;
  if (i.size() != 4 || !i[0].is(kErrorTag)) return std::nullopt;
  if (!i[1].is_string() || !i[2].is_int() || !i[3].is_string())
    return Error{Errc::invalid_argument, "a node answered with a malformed error"};
  const auto* category = category_named(i[1].as_string());
  if (!category) return Error{Errc::invalid_argument, "error of an unknown kind (" + i[1].as_string() + "): " + i[3].as_string()};
  return Error{std::error_code(static_cast<int>(i[2].as_int()), *category), i[3].as_string()};
}

}  // namespace noexpp::cluster
