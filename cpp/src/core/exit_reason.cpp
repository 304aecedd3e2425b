#include "noexpp/exit_reason.hpp"

#include "core/internal/utf8.hpp"

namespace noexpp {

const char* to_string(ExitReason::Kind k) {
  switch (k) {
    case ExitReason::Kind::normal: return "normal";
    case ExitReason::Kind::shutdown: return "shutdown";
    case ExitReason::Kind::shutdown_term: return "shutdown";
    case ExitReason::Kind::killed: return "killed";
    case ExitReason::Kind::noproc: return "noproc";
    case ExitReason::Kind::noconnection: return "noconnection";
    case ExitReason::Kind::error: return "error";
    case ExitReason::Kind::other: return "other";
  }
  return "?";
}

std::string ExitReason::to_string() const {
  switch (kind) {
    case Kind::shutdown_term: return "{shutdown, " + detail.to_string() + "}";
    case Kind::error: return "error " + error_type + ": " + message;
    case Kind::other: return detail.to_string();
    default: return noexpp::to_string(kind);
  }
}

Term ExitReason::to_term() const {
  switch (kind) {
    case Kind::shutdown_term: return Term::tuple({"shutdown", detail});
    case Kind::error:
      if (last_message.empty() && traceback.empty()) return Term::tuple({"error", error_type, message});
      return Term::tuple({"error", error_type, message, last_message, traceback});
    case Kind::other: return Term::tuple({"other", detail});
    default: return Term(noexpp::to_string(kind));
  }
}

ExitReason ExitReason::from_term(const Term& t) {
  if (t.is_string()) {
    const auto& s = t.as_string();
    if (s == "normal") return normal();
    if (s == "shutdown") return shutdown();
    if (s == "killed" || s == "kill") return killed();
    if (s == "noproc") return noproc();
    if (s == "noconnection") return noconnection();
    return other(t);
  }
  if (t.is_tuple()) {
    const auto& it = t.as_tuple().items;
    if (it.size() == 2 && it[0].is("shutdown")) return shutdown_with(it[1]);
    if (it.size() >= 3 && it.size() <= 5 && it[0].is("error") && it[1].is_string() && it[2].is_string()) {
      auto e = error(it[1].as_string(), it[2].as_string());
      // Context only: a peer's oversized or mistyped context is cut or dropped.
      auto context = [&](std::size_t i) {
        return it.size() > i && it[i].is_string() ? utf8::prefix(it[i].as_string(), kMaxContext) : std::string();
      };
      e.last_message = context(3);
      e.traceback = context(4);
      return e;
    }
    if (it.size() == 2 && it[0].is("other")) return other(it[1]);
  }
  return other(t);
}

}  // namespace noexpp
