// SentencePiece-style tokenization (tokenizer.ggml.model "llama": Llama 2, Gemma): spaces become
// U+2581, then adjacent pieces merge greedily by vocabulary score; pieces that never form a token
// fall back to <0xNN> byte tokens.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {

class SpmEncoder {
 public:
  explicit SpmEncoder(const Vocab& vocab) : vocab_(vocab) {}

  // Appends the tokens of one fragment of text whose spaces are already escaped to U+2581.
  void encode(std::string_view text, std::vector<TokenId>& out) const;

 private:
  const Vocab& vocab_;
};

// ' ' -> U+2581 and back.
std::string escape_whitespace(std::string_view text);
std::string unescape_whitespace(std::string_view text);

}  // namespace kestrel::tokenizer
