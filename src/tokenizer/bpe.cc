#include "tokenizer/bpe.h"

#include <array>
#include <cstdio>
#include <queue>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace kestrel::tokenizer {
namespace {

struct ByteTables {
  std::array<std::string, 256> to_unicode;
  std::unordered_map<uint32_t, uint8_t> from_cpt;

  ByteTables() {
    // Printable Latin-1 bytes keep their code point; the rest map to U+0100 upwards in order.
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const uint32_t cpt = printable ? static_cast<uint32_t>(b) : next++;
      append_utf8(to_unicode[static_cast<size_t>(b)], cpt);
      from_cpt[cpt] = static_cast<uint8_t>(b);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

// A symbol is a byte range of the word; merged-away symbols have n == 0.
struct Symbol {
  int prev;
  int next;
  size_t start;
  size_t n;
};

struct Bigram {
  int left;
  int right;
  int rank;
  size_t size;  // bytes of left + right when queued; a mismatch later means it is stale
};

struct BigramOrder {
  // Lowest rank first; on ties the leftmost pair.
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return tables().to_unicode[byte]; }

std::string byte_level_decode(std::string_view text) {
  const auto& t = tables();
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool truncated = false;
    size_t n = utf8_valid_prefix(text, i, &truncated);
    if (n == 0) n = 1;
    uint32_t cpt = static_cast<unsigned char>(text[i]);
    if (n > 1) {
      cpt &= 0xFFu >> (n + 1);
      for (size_t k = 1; k < n; ++k) cpt = (cpt << 6) | (text[i + k] & 0x3F);
    }
    auto it = t.from_cpt.find(cpt);
    if (it != t.from_cpt.end()) {
      out += static_cast<char>(it->second);
    } else {
      out += "[UNK_BYTE_0x";
      char hex[3];
      for (size_t k = 0; k < n; ++k) {
        std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(text[i + k]));
        out += hex;
      }
      out.append(text);
      out += ']';
    }
    i += n;
  }
  return out;
}

void BpeEncoder::encode(std::string_view raw, std::vector<TokenId>& out) const {
  const std::string text = to_llama_codepoints(raw);
  std::string word;
  for (const auto& [begin, end] : pre_.split(text)) {
    word.clear();
    for (size_t i = begin; i < end; ++i) word += byte_to_unicode(static_cast<uint8_t>(text[i]));
    encode_word(word, out);
  }
}

void BpeEncoder::encode_word(const std::string& word, std::vector<TokenId>& out) const {
  // Llama 3 style vocabularies take a whole word that is a token as is, without merging.
  if (vocab_.ignore_merges()) {
    const TokenId id = vocab_.text_to_token(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<Symbol> symbols;
  for (size_t off = 0; off < word.size();) {
    const size_t n = std::min(word.size() - off, utf8_len(static_cast<unsigned char>(word[off])));
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, off + n == word.size() ? -1 : index + 1, off, n});
    off += n;
  }
  std::string_view w(word);
  auto text_of = [&](const Symbol& s) { return w.substr(s.start, s.n); };

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto add_bigram = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const int rank = vocab_.bpe_rank(text_of(l), text_of(r));
    if (rank < 0) return;
    queue.push({left, right, rank, l.n + r.n});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) add_bigram(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<size_t>(b.left)];
    Symbol& r = symbols[static_cast<size_t>(b.right)];
    // Stale entry: one side was merged since it was queued. Symbols only grow to the right and
    // stay adjacent, so "both alive, still neighbours, same total size" identifies the pair.
    if (l.n == 0 || r.n == 0 || l.next != b.right || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = b.left;
    add_bigram(l.prev, b.left);
    add_bigram(b.left, l.next);
  }

  for (const Symbol& s : symbols) {
    if (s.n == 0) continue;
    const std::string_view piece = text_of(s);
    const TokenId id = vocab_.text_to_token(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Not in the vocabulary (a vocabulary without every byte): llama.cpp emits the bytes that are
    // tokens on their own and drops the rest.
    for (char c : piece) {
      const TokenId byte_id = vocab_.text_to_token(std::string_view(&c, 1));
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }
}

}  // namespace kestrel::tokenizer
