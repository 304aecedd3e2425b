#include "noexpp/term.hpp"

#include <cmath>
#include <cstdio>

namespace noexpp {
namespace {

void quote(std::string& out, const std::string& s) {
  out += '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

void render(std::string& out, const Term& t);

void render_items(std::string& out, const std::vector<Term>& items) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    render(out, items[i]);
  }
}

void render(std::string& out, const Term& t) {
  struct Visitor {
    std::string& out;
    void operator()(std::monostate) { out += "None"; }
    void operator()(bool b) { out += b ? "True" : "False"; }
    void operator()(std::int64_t i) { out += std::to_string(i); }
    void operator()(double d) {
      if (std::isnan(d)) { out += "nan"; return; }
      if (std::isinf(d)) { out += d > 0 ? "inf" : "-inf"; return; }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      out += buf;
    }
    void operator()(const std::string& s) { quote(out, s); }
    void operator()(const Binary& b) { out += "b<" + std::to_string(b.bytes.size()) + " bytes>"; }
    void operator()(const List& l) { out += '['; render_items(out, l.items); out += ']'; }
    void operator()(const Tuple& tu) {
      out += '(';
      render_items(out, tu.items);
      if (tu.items.size() == 1) out += ',';
      out += ')';
    }
    void operator()(const Map& m) {
      out += '{';
      for (std::size_t i = 0; i < m.items.size(); ++i) {
        if (i) out += ", ";
        render(out, m.items[i].first);
        out += ": ";
        render(out, m.items[i].second);
      }
      out += '}';
    }
    void operator()(const Pid& p) { out += p.to_string(); }
  };
  std::visit(Visitor{out}, t.value());
}

}  // namespace

std::string Term::to_string() const {
  std::string out;
  render(out, *this);
  return out;
}

const Term& Term::at(std::size_t i) const {
  static const Term nil;
  const std::vector<Term>* items = is_tuple() ? &as_tuple().items : is_list() ? &as_list().items : nullptr;
  return items && i < items->size() ? (*items)[i] : nil;
}

}  // namespace noexpp
