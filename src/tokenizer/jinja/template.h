// Template: a parsed Jinja template, ready to render many times. The entry point of the
// interpreter; see docs/chat-templates.md for the subset of Jinja it understands.
#pragma once

#include <string>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/value.h"

namespace kestrel::tokenizer::jinja {

class Template {
 public:
  // Parses source with Hugging Face's settings (trim_blocks, lstrip_blocks). Throws
  // kestrel::Error naming line and column of a syntax error or an unknown filter or test.
  explicit Template(const std::string& source, const LexOptions& options = {});

  // Renders with variables (a dict of name -> value) over the globals (raise_exception,
  // strftime_now, namespace, range, dict). Throws kestrel::Error on a runtime error.
  std::string render(const Value& variables) const;

 private:
  Body body_;
  Dict globals_;
};

}  // namespace kestrel::tokenizer::jinja
