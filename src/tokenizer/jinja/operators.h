// The operators of Jinja expressions with Python's semantics: arithmetic (int/float promotion,
// floor division and modulo rounding toward negative infinity, str and list concatenation and
// repetition), `~`, comparisons, `in`, and item access with Python's negative indices and slices.
// Undefined operands raise, as jinja2's default Undefined does, except where printing or
// comparing them is allowed.
#pragma once

#include <optional>
#include <string>

#include "tokenizer/jinja/value.h"

namespace kestrel::tokenizer::jinja {

// op is one of + - * / // % ** ~
Value binary_op(const std::string& op, const Value& a, const Value& b);
// op is "-" or "+"
Value unary_op(const std::string& op, const Value& a);
// op is one of == != < > <= >= in notin
bool compare_op(const std::string& op, const Value& a, const Value& b);
// Python `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);

// jinja2's environment.getattr: a.name tries a method first, then an item.
Value get_attr(const Value& obj, const std::string& name);
// jinja2's environment.getitem: a[key] tries an item first, then a method.
Value get_item(const Value& obj, const Value& key);
// a[start:stop:step] of a list or string.
Value get_slice(const Value& obj, const std::optional<int64_t>& start,
                const std::optional<int64_t>& stop, const std::optional<int64_t>& step);

// Throws the error jinja2 raises when an Undefined is used where a value is needed.
[[noreturn]] void undefined_error(const Value& undefined);

}  // namespace kestrel::tokenizer::jinja
