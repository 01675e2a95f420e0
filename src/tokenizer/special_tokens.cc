#include "tokenizer/special_tokens.h"

namespace kestrel::tokenizer {

std::vector<Fragment> split_special_tokens(const Vocab& vocab, std::string_view text,
                                           bool parse_special) {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (TokenId id : vocab.special_tokens()) {
    const TokenData& t = vocab.token(id);
    if (!parse_special && (t.attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string_view needle = t.text;
    // Cheap reject: most special tokens never occur in a given text.
    if (text.find(needle) == std::string_view::npos) continue;
    next.clear();
    bool changed = false;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view raw = text.substr(f.begin, f.size);
      size_t pos = 0;
      while (true) {
        const size_t hit = raw.find(needle, pos);
        if (hit == std::string_view::npos) break;
        changed = true;
        if (hit > pos) next.push_back({-1, f.begin + pos, hit - pos});
        next.push_back({id, f.begin + hit, needle.size()});
        pos = hit + needle.size();
      }
      if (pos < raw.size()) next.push_back({-1, f.begin + pos, raw.size() - pos});
    }
    if (changed) frags.swap(next);
  }
  return frags;
}

}  // namespace kestrel::tokenizer
