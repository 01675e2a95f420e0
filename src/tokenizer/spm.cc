#include "tokenizer/spm.h"

#include <queue>
#include <string>

#include "tokenizer/utf8.h"

namespace kestrel::tokenizer {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

struct Symbol {
  int prev;
  int next;
  size_t start;
  size_t n;  // 0 once merged into the symbol on its left
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t size;
};

struct BigramOrder {
  // Highest score first; on ties the leftmost pair.
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

}  // namespace

std::string escape_whitespace(std::string_view text) { return replace_all(text, " ", kSpace); }
std::string unescape_whitespace(std::string_view text) { return replace_all(text, kSpace, " "); }

void SpmEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
  std::vector<Symbol> symbols;
  for (size_t off = 0; off < text.size();) {
    const size_t n = std::min(text.size() - off, utf8_len(static_cast<unsigned char>(text[off])));
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, off + n == text.size() ? -1 : index + 1, off, n});
    off += n;
  }
  if (symbols.empty()) return;

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto add_bigram = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const std::string_view merged = text.substr(l.start, l.n + r.n);
    const TokenId id = vocab_.text_to_token(merged);
    if (id < 0) return;
    queue.push({left, right, vocab_.token(id).score, merged.size()});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) add_bigram(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<size_t>(b.left)];
    Symbol& r = symbols[static_cast<size_t>(b.right)];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = b.left;
    add_bigram(l.prev, b.left);
    add_bigram(b.left, l.next);
  }

  // A pair is queued only when its text is a token, so every merged symbol is a token; what is
  // left is single characters missing from the vocabulary, which fall back to byte tokens.
  for (int i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& s = symbols[static_cast<size_t>(i)];
    const std::string_view piece = text.substr(s.start, s.n);
    const TokenId id = vocab_.text_to_token(piece);
    if (id >= 0) {
      out.push_back(id);
    } else {
      for (char c : piece) out.push_back(vocab_.byte_to_token(static_cast<uint8_t>(c)));
    }
  }
}

}  // namespace kestrel::tokenizer
