#include "noexpp/term.hpp"

#include <cmath>
#include <cstdio>

#include "core/internal/utf8.hpp"

namespace noexpp {
namespace {

/// Renders into `out`, stopping (with "...") once it holds `limit` characters.
struct Renderer {
  std::string& out;
  std::size_t limit;

  bool full() const { return out.size() >= limit; }

  void quote(const std::string& s) {
    out += '\'';
    for (char c : s) {
      if (full() && !utf8::is_continuation(c)) {
        out += "...";
        return;
      }
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }

  void items(const std::vector<Term>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (full()) {
        out += "...";
        return;
      }
      if (i) out += ", ";
      render(items[i]);
    }
  }

  void render(const Term& t);
};

void Renderer::render(const Term& t) {
  struct Visitor {
    Renderer& r;
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
    void operator()(const std::string& s) { r.quote(s); }
    void operator()(const Binary& b) { out += "b<" + std::to_string(b.bytes.size()) + " bytes>"; }
    void operator()(const List& l) { out += '['; r.items(l.items); out += ']'; }
    void operator()(const Tuple& tu) {
      out += '(';
      r.items(tu.items);
      if (tu.items.size() == 1) out += ',';
      out += ')';
    }
    void operator()(const Map& m) {
      out += '{';
      for (std::size_t i = 0; i < m.items.size(); ++i) {
        if (r.full()) {
          out += "...";
          break;
        }
        if (i) out += ", ";
        r.render(m.items[i].first);
        out += ": ";
        r.render(m.items[i].second);
      }
      out += '}';
    }
    void operator()(const Pid& p) { out += p.to_string(); }
  };
  std::visit(Visitor{*this, out}, t.value());
}

}  // namespace

std::string Term::to_string() const { return to_string(std::string::npos); }

std::string Term::to_string(std::size_t max_chars) const {
  std::string out;
  Renderer{out, max_chars}.render(*this);
  return out;
}

const Term& Term::at(std::size_t i) const {
  static const Term nil;
  const std::vector<Term>* items = is_tuple() ? &as_tuple().items : is_list() ? &as_list().items : nullptr;
  return items && i < items->size() ? (*items)[i] : nil;
}

}  // namespace noexpp
