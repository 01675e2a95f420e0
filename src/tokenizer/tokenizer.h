// Tokenizers built from GGUF metadata (tokenizer.ggml.*): byte-level BPE ("gpt2" model, with the
// pre-tokenizer named by tokenizer.ggml.pre: SmolLM2, Llama 3, Qwen2, ...) and SentencePiece-style
// ("llama" model: Llama 2, Gemma). Encoding matches llama.cpp's llama_tokenize token for token.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::io {
class GgufFile;
}

namespace kestrel::tokenizer {

using TokenId = int32_t;
struct VocabData;  // tokenizer/vocab.h

class Tokenizer {
 public:
  // Throws kestrel::Error for a missing or unsupported tokenizer model / pre-tokenizer.
  static std::unique_ptr<Tokenizer> from_gguf(const io::GgufFile& file);
  // The same from metadata already read (tests build small vocabularies this way).
  static std::unique_ptr<Tokenizer> from_vocab_data(VocabData data);
  virtual ~Tokenizer() = default;

  // add_special: add BOS/EOS as the metadata says (tokenizer.ggml.add_bos_token / add_eos_token,
  // with llama.cpp's per-model defaults). parse_special: text such as "<|im_start|>" becomes the
  // special token; otherwise it is tokenized as plain text.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;

  // Bytes of one token as it appears in text (byte-level BPE decoded, SentencePiece's U+2581 -> '
  // ', <0xNN> byte tokens -> that byte). Control tokens give their text only when `special` is
  // true. The result may be an incomplete UTF-8 sequence; IncrementalDecoder reassembles
  // characters.
  virtual std::string token_to_piece(TokenId id, bool special = false) const = 0;
  std::string decode(const std::vector<TokenId>& ids, bool special = false) const;

  virtual int32_t n_vocab() const = 0;
  virtual TokenId bos() const = 0;  // -1 when the model has none
  virtual TokenId eos() const = 0;
  virtual bool add_bos() const = 0;
  // End of generation: EOS, EOT, <|im_end|>, <end_of_turn> and the like (llama.cpp's EOG set).
  virtual bool is_eog(TokenId id) const = 0;
  virtual bool is_control(TokenId id) const = 0;
  virtual std::string token_text(TokenId id) const = 0;  // raw vocabulary entry

 protected:
  // decode() post-processing where llama.cpp's detokenizer does it (tokenizer "clean up spaces":
  // " ." -> ".", " 's" -> "'s", ...); off for SmolLM2, Qwen2 and SentencePiece models.
  virtual void clean_up_spaces(std::string& text) const { (void)text; }
};

// Streams valid UTF-8 from tokens: holds back the bytes of a character split across tokens until it
// is complete; invalid sequences are replaced by U+FFFD instead of being emitted raw.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tok, bool special = false)
      : tok_(tok), special_(special) {}
  std::string push(TokenId id);  // text that became complete with this token (may be empty)
  std::string flush();           // whatever is held back, completed with U+FFFD if truncated

 private:
  const Tokenizer& tok_;
  bool special_;
  std::string pending_;
};

}  // namespace kestrel::tokenizer
