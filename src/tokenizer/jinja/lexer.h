// Lexer: template source -> tokens, with jinja2's whitespace rules applied to the text between
// tags as Hugging Face configures them: trim_blocks (the first newline after a block or comment
// tag is dropped), lstrip_blocks (spaces and tabs before a block or comment tag at the start of a
// line are dropped), `-` on either side of a tag strips all whitespace on that side, `+` turns the
// two options off for that side, and one trailing newline of the template is dropped.
#pragma once

#include <string>
#include <vector>

namespace kestrel::tokenizer::jinja {

struct Token {
  enum class Type {
    kText,        // literal template text (whitespace rules already applied)
    kPrintBegin,  // {{
    kPrintEnd,    // }}
    kBlockBegin,  // {%
    kBlockEnd,    // %}
    kName,        // identifiers and keywords (and, or, not, in, is, if, else, ...)
    kString,      // text holds the unescaped value
    kInt,
    kFloat,
    kOperator,    // text holds the operator: + - * / // % ** ~ == != < > <= >= = . , : | ( ) [ ] { }
    kEnd,
  };
  Type type;
  std::string text;
  int line = 1;
  int column = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws kestrel::Error naming line and column on an unterminated tag, string or comment.
std::vector<Token> lex(const std::string& source, const LexOptions& options = {});

}  // namespace kestrel::tokenizer::jinja
