// Small UTF-8 helpers shared by the tokenizers and the streaming decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kestrel::tokenizer {

// Length of the sequence a lead byte announces (1 for ASCII and for stray bytes, as llama.cpp's
// splitter treats them).
inline size_t utf8_len(unsigned char lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

void append_utf8(std::string& out, uint32_t cpt);

// Length of the well-formed UTF-8 sequence starting at s[i] (1..4), or 0 when s[i..] does not start
// with one. When the bytes so far are a valid but truncated prefix, sets *truncated.
size_t utf8_valid_prefix(std::string_view s, size_t i, bool* truncated);

// Replaces every ill-formed subsequence with U+FFFD (one per maximal subpart, as WHATWG and
// Python do). Valid input is returned unchanged.
std::string utf8_sanitize(std::string_view s);

bool utf8_is_valid(std::string_view s);

}  // namespace kestrel::tokenizer
