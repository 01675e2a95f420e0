// Parser: tokens -> syntax tree, following jinja2's grammar and operator precedence
// (condition < or < and < not < comparison < + - < ~ < * / // % < ** < unary < filters/tests <
// postfix). Unknown filters and tests are rejected here, as jinja2 rejects them at compile time
// (except inside an if body, where jinja2 defers the check to run time and so do we).
#pragma once

#include <string>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace kestrel::tokenizer::jinja {

// Throws kestrel::Error naming line and column of the first syntax error.
Body parse(const std::vector<Token>& tokens);

}  // namespace kestrel::tokenizer::jinja
