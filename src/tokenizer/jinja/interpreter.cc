#include "tokenizer/jinja/interpreter.h"

#include <unordered_map>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"

namespace kestrel::tokenizer::jinja {
namespace {

// An error that already names its place in the template; outer statements pass it on as is.
class LocatedError : public Error {
 public:
  using Error::Error;
};

using Scope = std::unordered_map<std::string, Value>;

enum class Flow { kNormal, kBreak, kContinue };

class Interpreter {
 public:
  Interpreter(const Value& variables, const Dict& globals) : globals_(globals) {
    scopes_.emplace_back();
    if (variables.is_dict()) {
      for (const auto& [k, v] : variables.entries()) scopes_[0][to_str(k)] = v;
    }
  }

  std::string run(const Body& body) {
    std::string out;
    exec_body(body, out);
    return out;
  }

 private:
  // ---- statements ----

  Flow exec_body(const Body& body, std::string& out) {
    for (const StmtPtr& s : body) {
      Flow f = exec(*s, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& s, std::string& out) {
    try {
      return exec_unlocated(s, out);
    } catch (const LocatedError&) {
      throw;
    } catch (const Error& e) {
      throw LocatedError(str_cat(e.what(), " (template line ", s.line, ", column ", s.column, ")"));
    }
  }

  Flow exec_unlocated(const Stmt& s, std::string& out) {
    switch (s.kind) {
      case Stmt::Kind::kText:
        out += s.text;
        return Flow::kNormal;
      case Stmt::Kind::kPrint:
        out += to_str(eval(*s.expr));
        return Flow::kNormal;
      case Stmt::Kind::kIf:
        for (size_t i = 0; i < s.conditions.size(); ++i) {
          if (eval(*s.conditions[i]).truthy()) return exec_body(s.bodies[i], out);
        }
        return exec_body(s.else_body, out);
      case Stmt::Kind::kFor:
        exec_for(s, out);
        return Flow::kNormal;
      case Stmt::Kind::kSet:
        exec_set(s);
        return Flow::kNormal;
      case Stmt::Kind::kSetBlock: {
        std::string captured;
        exec_body(s.body, captured);
        Value v(captured);
        if (s.filter) v = eval_filter(*s.filter, &v);
        assign(s.targets[0], v);
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        assign(s.text, make_macro(s));
        return Flow::kNormal;
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kFilterBlock: {
        std::string captured;
        exec_body(s.body, captured);
        Value v(captured);
        out += to_str(eval_filter(*s.filter, &v));
        return Flow::kNormal;
      }
      case Stmt::Kind::kScope: {
        scopes_.emplace_back();
        for (size_t i = 0; i < s.targets.size(); ++i) {
          Value v = eval(*s.conditions[i]);
          scopes_.back()[s.targets[i]] = v;
        }
        Flow f = exec_body(s.body, out);
        scopes_.pop_back();
        return f;
      }
    }
    return Flow::kNormal;
  }

  void exec_set(const Stmt& s) {
    Value v = eval(*s.expr);
    if (!s.attr.empty()) {
      Value target = lookup(s.targets[0]);
      if (!target.is_namespace()) fail("jinja: cannot assign attribute on non-namespace object");
      target.set(Value(s.attr), v);
      return;
    }
    if (s.targets.size() == 1) {
      assign(s.targets[0], v);
      return;
    }
    List parts = unpack(v, s.targets.size());
    for (size_t i = 0; i < parts.size(); ++i) assign(s.targets[i], parts[i]);
  }

  static List unpack(const Value& v, size_t n) {
    List parts = iterate(v);
    if (parts.size() != n) {
      fail("jinja: cannot unpack ", parts.size(), " values into ", n, " names");
    }
    return parts;
  }

  void bind_targets(const Stmt& s, const Value& item) {
    if (s.targets.size() == 1) {
      scopes_.back()[s.targets[0]] = item;
      return;
    }
    List parts = unpack(item, s.targets.size());
    for (size_t i = 0; i < parts.size(); ++i) scopes_.back()[s.targets[i]] = parts[i];
  }

  void exec_for(const Stmt& s, std::string& out) {
    Value iterable = eval(*s.expr);
    if (iterable.is_none()) fail("jinja: 'NoneType' object is not iterable");
    List items = iterate(iterable);
    if (s.filter) {  // `for x in xs if cond`: the loop (and its loop.length) sees only matches
      List kept;
      for (const Value& item : items) {
        scopes_.emplace_back();
        bind_targets(s, item);
        bool keep = eval(*s.filter).truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      exec_body(s.else_body, out);
      return;
    }
    const int64_t n = static_cast<int64_t>(items.size());
    const Value outer_loop = lookup("loop");
    for (int64_t i = 0; i < n; ++i) {
      scopes_.emplace_back();
      bind_targets(s, items[i]);
      scopes_.back()["loop"] = make_loop(items, i, outer_loop);
      Flow f = exec_body(s.body, out);
      scopes_.pop_back();
      if (f == Flow::kBreak) break;
    }
  }

  static Value make_loop(const List& items, int64_t i, const Value& outer) {
    const int64_t n = static_cast<int64_t>(items.size());
    int64_t depth = outer.is_dict() && outer.find("depth") ? outer.find("depth")->as_int() + 1 : 1;
    Dict d = {
        {Value("index"), Value(i + 1)},
        {Value("index0"), Value(i)},
        {Value("revindex"), Value(n - i)},
        {Value("revindex0"), Value(n - i - 1)},
        {Value("first"), Value(i == 0)},
        {Value("last"), Value(i == n - 1)},
        {Value("length"), Value(n)},
        {Value("depth"), Value(depth)},
        {Value("depth0"), Value(depth - 1)},
        {Value("previtem"), i > 0 ? items[i - 1] : Value::undefined("previtem")},
        {Value("nextitem"), i + 1 < n ? items[i + 1] : Value::undefined("nextitem")},
    };
    d.emplace_back(Value("cycle"), Value::function("cycle", [i](CallArgs& args) {
      KESTREL_CHECK(!args.positional.empty(), "jinja: no items for cycling given");
      return args.positional[i % static_cast<int64_t>(args.positional.size())];
    }));
    return Value::dict(std::move(d));
  }

  Value make_macro(const Stmt& s) {
    const Stmt* def = &s;
    return Value::function(s.text, [this, def](CallArgs& args) {
      ArgBinder bound("macro '" + def->text + "'", args, def->params);
      // The macro body sees the template's top level and its own arguments only.
      std::vector<Scope> saved;
      saved.swap(scopes_);
      scopes_.push_back(saved.front());
      scopes_.emplace_back();
      std::string out;
      try {
        for (size_t i = 0; i < def->params.size(); ++i) {
          const Value* v = bound.get(i);
          scopes_.back()[def->params[i]] =
              v != nullptr ? *v
                           : def->defaults[i] ? eval(*def->defaults[i])
                                              : Value::undefined(def->params[i]);
        }
        exec_body(def->body, out);
      } catch (...) {
        scopes_.swap(saved);
        throw;
      }
      scopes_.swap(saved);
      return Value(out);
    });
  }

  void assign(const std::string& name, const Value& v) { scopes_.back()[name] = v; }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto found = it->find(name);
      if (found != it->end()) return found->second;
    }
    for (const auto& [k, v] : globals_) {
      if (k.as_string() == name) return v;
    }
    return Value::undefined(name);
  }

  // ---- expressions ----

  Value eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.value;
      case Expr::Kind::kName: return lookup(e.name);
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        List items;
        for (const ExprPtr& a : e.args) items.push_back(eval(*a));
        return e.kind == Expr::Kind::kList ? Value::list(std::move(items))
                                           : Value::tuple(std::move(items));
      }
      case Expr::Kind::kDict: {
        Value d = Value::dict();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          Value k = eval(*e.args[i]);
          d.set(k, eval(*e.args[i + 1]));
        }
        return d;
      }
      case Expr::Kind::kGetAttr: return get_attr(eval(*e.a), e.name);
      case Expr::Kind::kGetItem: {
        Value obj = eval(*e.a);
        return get_item(obj, eval(*e.b));
      }
      case Expr::Kind::kSlice: return eval_slice(e);
      case Expr::Kind::kCall: return eval_call(e);
      case Expr::Kind::kFilter: return eval_filter(e, nullptr);
      case Expr::Kind::kTest: {
        Value v = eval(*e.a);
        CallArgs args = eval_args(e);
        return Value(apply_test(e.name, v, args) != e.negated);
      }
      case Expr::Kind::kUnary: {
        Value v = eval(*e.a);
        if (e.name == "not") return Value(!v.truthy());
        return unary_op(e.name, v);
      }
      case Expr::Kind::kBinary: {
        Value a = eval(*e.a);
        return binary_op(e.name, a, eval(*e.b));
      }
      case Expr::Kind::kCompare: {
        Value left = eval(*e.a);
        for (size_t i = 0; i < e.ops.size(); ++i) {  // a < b < c is a < b and b < c
          Value right = eval(*e.args[i]);
          if (!compare_op(e.ops[i], left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::kAnd: {
        Value a = eval(*e.a);
        return a.truthy() ? eval(*e.b) : a;
      }
      case Expr::Kind::kOr: {
        Value a = eval(*e.a);
        return a.truthy() ? a : eval(*e.b);
      }
      case Expr::Kind::kCondition:
        if (eval(*e.b).truthy()) return eval(*e.a);
        return e.c ? eval(*e.c) : Value::undefined();
    }
    return Value::undefined();
  }

  Value eval_slice(const Expr& e) {
    Value obj = eval(*e.a);
    std::optional<int64_t> parts[3];
    for (int i = 0; i < 3; ++i) {
      if (!e.args[i]) continue;
      Value v = eval(*e.args[i]);
      if (v.is_none()) continue;
      if (!v.is_int() && !v.is_bool()) fail("jinja: slice indices must be integers or None");
      parts[i] = v.as_int();
    }
    return get_slice(obj, parts[0], parts[1], parts[2]);
  }

  CallArgs eval_args(const Expr& e) {
    CallArgs args;
    for (const ExprPtr& a : e.args) args.positional.push_back(eval(*a));
    for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v));
    return args;
  }

  Value eval_call(const Expr& e) {
    Value callee = eval(*e.a);
    CallArgs args = eval_args(e);
    if (callee.is_undefined()) undefined_error(callee);
    if (!callee.is_function()) fail("jinja: '", callee.type_name(), "' object is not callable");
    return callee.fn()(args);
  }

  // A filter node; `input` replaces its (null) input in the block forms.
  Value eval_filter(const Expr& e, const Value* input) {
    Value v = !e.a ? *input
              : input != nullptr && e.a->kind == Expr::Kind::kFilter ? eval_filter(*e.a, input)
                                                                      : eval(*e.a);
    CallArgs args = eval_args(e);
    return apply_filter(e.name, v, args);
  }

  std::vector<Scope> scopes_;
  const Dict& globals_;
};

}  // namespace

std::string render(const Body& body, const Value& variables, const Dict& globals) {
  return Interpreter(variables, globals).run(body);
}

}  // namespace kestrel::tokenizer::jinja
