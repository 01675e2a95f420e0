#include "tokenizer/jinja/parser.h"

#include <cstdlib>
#include <initializer_list>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"

namespace kestrel::tokenizer::jinja {
namespace {

using T = Token::Type;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : toks_(tokens) {}

  Body parse_template() {
    Body body = parse_body({});
    return body;
  }

 private:
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  const Token& next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }

  [[noreturn]] void error(const Token& t, const std::string& what) const {
    fail("jinja: syntax error at line ", t.line, ", column ", t.column, ": ", what);
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case T::kText: return "template text";
      case T::kPrintBegin: return "'{{'";
      case T::kPrintEnd: return "'}}'";
      case T::kBlockBegin: return "'{%'";
      case T::kBlockEnd: return "'%}'";
      case T::kEnd: return "end of template";
      case T::kString: return "string";
      case T::kInt:
      case T::kFloat:
      case T::kName:
      case T::kOperator:
        return "'" + t.text + "'";
    }
    return "token";
  }

  bool is_op(const char* op) const { return cur().type == T::kOperator && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == T::kName && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(cur(), std::string("expected '") + op + "', got " + describe(cur()));
  }
  void expect(T type, const char* what) {
    if (cur().type != type) error(cur(), std::string("expected ") + what + ", got " + describe(cur()));
    next();
  }
  std::string expect_name() {
    if (cur().type != T::kName) error(cur(), "expected a name, got " + describe(cur()));
    return next().text;
  }

  ExprPtr node(Expr::Kind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->column = at.column;
    return e;
  }
  StmtPtr stmt(Stmt::Kind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->column = at.column;
    return s;
  }

  // ---- statements ----

  // Parses until a `{% name %}` block whose name is in `ends` (left unconsumed, positioned on
  // the name) or the end of the template (an error when ends is not empty).
  Body parse_body(std::initializer_list<const char*> ends) {
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == T::kEnd) {
        if (ends.size() != 0) {
          error(t, std::string("unexpected end of template, expected '") + *ends.begin() + "'");
        }
        return body;
      }
      if (t.type == T::kText) {
        auto s = stmt(Stmt::Kind::kText, t);
        s->text = next().text;
        body.push_back(std::move(s));
      } else if (t.type == T::kPrintBegin) {
        next();
        auto s = stmt(Stmt::Kind::kPrint, t);
        s->expr = parse_tuple_or_expr();
        expect(T::kPrintEnd, "'}}'");
        body.push_back(std::move(s));
      } else if (t.type == T::kBlockBegin) {
        const Token& name = peek();
        for (const char* e : ends) {
          if (name.type == T::kName && name.text == e) {
            next();
            return body;
          }
        }
        next();
        body.push_back(parse_statement());
      } else {
        error(t, "unexpected " + describe(t));
      }
    }
  }

  // Consumes `{% name` ... `%}` of an end tag; parse_body left us on the name.
  void end_tag(const char* name) {
    if (!skip_name(name)) error(cur(), std::string("expected '") + name + "'");
    expect(T::kBlockEnd, "'%}'");
  }

  StmtPtr parse_statement() {
    const Token& t = cur();
    if (t.type != T::kName) error(t, "expected a statement name, got " + describe(t));
    const std::string& n = t.text;
    if (n == "if") return parse_if();
    if (n == "for") return parse_for();
    if (n == "set") return parse_set();
    if (n == "macro") return parse_macro();
    if (n == "filter") return parse_filter_block();
    if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) error(t, "'" + n + "' outside of a loop");
      next();
      auto s = stmt(n == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, t);
      expect(T::kBlockEnd, "'%}'");
      return s;
    }
    if (n == "generation" || n == "with") return parse_scope(n);
    error(t, "unknown or unsupported tag '" + n + "'");
  }

  StmtPtr parse_if() {
    auto s = stmt(Stmt::Kind::kIf, cur());
    next();
    s->conditions.push_back(parse_expression());
    expect(T::kBlockEnd, "'%}'");
    ++if_depth_;
    while (true) {
      s->bodies.push_back(parse_body({"elif", "else", "endif"}));
      std::string which = next().text;
      if (which == "elif") {
        s->conditions.push_back(parse_expression());
        expect(T::kBlockEnd, "'%}'");
        continue;
      }
      if (which == "else") {
        expect(T::kBlockEnd, "'%}'");
        s->else_body = parse_body({"endif"});
        end_tag("endif");
      } else {
        expect(T::kBlockEnd, "'%}'");
      }
      break;
    }
    --if_depth_;
    return s;
  }

  StmtPtr parse_for() {
    auto s = stmt(Stmt::Kind::kFor, cur());
    next();
    s->targets.push_back(expect_name());
    while (skip_op(",")) s->targets.push_back(expect_name());
    if (!skip_name("in")) error(cur(), "expected 'in', got " + describe(cur()));
    // The iterable stops before a trailing `if` (jinja2's loop filter), so no condition here.
    s->expr = parse_tuple_or_expr(/*with_condexpr=*/false);
    if (skip_name("if")) s->filter = parse_expression();
    if (is_name("recursive")) error(cur(), "recursive loops are not supported");
    expect(T::kBlockEnd, "'%}'");
    ++loop_depth_;
    s->body = parse_body({"else", "endfor"});
    --loop_depth_;
    if (next().text == "else") {
      expect(T::kBlockEnd, "'%}'");
      s->else_body = parse_body({"endfor"});
      end_tag("endfor");
    } else {
      expect(T::kBlockEnd, "'%}'");
    }
    return s;
  }

  StmtPtr parse_set() {
    const Token& at = cur();
    next();
    std::string target = expect_name();
    if (is_op(".")) {
      next();
      auto s = stmt(Stmt::Kind::kSet, at);
      s->targets.push_back(target);
      s->attr = expect_name();
      expect_op("=");
      s->expr = parse_tuple_or_expr();
      expect(T::kBlockEnd, "'%}'");
      return s;
    }
    if (is_op("=") || is_op(",")) {
      auto s = stmt(Stmt::Kind::kSet, at);
      s->targets.push_back(target);
      while (skip_op(",")) s->targets.push_back(expect_name());
      expect_op("=");
      s->expr = parse_tuple_or_expr();
      expect(T::kBlockEnd, "'%}'");
      return s;
    }
    auto s = stmt(Stmt::Kind::kSetBlock, at);
    s->targets.push_back(target);
    if (is_op("|")) s->filter = parse_filter_chain(nullptr);
    expect(T::kBlockEnd, "'%}'");
    s->body = parse_body({"endset"});
    end_tag("endset");
    return s;
  }

  StmtPtr parse_macro() {
    auto s = stmt(Stmt::Kind::kMacro, cur());
    next();
    s->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      s->params.push_back(expect_name());
      s->defaults.push_back(skip_op("=") ? parse_expression() : nullptr);
    }
    next();
    expect(T::kBlockEnd, "'%}'");
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"});
    loop_depth_ = saved_loops;
    end_tag("endmacro");
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = stmt(Stmt::Kind::kFilterBlock, cur());
    next();
    s->filter = parse_filter_chain(nullptr, /*first_pipe=*/false);
    expect(T::kBlockEnd, "'%}'");
    s->body = parse_body({"endfilter"});
    end_tag("endfilter");
    return s;
  }

  // {% generation %} (Hugging Face's assistant-mask marker) and {% with a = 1 %}.
  StmtPtr parse_scope(const std::string& name) {
    auto s = stmt(Stmt::Kind::kScope, cur());
    next();
    while (name == "with" && cur().type == T::kName) {
      if (!s->targets.empty()) skip_op(",");
      s->targets.push_back(expect_name());
      expect_op("=");
      s->conditions.push_back(parse_expression());
      skip_op(",");
    }
    expect(T::kBlockEnd, "'%}'");
    std::string end = "end" + name;
    s->body = parse_body({end.c_str()});
    end_tag(end.c_str());
    return s;
  }

  // ---- expressions ----

  // `a, b` without parentheses is a tuple where jinja2 allows one ({{ }}, set, for).
  ExprPtr parse_tuple_or_expr(bool with_condexpr = true) {
    const Token& at = cur();
    ExprPtr first = with_condexpr ? parse_expression() : parse_or();
    if (!is_op(",")) return first;
    auto t = node(Expr::Kind::kTuple, at);
    t->args.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().type == T::kBlockEnd || cur().type == T::kPrintEnd) break;
      t->args.push_back(with_condexpr ? parse_expression() : parse_or());
    }
    return t;
  }

  ExprPtr parse_expression() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const Token& at = next();
      auto c = node(Expr::Kind::kCondition, at);
      c->a = std::move(e);
      c->b = parse_or();
      if (skip_name("else")) c->c = parse_expression();
      e = std::move(c);
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      auto n = node(Expr::Kind::kOr, next());
      n->a = std::move(e);
      n->b = parse_and();
      e = std::move(n);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      auto n = node(Expr::Kind::kAnd, next());
      n->a = std::move(e);
      n->b = parse_not();
      e = std::move(n);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      auto n = node(Expr::Kind::kUnary, next());
      n->name = "not";
      n->a = parse_not();
      return n;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token& at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == T::kOperator &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">" ||
           cur().text == "<=" || cur().text == ">=")) {
        op = next().text;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && peek().type == T::kName && peek().text == "in") {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(Expr::Kind::kCompare, at);
        cmp->a = std::move(first);
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr binary(const Token& at, const std::string& op, ExprPtr a, ExprPtr b) {
    auto n = node(Expr::Kind::kBinary, at);
    n->name = op;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = next();
      e = binary(at, at.text, std::move(e), parse_concat());
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const Token& at = next();
      e = binary(at, "~", std::move(e), parse_math2());
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = next();
      e = binary(at, at.text, std::move(e), parse_pow());
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const Token& at = next();
      e = binary(at, "**", std::move(e), parse_unary(true));
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const Token& at = next();
      e = node(Expr::Kind::kUnary, at);
      e->name = at.text;
      e->a = parse_unary(false);
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case T::kName: {
        next();
        if (t.text == "true" || t.text == "True") return literal(t, Value(true));
        if (t.text == "false" || t.text == "False") return literal(t, Value(false));
        if (t.text == "none" || t.text == "None") return literal(t, Value::none());
        auto n = node(Expr::Kind::kName, t);
        n->name = t.text;
        return n;
      }
      case T::kString: {
        std::string s = next().text;
        while (cur().type == T::kString) s += next().text;  // adjacent literals concatenate
        return literal(t, Value(s));
      }
      case T::kInt: {
        next();
        errno = 0;
        long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) error(t, "integer literal out of range");
        return literal(t, Value(static_cast<int64_t>(v)));
      }
      case T::kFloat:
        next();
        return literal(t, Value(std::strtod(t.text.c_str(), nullptr)));
      case T::kOperator:
        if (t.text == "(") return parse_paren();
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      case T::kText:
      case T::kPrintBegin:
      case T::kPrintEnd:
      case T::kBlockBegin:
      case T::kBlockEnd:
      case T::kEnd:
        break;
    }
    error(t, "unexpected " + describe(t));
  }

  ExprPtr literal(const Token& t, Value v) {
    auto n = node(Expr::Kind::kLiteral, t);
    n->value = std::move(v);
    return n;
  }

  ExprPtr parse_paren() {
    const Token& at = next();
    if (skip_op(")")) return node(Expr::Kind::kTuple, at);
    ExprPtr e = parse_expression();
    if (skip_op(")")) return e;
    auto t = node(Expr::Kind::kTuple, at);
    t->args.push_back(std::move(e));
    while (skip_op(",")) {
      if (is_op(")")) break;
      t->args.push_back(parse_expression());
    }
    expect_op(")");
    return t;
  }

  ExprPtr parse_list() {
    auto l = node(Expr::Kind::kList, next());
    while (!is_op("]")) {
      if (!l->args.empty()) {
        expect_op(",");
        if (is_op("]")) break;
      }
      l->args.push_back(parse_expression());
    }
    next();
    return l;
  }

  ExprPtr parse_dict() {
    auto d = node(Expr::Kind::kDict, next());
    while (!is_op("}")) {
      if (!d->args.empty()) {
        expect_op(",");
        if (is_op("}")) break;
      }
      d->args.push_back(parse_expression());
      expect_op(":");
      d->args.push_back(parse_expression());
    }
    next();
    return d;
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        const Token& at = next();
        if (cur().type == T::kInt) {  // x.0 is x[0]
          auto n = node(Expr::Kind::kGetItem, at);
          n->a = std::move(e);
          n->b = literal(cur(), Value(static_cast<int64_t>(std::strtoll(cur().text.c_str(), nullptr, 10))));
          next();
          e = std::move(n);
          continue;
        }
        auto n = node(Expr::Kind::kGetAttr, at);
        n->a = std::move(e);
        n->name = expect_name();
        e = std::move(n);
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr target) {
    const Token& at = next();
    ExprPtr parts[3];
    int colons = 0;
    while (!is_op("]")) {
      if (skip_op(":")) {
        if (++colons > 2) error(at, "too many ':' in a slice");
        continue;
      }
      if (parts[colons]) error(cur(), "expected ':' or ']', got " + describe(cur()));
      parts[colons] = parse_expression();
    }
    next();
    if (colons == 0) {
      if (!parts[0]) error(at, "empty subscript");
      auto n = node(Expr::Kind::kGetItem, at);
      n->a = std::move(target);
      n->b = std::move(parts[0]);
      return n;
    }
    auto n = node(Expr::Kind::kSlice, at);
    n->a = std::move(target);
    n->args.push_back(std::move(parts[0]));
    n->args.push_back(std::move(parts[1]));
    n->args.push_back(std::move(parts[2]));
    return n;
  }

  void parse_call_args(Expr& call) {
    expect_op("(");
    while (!is_op(")")) {
      if (!call.args.empty() || !call.kwargs.empty()) {
        expect_op(",");
        if (is_op(")")) break;
      }
      if (cur().type == T::kName && peek().type == T::kOperator && peek().text == "=") {
        std::string key = next().text;
        next();
        call.kwargs.emplace_back(key, parse_expression());
      } else {
        if (!call.kwargs.empty()) error(cur(), "positional argument after keyword argument");
        call.args.push_back(parse_expression());
      }
    }
    next();
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto n = node(Expr::Kind::kCall, cur());
    n->a = std::move(callee);
    parse_call_args(*n);
    return n;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) {
        e = parse_filter_chain(std::move(e));
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  // `| f(args) | g` (the leading pipe optional for {% filter %}); input null in block forms.
  ExprPtr parse_filter_chain(ExprPtr input, bool first_pipe = true) {
    bool need_pipe = first_pipe;
    do {
      if (need_pipe) expect_op("|");
      need_pipe = true;
      const Token& at = cur();
      auto f = node(Expr::Kind::kFilter, at);
      f->name = expect_name();
      while (skip_op(".")) f->name += "." + expect_name();
      if (if_depth_ == 0 && !has_filter(f->name)) error(at, "no filter named '" + f->name + "'");
      if (is_op("(")) parse_call_args(*f);
      f->a = std::move(input);
      input = std::move(f);
    } while (is_op("|"));
    return input;
  }

  ExprPtr parse_test(ExprPtr e) {
    next();  // is
    auto t = node(Expr::Kind::kTest, cur());
    t->negated = skip_name("not");
    const Token& at = cur();
    t->name = expect_name();
    if (if_depth_ == 0 && !has_test(t->name)) error(at, "no test named '" + t->name + "'");
    t->a = std::move(e);
    if (is_op("(")) {
      parse_call_args(*t);
    } else if ((cur().type == T::kName || cur().type == T::kString || cur().type == T::kInt ||
                cur().type == T::kFloat || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if")) {
      // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
      if (is_name("is")) error(cur(), "tests cannot be chained with 'is'");
      t->args.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }

  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
  int if_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_template(); }

}  // namespace kestrel::tokenizer::jinja
