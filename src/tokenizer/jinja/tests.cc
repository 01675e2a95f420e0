// Tests (`x is name(args)`), as jinja2 defines them.
#include <functional>
#include <map>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"

namespace kestrel::tokenizer::jinja {
namespace {

using TestFn = std::function<bool(const Value&, CallArgs&)>;

const Value& arg(CallArgs& args, const char* test) {
  KESTREL_CHECK(args.positional.size() == 1 && args.keyword.empty(), "jinja: test '", test,
                "' takes one argument");
  return args.positional[0];
}

bool is_lower(const std::string& s) {
  bool cased = false;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return false;
    if (c >= 'a' && c <= 'z') cased = true;
  }
  return cased;
}

bool is_upper(const std::string& s) {
  bool cased = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') cased = true;
  }
  return cased;
}

const std::map<std::string, TestFn>& tests() {
  static const std::map<std::string, TestFn> table = {
      {"defined", [](const Value& v, CallArgs&) { return !v.is_undefined(); }},
      {"undefined", [](const Value& v, CallArgs&) { return v.is_undefined(); }},
      {"none", [](const Value& v, CallArgs&) { return v.is_none(); }},
      {"boolean", [](const Value& v, CallArgs&) { return v.is_bool(); }},
      {"true", [](const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); }},
      {"false", [](const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }},
      {"integer", [](const Value& v, CallArgs&) { return v.is_int(); }},
      {"float", [](const Value& v, CallArgs&) { return v.is_float(); }},
      {"number", [](const Value& v, CallArgs&) { return v.is_number(); }},
      {"string", [](const Value& v, CallArgs&) { return v.is_string(); }},
      {"mapping", [](const Value& v, CallArgs&) { return v.is_dict(); }},
      // Undefined defines __iter__ and __len__, so jinja2 counts it as both.
      {"iterable", [](const Value& v, CallArgs&) {
         return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
       }},
      {"sequence", [](const Value& v, CallArgs&) {
         return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
       }},
      {"callable", [](const Value& v, CallArgs&) { return v.is_function(); }},
      {"odd", [](const Value& v, CallArgs&) {
         if (v.is_undefined()) undefined_error(v);
         return v.as_int() % 2 != 0;
       }},
      {"even", [](const Value& v, CallArgs&) {
         if (v.is_undefined()) undefined_error(v);
         return v.as_int() % 2 == 0;
       }},
      {"divisibleby", [](const Value& v, CallArgs& a) {
         int64_t d = arg(a, "divisibleby").as_int();
         KESTREL_CHECK(d != 0, "jinja: integer division or modulo by zero");
         return v.as_int() % d == 0;
       }},
      {"lower", [](const Value& v, CallArgs&) { return is_lower(to_str(v)); }},
      {"upper", [](const Value& v, CallArgs&) { return is_upper(to_str(v)); }},
      {"eq", [](const Value& v, CallArgs& a) { return equals(v, arg(a, "eq")); }},
      {"ne", [](const Value& v, CallArgs& a) { return !equals(v, arg(a, "ne")); }},
      {"lt", [](const Value& v, CallArgs& a) { return compare_op("<", v, arg(a, "lt")); }},
      {"le", [](const Value& v, CallArgs& a) { return compare_op("<=", v, arg(a, "le")); }},
      {"gt", [](const Value& v, CallArgs& a) { return compare_op(">", v, arg(a, "gt")); }},
      {"ge", [](const Value& v, CallArgs& a) { return compare_op(">=", v, arg(a, "ge")); }},
      {"in", [](const Value& v, CallArgs& a) { return contains(arg(a, "in"), v); }},
      {"sameas", [](const Value& v, CallArgs& a) {
         const Value& o = arg(a, "sameas");
         // Python identity: singletons and shared containers.
         if (v.is_list() && o.is_list()) return &v.items() == &o.items();
         if ((v.is_dict() || v.is_namespace()) && v.kind() == o.kind()) return &v.entries() == &o.entries();
         if (v.is_none() || v.is_bool()) return v.kind() == o.kind() && equals(v, o);
         return false;
       }},
      {"filter", [](const Value& v, CallArgs&) { return v.is_string() && has_filter(v.as_string()); }},
      {"test", [](const Value& v, CallArgs&) { return v.is_string() && has_test(v.as_string()); }},
  };
  return table;
}

const TestFn* find_test(const std::string& name) {
  static const std::map<std::string, std::string> aliases = {
      {"equalto", "eq"}, {"==", "eq"}, {"!=", "ne"}, {"<", "lt"}, {"<=", "le"},
      {">", "gt"}, {">=", "ge"}, {"lessthan", "lt"}, {"greaterthan", "gt"}};
  auto alias = aliases.find(name);
  const std::string& key = alias != aliases.end() ? alias->second : name;
  auto it = tests().find(key);
  return it != tests().end() ? &it->second : nullptr;
}

}  // namespace

bool has_test(const std::string& name) { return find_test(name) != nullptr; }

bool apply_test(const std::string& name, const Value& input, CallArgs& args) {
  const TestFn* fn = find_test(name);
  if (fn == nullptr) fail("jinja: no test named '", name, "'");
  return (*fn)(input, args);
}

}  // namespace kestrel::tokenizer::jinja
