// Splits raw text on the text of special tokens before the model's tokenizer sees it.
// Control and unknown tokens are split out only when parse_special is true; user-defined tokens
// (Gemma's "\n\n", runs of spaces, HTML tags) always are, as llama.cpp and Hugging Face do.
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {

struct Fragment {
  TokenId token = -1;  // >= 0: a special token; -1: raw text [begin, begin + size)
  size_t begin = 0;
  size_t size = 0;
};

// Tokens are tried longest first; each one splits every raw fragment at all of its occurrences,
// so a longer token always wins over a shorter one it contains. Cost: one substring search of the
// text per eligible special token.
std::vector<Fragment> split_special_tokens(const Vocab& vocab, std::string_view text,
                                           bool parse_special);

}  // namespace kestrel::tokenizer
