// Splits text into words before byte-level BPE, with the regexes llama.cpp uses for each
// tokenizer.ggml.pre. Regexes run in sequence, each one splitting the pieces of the one before;
// text between matches becomes a piece of its own. PCRE2 (UTF + UCP, JIT) supplies the Unicode
// classes \p{L}, \p{N}, \s.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {

class PreTokenizer {
 public:
  explicit PreTokenizer(PreType type);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // `text` must be valid UTF-8 (see to_llama_codepoints). Returns [begin, end) byte ranges.
  std::vector<std::pair<size_t, size_t>> split(std::string_view text) const;

  // The regexes for a pre-tokenizer, in application order.
  static std::vector<std::string> patterns(PreType type);

 private:
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

// Re-encodes text the way llama.cpp decodes it before splitting: each byte that does not start a
// (structurally) valid sequence becomes U+FFFD, so BPE never sees ill-formed UTF-8.
std::string to_llama_codepoints(std::string_view text);

}  // namespace kestrel::tokenizer
