// Interpreter: walks a parsed template and writes its output. Scoping follows jinja2: a for
// loop body gets a fresh scope on every iteration (so a `set` inside it is gone afterwards and
// does not carry to the next iteration; that is what namespace() is for), if blocks share the
// scope they are in, macros run in a scope of their own over the template's top level.
#pragma once

#include <string>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace kestrel::tokenizer::jinja {

// Renders body with the given variables (a dict) over the globals. Throws kestrel::Error on a
// runtime error, naming the line and column of the statement that failed.
std::string render(const Body& body, const Value& variables, const Dict& globals);

}  // namespace kestrel::tokenizer::jinja
