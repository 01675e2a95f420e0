// Filters (`x | name(args)`), as jinja2 defines them, with Hugging Face's `tojson` (plain
// json.dumps: no HTML escaping, ensure_ascii off, optional indent/separators/sort_keys).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/strings.h"

namespace kestrel::tokenizer::jinja {
namespace {

using FilterFn = std::function<Value(const Value&, CallArgs&)>;

ArgBinder bind(const char* name, CallArgs& a, std::vector<std::string> params) {
  return ArgBinder(std::string("filter '") + name + "'", a, std::move(params));
}

// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0.
Value get_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t pos = 0;
  while (true) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    cur = get_item(cur, digits ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) return cur;
    pos = dot + 1;
  }
}

Value attribute_or_self(const Value& v, const Value* attribute) {
  if (attribute == nullptr || attribute->is_none()) return v;
  if (attribute->is_int()) return get_item(v, *attribute);
  return get_path(v, to_str(*attribute));
}

// Key for sorting and comparing: lowercased strings unless case-sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value(py_lower(v.as_string())) : v;
}

Value list_filter(const Value& v) { return Value::list(iterate(v)); }

Value do_int(const Value& v, CallArgs& a) {
  ArgBinder b = bind("int", a, {"default", "base"});
  Value dflt = b.get_or(0, Value(0));
  int64_t base = b.get_or(1, Value(10)).as_int();
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float()) return Value(static_cast<int64_t>(v.as_float()));
  if (!v.is_string()) return dflt;
  std::string s = py_strip(v.as_string(), nullptr, true, true);
  std::string digits;
  for (char c : s) {
    if (c != '_') digits += c;
  }
  char* end = nullptr;
  errno = 0;
  long long r = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
  if (!digits.empty() && end == digits.c_str() + digits.size() && errno == 0) return Value(static_cast<int64_t>(r));
  double f = std::strtod(s.c_str(), &end);
  if (!s.empty() && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(f));
  return dflt;
}

Value do_float(const Value& v, CallArgs& a) {
  ArgBinder b = bind("float", a, {"default"});
  if (v.is_number()) return Value(v.as_float());
  if (v.is_string()) {
    std::string s = py_strip(v.as_string(), nullptr, true, true);
    char* end = nullptr;
    double f = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(f);
  }
  return b.get_or(0, Value(0.0));
}

Value do_indent(const Value& v, CallArgs& a) {
  ArgBinder b = bind("indent", a, {"width", "first", "blank"});
  Value width = b.get_or(0, Value(4));
  std::string ind = width.is_string() ? width.as_string() : std::string(width.as_int(), ' ');
  bool first = b.get_or(1, Value(false)).truthy();
  bool blank = b.get_or(2, Value(false)).truthy();
  // jinja2 appends a newline and then splits into lines, so a trailing newline is dropped.
  std::string s = to_str(v) + "\n";
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    lines.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out = lines.empty() ? "" : lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    out += "\n";
    if (blank || !lines[i].empty()) out += ind;
    out += lines[i];
  }
  return Value(first ? ind + out : out);
}

Value do_tojson(const Value& v, CallArgs& a) {
  ArgBinder b = bind("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonOptions o;
  o.ensure_ascii = b.get_or(0, Value(false)).truthy();
  if (const Value* ind = b.get(1); ind != nullptr && !ind->is_none()) {
    if (ind->is_string()) {
      o.indent_text = ind->as_string();
      if (o.indent_text.empty()) o.indent = 0;
    } else {
      o.indent = static_cast<int>(ind->as_int());
    }
  }
  if (const Value* sep = b.get(2); sep != nullptr && !sep->is_none()) {
    List parts = iterate(*sep);
    KESTREL_CHECK(parts.size() == 2, "jinja: tojson separators must be a pair");
    o.item_separator = to_str(parts[0]);
    o.key_separator = to_str(parts[1]);
  }
  o.sort_keys = b.get_or(3, Value(false)).truthy();
  return Value(to_json(v, o));
}

// select/reject/selectattr/rejectattr: keep items whose test result equals `keep`.
Value select_items(const Value& v, CallArgs& a, bool by_attr, bool keep) {
  List out;
  size_t first_test_arg = by_attr ? 1 : 0;
  KESTREL_CHECK(!by_attr || !a.positional.empty(), "jinja: selectattr needs an attribute");
  std::string test = a.positional.size() > first_test_arg ? to_str(a.positional[first_test_arg]) : "";
  CallArgs test_args;
  for (size_t i = first_test_arg + 1; i < a.positional.size(); ++i) test_args.positional.push_back(a.positional[i]);
  test_args.keyword = a.keyword;
  for (const Value& item : iterate(v)) {
    Value x = by_attr ? get_path(item, to_str(a.positional[0])) : item;
    bool r = test.empty() ? x.truthy() : apply_test(test, x, test_args);
    if (r == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value do_map(const Value& v, CallArgs& a) {
  List out;
  const Value* attribute = nullptr;
  const Value* dflt = nullptr;
  for (const auto& [k, val] : a.keyword) {
    if (k == "attribute") attribute = &val;
    if (k == "default") dflt = &val;
  }
  for (const Value& item : iterate(v)) {
    if (attribute != nullptr) {
      Value x = get_path(item, to_str(*attribute));
      out.push_back(x.is_undefined() && dflt != nullptr ? *dflt : x);
      continue;
    }
    KESTREL_CHECK(!a.positional.empty(), "jinja: map needs a filter name or attribute=");
    CallArgs fargs;
    fargs.positional.assign(a.positional.begin() + 1, a.positional.end());
    fargs.keyword = a.keyword;
    out.push_back(apply_filter(to_str(a.positional[0]), item, fargs));
  }
  return Value::list(std::move(out));
}

Value do_sort(const Value& v, CallArgs& a) {
  ArgBinder b = bind("sort", a, {"reverse", "case_sensitive", "attribute"});
  bool reverse = b.get_or(0, Value(false)).truthy();
  bool cs = b.get_or(1, Value(false)).truthy();
  const Value* attribute = b.get(2);
  List items = iterate(v);
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    Value kx = sort_key(attribute_or_self(x, attribute), cs);
    Value ky = sort_key(attribute_or_self(y, attribute), cs);
    return reverse ? less(ky, kx) : less(kx, ky);
  });
  return Value::list(std::move(items));
}

Value min_max(const Value& v, CallArgs& a, bool want_max) {
  ArgBinder b = bind(want_max ? "max" : "min", a, {"case_sensitive", "attribute"});
  bool cs = b.get_or(0, Value(false)).truthy();
  List items = iterate(v);
  if (items.empty()) return Value::undefined("no items");
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    Value ki = sort_key(attribute_or_self(items[i], b.get(1)), cs);
    Value kb = sort_key(attribute_or_self(items[best], b.get(1)), cs);
    if (want_max ? less(kb, ki) : less(ki, kb)) best = i;
  }
  return items[best];
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> table = {
      {"abs", [](const Value& v, CallArgs&) {
         if (!v.is_number()) fail("jinja: bad operand type for abs(): '", v.type_name(), "'");
         return v.is_float() ? Value(std::fabs(v.as_float())) : Value(static_cast<int64_t>(std::llabs(v.as_int())));
       }},
      {"attr", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("attr", a, {"name"});
         return get_attr(v, to_str(b.get_or(0, Value(""))));
       }},
      {"capitalize", [](const Value& v, CallArgs&) { return Value(py_capitalize(to_str(v))); }},
      {"default", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("default", a, {"default_value", "boolean"});
         bool boolean = b.get_or(1, Value(false)).truthy();
         if (v.is_undefined() || (boolean && !v.truthy())) return b.get_or(0, Value(""));
         return v;
       }},
      {"dictsort", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("dictsort", a, {"case_sensitive", "by", "reverse"});
         bool cs = b.get_or(0, Value(false)).truthy();
         size_t pos = to_str(b.get_or(1, Value("key"))) == "value" ? 1 : 0;
         bool reverse = b.get_or(2, Value(false)).truthy();
         KESTREL_CHECK(v.is_dict(), "jinja: dictsort needs a dict");
         List items;
         for (const auto& [k, val] : v.entries()) items.push_back(Value::tuple({k, val}));
         std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
           Value kx = sort_key(x.items()[pos], cs), ky = sort_key(y.items()[pos], cs);
           return reverse ? less(ky, kx) : less(kx, ky);
         });
         return Value::list(std::move(items));
       }},
      {"escape", [](const Value& v, CallArgs&) { return Value(html_escape(to_str(v))); }},
      {"first", [](const Value& v, CallArgs&) {
         List items = iterate(v);
         return items.empty() ? Value::undefined("first") : items.front();
       }},
      {"float", do_float},
      {"format", [](const Value& v, CallArgs& a) {
         return binary_op("%", Value(to_str(v)), Value::tuple(a.positional));
       }},
      {"indent", do_indent},
      {"int", do_int},
      {"items", [](const Value& v, CallArgs&) {
         List out;
         if (v.is_undefined()) return Value::list();
         KESTREL_CHECK(v.is_dict(), "jinja: items needs a mapping, got ", v.type_name());
         for (const auto& [k, val] : v.entries()) out.push_back(Value::tuple({k, val}));
         return Value::list(std::move(out));
       }},
      {"join", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("join", a, {"d", "attribute"});
         std::string sep = to_str(b.get_or(0, Value("")));
         std::string out;
         bool first = true;
         for (const Value& item : iterate(v)) {
           if (!first) out += sep;
           first = false;
           out += to_str(attribute_or_self(item, b.get(1)));
         }
         return Value(out);
       }},
      {"last", [](const Value& v, CallArgs&) {
         List items = iterate(v);
         return items.empty() ? Value::undefined("last") : items.back();
       }},
      {"length", [](const Value& v, CallArgs&) { return Value(length(v)); }},
      {"list", [](const Value& v, CallArgs&) { return list_filter(v); }},
      {"lower", [](const Value& v, CallArgs&) { return Value(py_lower(to_str(v))); }},
      {"map", do_map},
      {"max", [](const Value& v, CallArgs& a) { return min_max(v, a, true); }},
      {"min", [](const Value& v, CallArgs& a) { return min_max(v, a, false); }},
      {"reject", [](const Value& v, CallArgs& a) { return select_items(v, a, false, false); }},
      {"rejectattr", [](const Value& v, CallArgs& a) { return select_items(v, a, true, false); }},
      {"replace", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("replace", a, {"old", "new", "count"});
         const Value& count = b.get_or(2, Value::none());
         return Value(py_replace(to_str(v), to_str(b.get_or(0, Value(""))),
                                 to_str(b.get_or(1, Value(""))),
                                 count.is_none() ? -1 : count.as_int()));
       }},
      {"reverse", [](const Value& v, CallArgs&) {
         if (v.is_string()) return get_slice(v, std::nullopt, std::nullopt, -1);
         List items = iterate(v);
         std::reverse(items.begin(), items.end());
         return Value::list(std::move(items));
       }},
      {"round", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("round", a, {"precision", "method"});
         int64_t precision = b.get_or(0, Value(0)).as_int();
         std::string method = to_str(b.get_or(1, Value("common")));
         double scale = std::pow(10.0, static_cast<double>(precision));
         double x = v.as_float() * scale;
         double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::round(x);
         return Value(r / scale);
       }},
      {"safe", [](const Value& v, CallArgs&) { return v; }},
      {"select", [](const Value& v, CallArgs& a) { return select_items(v, a, false, true); }},
      {"selectattr", [](const Value& v, CallArgs& a) { return select_items(v, a, true, true); }},
      {"sort", do_sort},
      {"string", [](const Value& v, CallArgs&) { return Value(to_str(v)); }},
      {"sum", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("sum", a, {"attribute", "start"});
         Value total = b.get_or(1, Value(0));
         for (const Value& item : iterate(v)) total = binary_op("+", total, attribute_or_self(item, b.get(0)));
         return total;
       }},
      {"title", [](const Value& v, CallArgs&) {
         // jinja2's title: words start after spaces and -({[<, not after every non-letter.
         std::string s = to_str(v), out;
         bool start = true;
         for (char c : s) {
           out += start ? py_upper(std::string(1, c)) : py_lower(std::string(1, c));
           start = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
                   c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
         }
         return Value(out);
       }},
      {"tojson", do_tojson},
      {"trim", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("trim", a, {"chars"});
         const Value* chars = b.get(0);
         std::string set = chars != nullptr && !chars->is_none() ? to_str(*chars) : "";
         return Value(py_strip(to_str(v), chars != nullptr && !chars->is_none() ? &set : nullptr, true, true));
       }},
      {"unique", [](const Value& v, CallArgs& a) {
         ArgBinder b = bind("unique", a, {"case_sensitive", "attribute"});
         bool cs = b.get_or(0, Value(false)).truthy();
         List out, seen;
         for (const Value& item : iterate(v)) {
           Value key = sort_key(attribute_or_self(item, b.get(1)), cs);
           bool dup = false;
           for (const Value& s : seen) dup = dup || equals(s, key);
           if (dup) continue;
           seen.push_back(key);
           out.push_back(item);
         }
         return Value::list(std::move(out));
       }},
      {"upper", [](const Value& v, CallArgs&) { return Value(py_upper(to_str(v))); }},
      {"wordcount", [](const Value& v, CallArgs&) {
         return Value(static_cast<int64_t>(py_split(to_str(v), nullptr, -1).size()));
       }},
  };
  return table;
}

const FilterFn* find_filter(const std::string& name) {
  static const std::map<std::string, std::string> aliases = {
      {"d", "default"}, {"e", "escape"}, {"count", "length"}};
  auto alias = aliases.find(name);
  auto it = filters().find(alias != aliases.end() ? alias->second : name);
  return it != filters().end() ? &it->second : nullptr;
}

}  // namespace

bool has_filter(const std::string& name) { return find_filter(name) != nullptr; }

Value apply_filter(const std::string& name, const Value& input, CallArgs& args) {
  const FilterFn* fn = find_filter(name);
  if (fn == nullptr) fail("jinja: no filter named '", name, "'");
  return (*fn)(input, args);
}

}  // namespace kestrel::tokenizer::jinja
