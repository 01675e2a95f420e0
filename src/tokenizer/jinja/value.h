// Value: the dynamic value of the Jinja interpreter, modelled on the Python objects jinja2 works
// with (str, int, float, bool, None, list, tuple, dict, a namespace, a callable) plus jinja2's
// Undefined. Lists, dicts and namespaces are shared by reference, as in Python, so that
// `{% set ns.x = 1 %}` is seen through every name bound to the namespace.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::tokenizer::jinja {

class Value;

// Arguments of a call: positional, then keyword in source order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

using List = std::vector<Value>;
// A dict keeps insertion order (Python 3.7+); lookups are linear, dicts in templates are small.
using Dict = std::vector<std::pair<Value, Value>>;
using Function = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace,
                    kFunction };

  Value() = default;  // undefined
  static Value undefined(std::string name = {});
  static Value none();
  Value(bool b);                // NOLINT(google-explicit-constructor)
  Value(int64_t i);             // NOLINT(google-explicit-constructor)
  Value(int i) : Value(static_cast<int64_t>(i)) {}  // NOLINT(google-explicit-constructor)
  Value(double f);              // NOLINT(google-explicit-constructor)
  Value(std::string s);         // NOLINT(google-explicit-constructor)
  Value(const char* s) : Value(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  static Value list(List items = {});
  static Value tuple(List items);
  static Value dict(Dict items = {});
  static Value namespace_of(Dict attrs);
  static Value function(std::string name, Function fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // int, float or bool: Python's numbers.Number.
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }  // list or tuple
  bool is_tuple() const { return kind_ == Kind::kList && tuple_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return is_bool() ? (b_ ? 1 : 0) : i_; }
  double as_float() const { return is_float() ? f_ : static_cast<double>(as_int()); }
  const std::string& as_string() const { return s_; }  // the string, or the undefined's name
  List& items() const { return *list_; }
  Dict& entries() const { return *dict_; }  // dict entries or namespace attributes
  const Function& fn() const { return *fn_; }
  const std::string& fn_name() const { return s_; }

  // Python truthiness; Undefined is falsy.
  bool truthy() const;
  // Dict or namespace lookup by key; nullptr when absent.
  Value* find(const Value& key) const;
  Value* find(const std::string& key) const { return find(Value(key)); }
  Value* find(const char* key) const { return find(Value(key)); }
  // Inserts or replaces a dict entry or namespace attribute.
  void set(const Value& key, Value v) const;
  // Python type name, for error messages ("str", "int", "NoneType", ...).
  std::string type_name() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool tuple_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Python str(v) as jinja2 prints it; Undefined prints as "".
std::string to_str(const Value& v);
// Python repr(v).
std::string repr(const Value& v);
// Python repr of a float ("1.0", "1e-05", "inf").
std::string float_repr(double f);
// Python ==.
bool equals(const Value& a, const Value& b);
// Python <: numbers with numbers, strings with strings, lists element-wise; else throws.
bool less(const Value& a, const Value& b);

}  // namespace kestrel::tokenizer::jinja
