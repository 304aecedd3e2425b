// A user's pybind11 module: importing it registers a C++ behavior with the
// engine that noexpp (imported first) runs, so Python spawns it by name.
#include <pybind11/pybind11.h>

#include "tripler.hpp"

PYBIND11_MODULE(sdk_user_module, m) {
  auto r = noexpp::register_behavior<Tripler>("sdk_user.tripler");
  if (!r.ok()) throw std::runtime_error(r.error().to_string());
  auto by_ten = noexpp::register_behavior<Scaler>("sdk_user.times_ten", 10);
  if (!by_ten.ok()) throw std::runtime_error(by_ten.error().to_string());
  m.attr("engine_version") = noexpp::engine_version();
}
