// String helpers with Python's semantics over UTF-8: code point indexing, str.strip()'s notion
// of whitespace, repr(), and the case-changing methods (ASCII letters only; other letters are
// left unchanged, see docs/chat-templates.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::tokenizer::jinja {

// Splits UTF-8 text into code points, each kept as its UTF-8 bytes (invalid bytes pass alone).
std::vector<std::string> utf8_chars(std::string_view s);
// Number of code points.
size_t utf8_length(std::string_view s);
// Appends code point cp as UTF-8.
void append_utf8(std::string& out, uint32_t cp);
// Decodes the code point at s[i] and advances i.
uint32_t decode_utf8(std::string_view s, size_t& i);

// Python str.strip/lstrip/rstrip: with chars empty-and-not-given, Unicode whitespace.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// Python str.split(sep=None / sep, maxsplit).
std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t maxsplit);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);
std::string py_title(std::string_view s);
// Python str.replace(old, new, count); count < 0 replaces all.
std::string py_replace(std::string_view s, std::string_view old, std::string_view repl,
                       int64_t count);
// Python repr() of a str: single quotes unless the text has ' and no ".
std::string python_string_repr(std::string_view s);

}  // namespace kestrel::tokenizer::jinja
