#include "tokenizer/utf8.h"

namespace kestrel::tokenizer {

void append_utf8(std::string& out, uint32_t cpt) {
  if (cpt < 0x80) {
    out += static_cast<char>(cpt);
  } else if (cpt < 0x800) {
    out += static_cast<char>(0xC0 | (cpt >> 6));
    out += static_cast<char>(0x80 | (cpt & 0x3F));
  } else if (cpt < 0x10000) {
    out += static_cast<char>(0xE0 | (cpt >> 12));
    out += static_cast<char>(0x80 | ((cpt >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cpt & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cpt >> 18));
    out += static_cast<char>(0x80 | ((cpt >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cpt >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cpt & 0x3F));
  }
}

size_t utf8_valid_prefix(std::string_view s, size_t i, bool* truncated) {
  *truncated = false;
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  // Allowed range of the second byte (Unicode Table 3-7: no overlongs, surrogates or > U+10FFFF).
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) {
      *truncated = true;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return 0;
  }
  return n;
}

// Bytes a maximal subpart of an ill-formed sequence spans (at least 1).
static size_t maximal_subpart(std::string_view s, size_t i) {
  size_t k = 1;
  while (i + k < s.size()) {
    bool truncated = false;
    // Valid prefix of length k+1 means the subpart continues.
    if (utf8_valid_prefix(s.substr(0, i + k + 1), i, &truncated) == 0 && !truncated) break;
    ++k;
  }
  return k;
}

std::string utf8_sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    bool truncated = false;
    const size_t n = utf8_valid_prefix(s, i, &truncated);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += truncated ? s.size() - i : maximal_subpart(s, i);
    }
  }
  return out;
}

bool utf8_is_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    bool truncated = false;
    const size_t n = utf8_valid_prefix(s, i, &truncated);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace kestrel::tokenizer
