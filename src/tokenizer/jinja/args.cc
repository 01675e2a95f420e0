// ArgBinder, iterate() and length(): the plumbing the built-ins share.
#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/strings.h"

namespace kestrel::tokenizer::jinja {

ArgBinder::ArgBinder(const std::string& callee, CallArgs& args, std::vector<std::string> params)
    : bound_(params.size()), given_(params.size(), false) {
  if (args.positional.size() > params.size()) {
    fail("jinja: ", callee, " takes at most ", params.size(), " arguments (",
         args.positional.size(), " given)");
  }
  for (size_t i = 0; i < args.positional.size(); ++i) {
    bound_[i] = args.positional[i];
    given_[i] = true;
  }
  for (auto& [name, v] : args.keyword) {
    size_t i = 0;
    while (i < params.size() && params[i] != name) ++i;
    if (i == params.size()) fail("jinja: ", callee, " got an unexpected keyword argument '", name, "'");
    if (given_[i]) fail("jinja: ", callee, " got multiple values for argument '", name, "'");
    bound_[i] = v;
    given_[i] = true;
  }
}

List iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return v.items();
    case Value::Kind::kDict: {
      List keys;
      for (const auto& [k, val] : v.entries()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      List chars;
      for (auto& c : utf8_chars(v.as_string())) chars.emplace_back(std::move(c));
      return chars;
    }
    case Value::Kind::kNone:
    case Value::Kind::kBool:
    case Value::Kind::kInt:
    case Value::Kind::kFloat:
    case Value::Kind::kNamespace:
    case Value::Kind::kFunction:
      break;
  }
  fail("jinja: '", v.type_name(), "' object is not iterable");
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return 0;
    case Value::Kind::kString: return static_cast<int64_t>(utf8_length(v.as_string()));
    case Value::Kind::kList: return static_cast<int64_t>(v.items().size());
    case Value::Kind::kDict: return static_cast<int64_t>(v.entries().size());
    case Value::Kind::kNone:
    case Value::Kind::kBool:
    case Value::Kind::kInt:
    case Value::Kind::kFloat:
    case Value::Kind::kNamespace:
    case Value::Kind::kFunction:
      break;
  }
  fail("jinja: object of type '", v.type_name(), "' has no len()");
}

}  // namespace kestrel::tokenizer::jinja
