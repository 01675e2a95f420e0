// JSON in and out of Values. to_json is Python's json.dumps as Hugging Face's `tojson` filter
// calls it (ensure_ascii=False, sort_keys=False by default); parse_json reads the variables a
// caller hands to a template (conversations with tool calls, tool lists), keeping key order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/jinja/value.h"

namespace kestrel::tokenizer::jinja {

struct JsonOptions {
  std::optional<int> indent;           // json.dumps(indent=...): newlines and this many spaces
  std::string indent_text;             // or an explicit indent string (indent as a str)
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::optional<std::string> item_separator;  // default ", " (or "," with indent)
  std::optional<std::string> key_separator;   // default ": "
};

// Throws kestrel::Error for values JSON cannot hold (Undefined, functions, namespaces).
std::string to_json(const Value& v, const JsonOptions& options = {});
// Throws kestrel::Error naming the byte offset of malformed input.
Value parse_json(std::string_view text);

}  // namespace kestrel::tokenizer::jinja
