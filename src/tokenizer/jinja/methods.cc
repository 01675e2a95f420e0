// Methods of Python objects that templates call: str.strip(), dict.items(), ... The sandbox
// jinja2 runs chat templates in (ImmutableSandboxedEnvironment) forbids methods that mutate a
// list or dict, so none of those exist here.
#include <cctype>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/strings.h"

namespace kestrel::tokenizer::jinja {
namespace {


ArgBinder bind(const char* name, CallArgs& a, std::vector<std::string> params) {
  return ArgBinder(std::string("method '") + name + "'", a, std::move(params));
}

Value strip_impl(const Value& self, CallArgs& a, const char* name, bool left, bool right) {
  ArgBinder b = bind(name, a, {"chars"});
  const Value* chars = b.get(0);
  if (chars == nullptr || chars->is_none()) return Value(py_strip(self.as_string(), nullptr, left, right));
  std::string set = to_str(*chars);
  return Value(py_strip(self.as_string(), &set, left, right));
}

// startswith/endswith take a string or a tuple of strings.
Value affix_impl(const Value& self, CallArgs& a, const char* name, bool prefix) {
  ArgBinder b = bind(name, a, {"affix"});
  const Value* arg = b.get(0);
  KESTREL_CHECK(arg != nullptr, "jinja: ", name, "() needs an argument");
  List options = arg->is_list() ? arg->items() : List{*arg};
  const std::string& s = self.as_string();
  for (const Value& o : options) {
    KESTREL_CHECK(o.is_string(), "jinja: ", name, "() needs str arguments, got ", o.type_name());
    const std::string& x = o.as_string();
    if (x.size() > s.size()) continue;
    if (prefix ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return Value(true);
    }
  }
  return Value(false);
}

Value split_impl(const Value& self, CallArgs& a) {
  ArgBinder b = bind("split", a, {"sep", "maxsplit"});
  const Value* sep = b.get(0);
  int64_t maxsplit = b.get_or(1, Value(-1)).as_int();
  std::string sep_text;
  if (sep != nullptr && !sep->is_none()) {
    sep_text = to_str(*sep);
    KESTREL_CHECK(!sep_text.empty(), "jinja: split(): empty separator");
  }
  List out;
  for (auto& part : py_split(self.as_string(), sep != nullptr && !sep->is_none() ? &sep_text : nullptr, maxsplit)) {
    out.emplace_back(std::move(part));
  }
  return Value::list(std::move(out));
}

Value str_method(const std::string& name, const Value& self, CallArgs& a) {
  const std::string& s = self.as_string();
  if (name == "strip") return strip_impl(self, a, "strip", true, true);
  if (name == "lstrip") return strip_impl(self, a, "lstrip", true, false);
  if (name == "rstrip") return strip_impl(self, a, "rstrip", false, true);
  if (name == "startswith") return affix_impl(self, a, "startswith", true);
  if (name == "endswith") return affix_impl(self, a, "endswith", false);
  if (name == "split") return split_impl(self, a);
  if (name == "upper") return Value(py_upper(s));
  if (name == "lower") return Value(py_lower(s));
  if (name == "title") return Value(py_title(s));
  if (name == "capitalize") return Value(py_capitalize(s));
  if (name == "replace") {
    ArgBinder b = bind("replace", a, {"old", "new", "count"});
    KESTREL_CHECK(b.get(0) && b.get(1), "jinja: replace() needs two arguments");
    return Value(py_replace(s, to_str(*b.get(0)), to_str(*b.get(1)), b.get_or(2, Value(-1)).as_int()));
  }
  if (name == "find" || name == "count") {
    ArgBinder b = bind(name.c_str(), a, {"sub"});
    KESTREL_CHECK(b.get(0) && b.get(0)->is_string(), "jinja: ", name, "() needs a str");
    const std::string& sub = b.get(0)->as_string();
    if (name == "find") {
      size_t at = s.find(sub);
      return Value(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(utf8_length(s.substr(0, at))));
    }
    if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    ArgBinder b = bind("join", a, {"iterable"});
    KESTREL_CHECK(b.get(0), "jinja: join() needs an argument");
    std::string out;
    bool first = true;
    for (const Value& v : iterate(*b.get(0))) {
      KESTREL_CHECK(v.is_string(), "jinja: join() needs str items, got ", v.type_name());
      if (!first) out += s;
      first = false;
      out += v.as_string();
    }
    return Value(out);
  }
  if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum") {
    if (s.empty()) return Value(false);
    for (unsigned char c : s) {
      bool ok = name == "isdigit" ? (c >= '0' && c <= '9')
                : name == "isspace" ? (c == ' ' || (c >= '\t' && c <= '\r'))
                : name == "isalpha" ? std::isalpha(c) != 0
                                    : std::isalnum(c) != 0;
      if (!ok) return Value(false);
    }
    return Value(true);
  }
  fail("jinja: 'str' object has no attribute '", name, "'");
}

Value dict_method(const std::string& name, const Value& self, CallArgs& a) {
  if (name == "get") {
    ArgBinder b = bind("get", a, {"key", "default"});
    KESTREL_CHECK(b.get(0), "jinja: get() needs a key");
    const Value* v = self.find(*b.get(0));
    return v != nullptr ? *v : b.get_or(1, Value::none());
  }
  bind(name.c_str(), a, {});
  List out;
  for (const auto& [k, v] : self.entries()) {
    if (name == "items") out.push_back(Value::tuple({k, v}));
    if (name == "keys") out.push_back(k);
    if (name == "values") out.push_back(v);
  }
  return Value::list(std::move(out));
}

bool is_str_method(const std::string& n) {
  static const char* kNames[] = {"strip", "lstrip", "rstrip", "startswith", "endswith", "split",
                                 "upper", "lower", "title", "capitalize", "replace", "find",
                                 "count", "join", "isdigit", "isspace", "isalpha", "isalnum"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return false;
}

}  // namespace

Value method(const Value& obj, const std::string& name) {
  if (obj.is_string() && is_str_method(name)) {
    return Value::function(name, [obj, name](CallArgs& a) { return str_method(name, obj, a); });
  }
  if (obj.is_dict() && (name == "get" || name == "items" || name == "keys" || name == "values")) {
    return Value::function(name, [obj, name](CallArgs& a) { return dict_method(name, obj, a); });
  }
  return Value::undefined(name);
}

}  // namespace kestrel::tokenizer::jinja
