#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace kestrel::tokenizer {

// Emits every complete character in pending_; keeps a trailing sequence that is a valid but
// unfinished prefix (the next token may complete it); replaces anything ill-formed with U+FFFD.
std::string IncrementalDecoder::push(TokenId id) {
  pending_ += tok_.token_to_piece(id, special_);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    bool truncated = false;
    const size_t n = utf8_valid_prefix(pending_, i, &truncated);
    if (n > 0) {
      out.append(pending_, i, n);
      i += n;
    } else if (truncated) {
      break;  // wait for the rest of this character
    } else {
      // Ill-formed: sanitize exactly the bytes up to the next plausible start.
      size_t k = i + 1;
      while (k < pending_.size() && (static_cast<unsigned char>(pending_[k]) & 0xC0) == 0x80) ++k;
      out += utf8_sanitize(std::string_view(pending_).substr(i, k - i));
      i = k;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out = utf8_sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace kestrel::tokenizer
