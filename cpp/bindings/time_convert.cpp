#include "time_convert.hpp"

#include <string>

namespace noexpp::py {
namespace pyb = pybind11;

Duration duration_from(pyb::handle seconds, const char* what) {
  if (seconds.is_none()) return kInfinity;
  if (!PyFloat_Check(seconds.ptr()) && !(PyLong_Check(seconds.ptr()) && !PyBool_Check(seconds.ptr())))
    throw pyb::type_error(std::string(what) + " must be a number of seconds or None, not " +
                          std::string(pyb::str(pyb::type::handle_of(seconds).attr("__name__"))));
  double s = seconds.cast<double>();
  if (!(s >= 0)) throw pyb::value_error(std::string(what) + " must be >= 0 seconds, got " + std::string(pyb::str(seconds)));
  if (s > 1e9) return kInfinity;  // "forever" in practice, and no overflow in now() + d
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

std::chrono::steady_clock::time_point deadline_from(pyb::handle seconds, const char* what) {
  auto d = duration_from(seconds, what);
  if (d == kInfinity) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() + d;
}

}  // namespace noexpp::py
