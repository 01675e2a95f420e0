#include "tokenizer/jinja/template.h"

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/parser.h"

namespace kestrel::tokenizer::jinja {

Template::Template(const std::string& source, const LexOptions& options)
    : body_(parse(lex(source, options))), globals_(make_globals()) {}

std::string Template::render(const Value& variables) const {
  return jinja::render(body_, variables, globals_);
}

}  // namespace kestrel::tokenizer::jinja
