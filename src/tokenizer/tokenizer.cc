// The Tokenizer built from GGUF metadata: special-token splitting, then BPE or SPM per fragment,
// BOS/EOS as the vocabulary says; pieces for decoding are precomputed per token.
#include "tokenizer/tokenizer.h"

#include <cstdlib>
#include <optional>

#include "core/error.h"
#include "tokenizer/bpe.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/spm.h"
#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {
namespace {

class GgufTokenizer final : public Tokenizer {
 public:
  explicit GgufTokenizer(VocabData data) : vocab_(std::move(data)) {
    if (vocab_.type() == VocabType::kBpe) {
      bpe_.emplace(vocab_);
    } else {
      spm_.emplace(vocab_);
    }
    pieces_.reserve(static_cast<size_t>(vocab_.n_tokens()));
    for (TokenId id = 0; id < vocab_.n_tokens(); ++id) pieces_.push_back(make_piece(id));
  }

  std::vector<TokenId> encode(std::string_view text, bool add_special,
                              bool parse_special) const override {
    std::vector<TokenId> out;
    const bool bos = add_special && vocab_.add_bos();
    const bool eos = add_special && vocab_.add_eos();
    if (bos) out.push_back(vocab_.bos());
    const auto frags = split_special_tokens(vocab_, text, parse_special);
    if (bpe_) {
      for (const Fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
        } else {
          bpe_->encode(text.substr(f.begin, f.size), out);
        }
      }
    } else {
      // SentencePiece prefixes a space to text at the start and after each special token, when
      // the vocabulary asks for it (Llama 2 does, Gemma does not).
      bool prev_special = true;
      for (const Fragment& f : frags) {
        if (f.token >= 0) {
          out.push_back(f.token);
          prev_special = true;
          continue;
        }
        std::string raw;
        if (vocab_.add_space_prefix() && prev_special) raw = " ";
        raw.append(text.substr(f.begin, f.size));
        spm_->encode(escape_whitespace(raw), out);
        prev_special = false;
      }
    }
    if (eos) out.push_back(vocab_.eos());
    return out;
  }

  std::string token_to_piece(TokenId id, bool special) const override {
    check_id(id);
    // Control and unknown tokens are hidden unless asked for.
    if (!special && (vocab_.token(id).attr & (kAttrControl | kAttrUnknown))) return {};
    return pieces_[static_cast<size_t>(id)];
  }

  int32_t n_vocab() const override { return vocab_.n_tokens(); }
  TokenId bos() const override { return vocab_.bos(); }
  TokenId eos() const override { return vocab_.eos(); }
  bool add_bos() const override { return vocab_.add_bos(); }
  bool is_eog(TokenId id) const override { return vocab_.is_eog(id); }
  bool is_control(TokenId id) const override {
    return vocab_.valid(id) && (vocab_.token(id).attr & kAttrControl) != 0;
  }
  std::string token_text(TokenId id) const override {
    check_id(id);
    return vocab_.token(id).text;
  }

 protected:
  void clean_up_spaces(std::string& text) const override {
    if (vocab_.clean_spaces()) clean_spaces(text);
  }

 private:
  void check_id(TokenId id) const {
    KESTREL_CHECK(vocab_.valid(id), "tokenizer: token id ", id, " is out of range [0, ",
                  vocab_.n_tokens(), ")");
  }

  // The piece as shown with special=true.
  std::string make_piece(TokenId id) const {
    const TokenData& t = vocab_.token(id);
    if (t.attr & (kAttrControl | kAttrUnknown | kAttrUserDefined)) return t.text;
    if (vocab_.type() == VocabType::kBpe) {
      return (t.attr & kAttrNormal) ? byte_level_decode(t.text) : std::string();
    }
    if (t.attr & kAttrNormal) return unescape_whitespace(t.text);
    if (t.attr & kAttrByte) {
      // "<0xNN>"; a malformed entry reads as 0, as strtol gives llama.cpp.
      const unsigned long byte =
          t.text.size() > 3 ? std::strtoul(t.text.c_str() + 3, nullptr, 16) : 0;
      return std::string(1, static_cast<char>(byte));
    }
    return {};  // unused / undefined tokens have no text
  }

  // llama.cpp's three passes over the detokenized text.
  static void clean_spaces(std::string& s);

  Vocab vocab_;
  std::optional<BpeEncoder> bpe_;
  std::optional<SpmEncoder> spm_;
  std::vector<std::string> pieces_;
};

void GgufTokenizer::clean_spaces(std::string& s) {
  // 1: " ?", " !", " .", " ," lose the space.
  std::string a;
  for (size_t i = 0; i < s.size(); ++i) {
    const char x = s[i];
    if (i > 0 && s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
    a += x;
  }
  // 2: " ' " -> "'".
  std::string b;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = a[i];
    if (i > 0 && x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
      b.pop_back();
      b += x;
      ++i;  // drop the space after it
      continue;
    }
    b += x;
  }
  // 3: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it).
  std::string c;
  for (size_t i = 0; i < b.size(); ++i) {
    const char x = b[i];
    if (i > 0 && b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
      const char x1 = b[i + 1];
      const char x2 = i + 2 < b.size() ? b[i + 2] : '\0';
      if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
        c.pop_back();
      }
    }
    c += x;
  }
  s = std::move(c);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const io::GgufFile& file) {
  return from_vocab_data(read_vocab_data(file));
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocab_data(VocabData data) {
  return std::make_unique<GgufTokenizer>(std::move(data));
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool special) const {
  std::string text;
  for (TokenId id : ids) text += token_to_piece(id, special);
  clean_up_spaces(text);
  return text;
}

}  // namespace kestrel::tokenizer
