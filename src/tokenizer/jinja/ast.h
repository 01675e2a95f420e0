// The syntax tree the parser builds and the interpreter walks. Plain structs with a kind tag;
// each node keeps the line and column of its first token for error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace kestrel::tokenizer::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Expr {
  enum class Kind {
    kLiteral,   // value
    kName,      // name
    kList,      // args
    kTuple,     // args
    kDict,      // args: key, value, key, value, ...
    kGetAttr,   // a.name
    kGetItem,   // a[b]
    kSlice,     // a[b:c:d], absent parts null
    kCall,      // a(args, kwargs)
    kFilter,    // a | name(args, kwargs); a is null inside `{% filter %}`
    kTest,      // a is [not] name(args, kwargs); negated
    kUnary,     // op a: "-", "+", "not"
    kBinary,    // a op b: + - * / // % ** ~
    kCompare,   // a ops[0] args[0] ops[1] args[1] ...: == != < > <= >= in notin
    kAnd,       // a and b
    kOr,        // a or b
    kCondition, // a if b else c (c may be null)
  };
  Kind kind;
  int line = 0;
  int column = 0;
  Value value;
  std::string name;  // variable, attribute, filter or test name, or operator
  bool negated = false;
  ExprPtr a, b, c;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
};

struct Stmt {
  enum class Kind {
    kText,      // text
    kPrint,     // {{ expr }}
    kIf,        // conditions[i] -> bodies[i]; else_body
    kFor,       // targets in expr [if filter]: body; else_body
    kSet,       // targets = expr, or target.attr = expr (attr non-empty)
    kSetBlock,  // {% set target %}body{% endset %}, optional filter
    kMacro,     // name(params = defaults): body
    kBreak,
    kContinue,
    kFilterBlock,  // {% filter f %}body{% endfilter %}: filter is a kFilter with a null input
    kScope,        // body rendered in place: {% generation %}, {% with %} (with its sets first)
  };
  Kind kind;
  int line = 0;
  int column = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string attr;
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // one per param, null where there is none
};

}  // namespace kestrel::tokenizer::jinja
