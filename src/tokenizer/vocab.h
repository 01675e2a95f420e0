// The vocabulary a GGUF file describes (tokenizer.ggml.*), with llama.cpp's rules for what the
// file leaves out: default special ids per model type, add_bos/add_eos defaults per pre-tokenizer,
// token attributes, and the end-of-generation set it derives from token text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace kestrel::io {
class GgufFile;
}

namespace kestrel::tokenizer {

enum class VocabType { kSpm, kBpe };

// Pre-tokenizer regex sets (tokenizer.ggml.pre), for byte-level BPE only.
enum class PreType { kDefault, kGpt2, kLlama3, kQwen2, kSmolLm };

// Bit flags, as llama.cpp's llama_token_attr (the values match, which keeps goldens readable).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
};

// The tokenizer.ggml.* metadata as stored; absent keys stay empty / nullopt.
struct VocabData {
  std::string model;  // "gpt2" or "llama"
  std::string pre;    // "" when absent
  std::vector<std::string> tokens;
  std::vector<float> scores;         // empty when absent
  std::vector<int32_t> token_types;  // GGUF token types 0..6; empty when absent
  std::vector<std::string> merges;   // "left right", rank = index
  std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, unk_id, sep_id, pad_id, mask_id;
  std::optional<int64_t> fim_pre_id, fim_suf_id, fim_mid_id, fim_pad_id, fim_rep_id, fim_sep_id;
  std::optional<bool> add_bos, add_eos, add_space_prefix;
};

VocabData read_vocab_data(const io::GgufFile& file);

struct TokenData {
  std::string text;
  float score = 0;
  uint32_t attr = kAttrNormal;
};

class Vocab {
 public:
  // Throws kestrel::Error for an unknown model or pre-tokenizer, or inconsistent arrays.
  explicit Vocab(VocabData data);

  VocabType type() const { return type_; }
  PreType pre_type() const { return pre_type_; }
  int32_t n_tokens() const { return static_cast<int32_t>(tokens_.size()); }
  const TokenData& token(TokenId id) const { return tokens_[static_cast<size_t>(id)]; }
  bool valid(TokenId id) const { return id >= 0 && id < n_tokens(); }

  // -1 when the text is not a token. Duplicate texts map to the last id, as in llama.cpp.
  TokenId text_to_token(std::string_view text) const;
  // Merge rank of the pair (lower merges first), -1 when the pair is not a merge. BPE only.
  int bpe_rank(std::string_view left, std::string_view right) const;
  // SPM byte-fallback token <0xNN> (or the single-byte token).
  TokenId byte_to_token(uint8_t byte) const;

  TokenId bos() const { return bos_; }
  TokenId eos() const { return eos_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool clean_spaces() const { return clean_spaces_; }
  bool ignore_merges() const { return ignore_merges_; }
  bool is_eog(TokenId id) const { return eog_.count(id) != 0; }
  const std::unordered_set<TokenId>& eog_ids() const { return eog_; }

  // Control, user-defined and unknown tokens, longest text first: the order in which they are
  // split out of raw text.
  const std::vector<TokenId>& special_tokens() const { return special_tokens_; }

 private:
  void set_defaults(const VocabData& data);
  void detect_special_tokens();

  VocabType type_ = VocabType::kSpm;
  PreType pre_type_ = PreType::kDefault;
  std::vector<TokenData> tokens_;
  std::unordered_map<std::string, TokenId> text_to_id_;
  std::unordered_map<std::string, int> merge_rank_;  // key: left + '\xff' + right
  TokenId bos_ = -1, eos_ = -1, eot_ = -1, eom_ = -1, unk_ = -1;
  TokenId fim_pad_ = -1, fim_rep_ = -1, fim_sep_ = -1;
  bool add_bos_ = false;
  bool add_eos_ = false;
  bool add_space_prefix_ = false;
  bool clean_spaces_ = false;
  bool ignore_merges_ = false;
  std::unordered_set<TokenId> eog_;
  std::vector<TokenId> special_tokens_;
};

}  // namespace kestrel::tokenizer
