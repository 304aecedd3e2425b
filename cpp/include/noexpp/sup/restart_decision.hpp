#pragma once
/// OTP's restart table: does a child of this restart type come back after
/// an exit with this reason?
#include "noexpp/core/exit_reason.hpp"
#include "noexpp/sup/child_spec.hpp"

namespace noexpp::sup {

///              normal / shutdown / {shutdown,_}   any other reason
/// permanent    restart                            restart
/// transient    no                                 restart
/// temporary    no                                 no
inline bool should_restart(RestartType type, const ExitReason& reason) {
  switch (type) {
    case RestartType::permanent: return true;
    case RestartType::transient: return reason.is_abnormal();
    case RestartType::temporary: return false;
  }
  return false;
}

}  // namespace noexpp::sup
