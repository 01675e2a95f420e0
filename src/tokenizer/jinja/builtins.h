// The built-in filters, tests, methods and globals, each family in its own file
// (filters.cc, tests.cc, methods.cc, globals.cc). Each behaves as its jinja2/Python namesake;
// the differences are listed in docs/chat-templates.md.
#pragma once

#include <string>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace kestrel::tokenizer::jinja {

bool has_filter(const std::string& name);
bool has_test(const std::string& name);
// Throws kestrel::Error for an unknown filter or test, or bad arguments.
Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
bool apply_test(const std::string& name, const Value& input, CallArgs& args);
// obj.name for a str, dict or list method, as a callable bound to obj; undefined if none.
Value method(const Value& obj, const std::string& name);
// raise_exception, strftime_now, namespace, range, dict.
Dict make_globals();

// Binds a call's arguments to parameter names, Python style; errors name the callee.
class ArgBinder {
 public:
  ArgBinder(const std::string& callee, CallArgs& args, std::vector<std::string> params);
  // The argument bound to parameter i, or nullptr when not given.
  const Value* get(size_t i) const { return given_[i] ? &bound_[i] : nullptr; }
  Value get_or(size_t i, const Value& fallback) const {
    const Value* v = get(i);
    return v != nullptr ? *v : fallback;
  }

 private:
  std::vector<Value> bound_;
  std::vector<bool> given_;
};

// Python iteration: list items, dict keys, string characters; Undefined iterates as empty.
// Throws for values that are not iterable.
List iterate(const Value& v);
// Python len().
int64_t length(const Value& v);

}  // namespace kestrel::tokenizer::jinja
