#include "tokenizer/jinja/operators.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/strings.h"

namespace kestrel::tokenizer::jinja {

void undefined_error(const Value& undefined) {
  if (undefined.as_string().empty()) fail("jinja: value is undefined");
  fail("jinja: '", undefined.as_string(), "' is undefined");
}

namespace {

[[noreturn]] void type_error(const std::string& op, const Value& a, const Value& b) {
  fail("jinja: unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '",
       b.type_name(), "'");
}

Value repeat(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value(out);
  }
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

double floor_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  bool use_float = a.is_float() || b.is_float();
  if (op == "/") {
    if (b.as_float() == 0) fail("jinja: division by zero");
    return Value(a.as_float() / b.as_float());
  }
  if (op == "**") {
    if (!use_float && b.as_int() >= 0) {
      int64_t r = 1;
      for (int64_t i = 0; i < b.as_int(); ++i) r *= a.as_int();
      return Value(r);
    }
    return Value(std::pow(a.as_float(), b.as_float()));
  }
  if (use_float) {
    double x = a.as_float(), y = b.as_float();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (y == 0) fail("jinja: float division by zero");
    if (op == "//") return Value(std::floor(x / y));
    return Value(floor_mod(x, y));
  }
  int64_t x = a.as_int(), y = b.as_int();
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (y == 0) fail("jinja: integer division or modulo by zero");
  int64_t q = x / y, r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) {
    --q;
    r += y;
  }
  return Value(op == "//" ? q : r);
}

}  // namespace

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value(to_str(a) + to_str(b));
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  if (a.is_number() && b.is_number()) return arithmetic(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      List out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
  }
  if (op == "%" && a.is_string()) {
    // printf-style formatting, %s and %d only: the forms templates use.
    List args = b.is_tuple() ? b.items() : List{b};
    std::string out;
    size_t next = 0;
    const std::string& f = a.as_string();
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != '%' || i + 1 >= f.size()) {
        out += f[i];
        continue;
      }
      char c = f[++i];
      if (c == '%') {
        out += '%';
        continue;
      }
      if (next >= args.size()) fail("jinja: not enough arguments for format string");
      const Value& v = args[next++];
      if (c == 's') {
        out += to_str(v);
      } else if (c == 'd' && v.is_number()) {
        out += std::to_string(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.as_int());
      } else if (c == 'r') {
        out += repr(v);
      } else {
        fail("jinja: unsupported format character '", std::string(1, c), "'");
      }
    }
    return Value(out);
  }
  type_error(op, a, b);
}

Value unary_op(const std::string& op, const Value& a) {
  if (a.is_undefined()) undefined_error(a);
  if (!a.is_number()) fail("jinja: bad operand type for unary ", op, ": '", a.type_name(), "'");
  if (op == "+") return a.is_bool() ? Value(a.as_int()) : a;
  return a.is_float() ? Value(-a.as_float()) : Value(-a.as_int());
}

bool contains(const Value& haystack, const Value& needle) {
  if (haystack.is_string()) {
    if (!needle.is_string()) {
      fail("jinja: 'in <string>' requires string as left operand, not ", needle.type_name());
    }
    return haystack.as_string().find(needle.as_string()) != std::string::npos;
  }
  if (haystack.is_list()) {
    for (const Value& v : haystack.items()) {
      if (equals(v, needle)) return true;
    }
    return false;
  }
  if (haystack.is_dict()) return haystack.find(needle) != nullptr;
  if (haystack.is_undefined()) return false;  // Undefined iterates as empty
  fail("jinja: argument of type '", haystack.type_name(), "' is not iterable");
}

bool compare_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "in") return contains(b, a);
  if (op == "notin") return !contains(b, a);
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  if (op == "<") return less(a, b);
  if (op == ">") return less(b, a);
  if (op == "<=") return !less(b, a);
  if (op == ">=") return !less(a, b);
  fail("jinja: unknown comparison ", op);
}

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_namespace()) {
    const Value* v = obj.find(name);
    return v != nullptr ? *v : Value::undefined(name);
  }
  Value m = method(obj, name);
  if (!m.is_undefined()) return m;
  if (obj.is_dict()) {
    const Value* v = obj.find(name);
    if (v != nullptr) return *v;
  }
  return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.is_dict()) {
    const Value* v = obj.find(key);
    if (v != nullptr) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t n = length(obj);
    int64_t i = key.as_int();
    if (i < 0) i += n;
    if (i >= 0 && i < n) {
      if (obj.is_list()) return obj.items()[i];
      return Value(utf8_chars(obj.as_string())[i]);
    }
    return Value::undefined(to_str(key));
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined(to_str(key));
}

Value get_slice(const Value& obj, const std::optional<int64_t>& start,
                const std::optional<int64_t>& stop, const std::optional<int64_t>& step_opt) {
  if (obj.is_undefined()) undefined_error(obj);
  if (!obj.is_list() && !obj.is_string()) fail("jinja: '", obj.type_name(), "' object is not subscriptable");
  int64_t n = length(obj);
  int64_t step = step_opt.value_or(1);
  if (step == 0) fail("jinja: slice step cannot be zero");
  // Python's slice.indices().
  auto clamp = [&](const std::optional<int64_t>& v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v;
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  int64_t b = clamp(start, step > 0 ? 0 : n - 1);
  int64_t e = clamp(stop, step > 0 ? n : -1);
  std::vector<int64_t> idx;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) idx.push_back(i);
  if (obj.is_string()) {
    std::vector<std::string> cs = utf8_chars(obj.as_string());
    std::string out;
    for (int64_t i : idx) out += cs[i];
    return Value(out);
  }
  List out;
  for (int64_t i : idx) out.push_back(obj.items()[i]);
  return obj.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

}  // namespace kestrel::tokenizer::jinja
