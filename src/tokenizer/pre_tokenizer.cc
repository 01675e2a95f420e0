#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pre_tokenizer.h"

#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace kestrel::tokenizer {

// The GPT-2 pattern ends in \s+ where llama.cpp's copy does not; llama.cpp keeps unmatched text as
// its own piece, which is what the trailing \s+ produces, so the splits are the same.
constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+)"
    R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+)"
    R"(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::vector<std::string> PreTokenizer::patterns(PreType type) {
  switch (type) {
    case PreType::kDefault:
      return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
    case PreType::kGpt2:
      return {kGpt2};
    case PreType::kLlama3:
      return {kLlama3};
    case PreType::kQwen2:
      return {kQwen2};
    case PreType::kSmolLm:
      // Every digit is its own word.
      return {R"(\p{N})", kGpt2};
  }
  return {};
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(PreType type) {
  for (const std::string& pattern : patterns(type)) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    auto re = std::make_unique<Regex>();
    re->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                             PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (re->code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      fail("tokenizer: bad pre-tokenizer regex at offset ", offset, ": ",
           reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
    regexes_.push_back(std::move(re));
  }
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::pair<size_t, size_t>> PreTokenizer::split(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> pieces;
  if (text.empty()) return pieces;
  pieces.emplace_back(0, text.size());
  pcre2_match_data* md = nullptr;
  for (const auto& re : regexes_) {
    if (md == nullptr) md = pcre2_match_data_create(1, nullptr);
    std::vector<std::pair<size_t, size_t>> next;
    next.reserve(pieces.size() * 2);
    for (const auto& [begin, end] : pieces) {
      // Each piece is its own subject: look-ahead never sees past it, as in llama.cpp.
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + begin);
      const size_t len = end - begin;
      size_t pos = 0;
      size_t last = 0;
      while (pos < len) {
        const int rc = pcre2_match(re->code, subject, len, pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        KESTREL_CHECK(rc >= 0, "tokenizer: regex match failed (PCRE2 error ", rc, ")");
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t m0 = ov[0], m1 = ov[1];
        if (m0 > last) next.emplace_back(begin + last, begin + m0);
        if (m1 > m0) {
          next.emplace_back(begin + m0, begin + m1);
          pos = m1;
        } else {
          // An empty match: step one character so the loop always advances.
          pos = m0 + utf8_len(static_cast<unsigned char>(text[begin + m0]));
          if (pos > len) pos = len;
          continue;
        }
        last = m1;
      }
      if (last < len) next.emplace_back(begin + last, end);
    }
    pieces = std::move(next);
  }
  if (md != nullptr) pcre2_match_data_free(md);
  return pieces;
}

std::string to_llama_codepoints(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    uint32_t cpt = 0;
    size_t n = 0;
    // Only the bit patterns are checked (no overlong or surrogate checks), as in llama.cpp.
    if (b < 0x80) {
      cpt = b;
      n = 1;
    } else if ((b & 0xE0) == 0xC0 && cont(1)) {
      cpt = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3F);
      n = 2;
    } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      cpt = ((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3F);
      n = 3;
    } else if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      cpt = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
            (s[i + 3] & 0x3F);
      n = 4;
    }
    if (n == 0 || (cpt >= 0xD800 && cpt <= 0xDFFF) || cpt > 0x10FFFF) {
      // Surrogates and out-of-range values cannot go through PCRE2; they are rare enough in real
      // text that replacing them too is the practical choice.
      out += "\xEF\xBF\xBD";
      i += n == 0 ? 1 : n;
      continue;
    }
    append_utf8(out, cpt);
    i += n;
  }
  return out;
}

}  // namespace kestrel::tokenizer
