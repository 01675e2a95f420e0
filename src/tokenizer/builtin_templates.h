// A fallback chat template by architecture, for GGUF files without tokenizer.chat_template.
#pragma once

#include <optional>
#include <string>

namespace kestrel::tokenizer {

std::optional<std::string> builtin_chat_template(const std::string& arch);

}  // namespace kestrel::tokenizer
