// Byte-level BPE (tokenizer.ggml.model "gpt2"): pre-tokenize, map every byte to its printable
// stand-in (GPT-2's bytes_to_unicode), then apply merges by rank within each word.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {

class BpeEncoder {
 public:
  explicit BpeEncoder(const Vocab& vocab) : vocab_(vocab), pre_(vocab.pre_type()) {}

  // Appends the tokens of one fragment of plain text (special tokens already split out).
  void encode(std::string_view text, std::vector<TokenId>& out) const;

 private:
  void encode_word(const std::string& word, std::vector<TokenId>& out) const;

  const Vocab& vocab_;
  PreTokenizer pre_;
};

// GPT-2's byte <-> printable code point mapping, as UTF-8 strings.
const std::string& byte_to_unicode(uint8_t byte);
// Decodes a byte-level token text back to bytes. Code points outside the mapping come out as
// "[UNK_BYTE_0x..]" markers, as llama.cpp renders them.
std::string byte_level_decode(std::string_view text);

}  // namespace kestrel::tokenizer
