#include "term_convert.hpp"

#include <limits>

#include "py_types.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

// A Caller travels as this tagged tuple, so a reply address can be handed to
// another process (as Erlang's From can) and still be a Caller on arrival.
constexpr const char* kCallerTag = "$noexpp.caller";

bool is_caller(const Tuple& t) {
  return t.items.size() == 3 && t.items[0].is(kCallerTag) && t.items[1].is_pid() && t.items[2].is_int();
}

std::string type_name(pyb::handle obj) { return pyb::str(pyb::type::handle_of(obj).attr("__name__")); }

void check_depth(int depth) {
  if (depth >= kMaxTermDepth)
    throw pyb::value_error("message nests containers deeper than " + std::to_string(kMaxTermDepth) + " levels");
}

// `depth`: containers around `obj` (the same rule as codec::decode).
Term convert(pyb::handle obj, int depth) {
  if (obj.is_none()) return Term();
  if (PyBool_Check(obj.ptr())) return Term(obj.ptr() == Py_True);
  if (PyLong_CheckExact(obj.ptr()) || (PyLong_Check(obj.ptr()) && !PyBool_Check(obj.ptr()))) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow)
      throw pyb::type_error("cannot send int " + std::string(pyb::str(obj)).substr(0, 40) +
                            " in a message: it does not fit in a signed 64-bit integer");
    return Term(v);
  }
  if (PyFloat_Check(obj.ptr())) return Term(PyFloat_AS_DOUBLE(obj.ptr()));
  if (PyUnicode_Check(obj.ptr())) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(obj.ptr(), &n);
    if (!s) throw pyb::error_already_set();
    return Term(std::string(s, static_cast<std::size_t>(n)));
  }
  if (PyBytes_Check(obj.ptr())) {
    auto* p = reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(obj.ptr()));
    return Term(Binary{{p, p + PyBytes_GET_SIZE(obj.ptr())}});
  }
  if (PyByteArray_Check(obj.ptr())) {
    auto* p = reinterpret_cast<const std::uint8_t*>(PyByteArray_AS_STRING(obj.ptr()));
    return Term(Binary{{p, p + PyByteArray_GET_SIZE(obj.ptr())}});
  }
  if (PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr())) {
    check_depth(depth);
    std::vector<Term> items;
    auto seq = pyb::reinterpret_borrow<pyb::sequence>(obj);
    items.reserve(seq.size());
    for (auto item : seq) items.push_back(convert(item, depth + 1));
    return PyTuple_Check(obj.ptr()) ? Term::tuple(std::move(items)) : Term::list(std::move(items));
  }
  if (PyDict_Check(obj.ptr())) {
    check_depth(depth);
    Map m;
    for (auto [k, v] : pyb::reinterpret_borrow<pyb::dict>(obj))
      m.items.emplace_back(convert(k, depth + 1), convert(v, depth + 1));
    return Term(std::move(m));
  }
  if (pyb::isinstance<Ref>(obj)) return Term(obj.cast<const Ref&>().pid);
  if (pyb::isinstance<Caller>(obj)) {
    const auto& c = obj.cast<const Caller&>();
    return Term::tuple({kCallerTag, c.from.caller, static_cast<long long>(c.from.ref)});
  }
  throw pyb::type_error("cannot send a value of type '" + type_name(obj) +
                        "' in a message (allowed: None, bool, int, float, str, bytes, list, tuple, dict, Ref, Caller)");
}

}  // namespace

Term to_term(pyb::handle obj) { return convert(obj, 0); }

pyb::object to_python(const Term& t, const std::shared_ptr<Node>& node) {
  struct Visitor {
    const std::shared_ptr<Node>& node;
    pyb::object operator()(std::monostate) { return pyb::none(); }
    pyb::object operator()(bool b) { return pyb::bool_(b); }
    pyb::object operator()(std::int64_t i) { return pyb::int_(i); }
    pyb::object operator()(double d) { return pyb::float_(d); }
    pyb::object operator()(const std::string& s) { return pyb::str(s); }
    pyb::object operator()(const Binary& b) {
      return pyb::bytes(reinterpret_cast<const char*>(b.bytes.data()), b.bytes.size());
    }
    pyb::object operator()(const List& l) {
      pyb::list out(l.items.size());
      for (std::size_t i = 0; i < l.items.size(); ++i) out[i] = to_python(l.items[i], node);
      return out;
    }
    pyb::object operator()(const Tuple& tu) {
      if (is_caller(tu))
        return pyb::cast(Caller{node, From{tu.items[1].as_pid(), static_cast<std::uint64_t>(tu.items[2].as_int())}});
      pyb::tuple out(tu.items.size());
      for (std::size_t i = 0; i < tu.items.size(); ++i) out[i] = to_python(tu.items[i], node);
      return out;
    }
    pyb::object operator()(const Map& m) {
      pyb::dict out;
      for (auto& [k, v] : m.items) out[to_python(k, node)] = to_python(v, node);
      return out;
    }
    pyb::object operator()(const Pid& p) { return pyb::cast(Ref{node, p}); }
  };
  return std::visit(Visitor{node}, t.value());
}

}  // namespace noexpp::py
