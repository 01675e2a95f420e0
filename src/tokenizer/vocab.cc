#include "tokenizer/vocab.h"

#include <algorithm>
#include <initializer_list>

#include "core/error.h"
#include "io/gguf/gguf_file.h"

namespace kestrel::tokenizer {
namespace {

std::optional<int64_t> opt_int(const io::GgufFile& f, std::string_view key) {
  if (f.find(key) == nullptr) return std::nullopt;
  return f.get_int(key);
}

std::optional<bool> opt_bool(const io::GgufFile& f, std::string_view key) {
  if (f.find(key) == nullptr) return std::nullopt;
  return f.get_bool_or(key, false);
}

// GGUF token types (llama.cpp's llama_token_type) to attributes.
uint32_t attr_from_type(int32_t type) {
  switch (type) {
    case 1:
      return kAttrNormal;
    case 2:
      return kAttrUnknown;
    case 3:
      return kAttrControl;
    case 4:
      return kAttrUserDefined;
    case 5:
      return kAttrUnused;
    case 6:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

bool is_one_of(const std::string& s, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string merge_key(std::string_view left, std::string_view right) {
  std::string key;
  key.reserve(left.size() + right.size() + 1);
  key.append(left);
  key += '\xff';  // never part of valid UTF-8, so the key is unambiguous
  key.append(right);
  return key;
}

}  // namespace

VocabData read_vocab_data(const io::GgufFile& f) {
  VocabData d;
  d.model = f.get_string_or("tokenizer.ggml.model", "");
  d.pre = f.get_string_or("tokenizer.ggml.pre", "");
  KESTREL_CHECK(f.find("tokenizer.ggml.tokens") != nullptr,
                "tokenizer: the model has no vocabulary (tokenizer.ggml.tokens is missing)");
  d.tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (f.find("tokenizer.ggml.scores") != nullptr) {
    const auto& s = f.get_float_array("tokenizer.ggml.scores");
    d.scores.assign(s.begin(), s.end());
  }
  if (f.find("tokenizer.ggml.token_type") != nullptr) {
    const auto& t = f.get_int_array("tokenizer.ggml.token_type");
    d.token_types.assign(t.begin(), t.end());
  }
  if (f.find("tokenizer.ggml.merges") != nullptr) {
    d.merges = f.get_string_array("tokenizer.ggml.merges");
  }
  d.bos_id = opt_int(f, "tokenizer.ggml.bos_token_id");
  d.eos_id = opt_int(f, "tokenizer.ggml.eos_token_id");
  d.eot_id = opt_int(f, "tokenizer.ggml.eot_token_id");
  d.eom_id = opt_int(f, "tokenizer.ggml.eom_token_id");
  d.unk_id = opt_int(f, "tokenizer.ggml.unknown_token_id");
  d.sep_id = opt_int(f, "tokenizer.ggml.seperator_token_id");  // sic: the key GGUF uses
  d.pad_id = opt_int(f, "tokenizer.ggml.padding_token_id");
  d.mask_id = opt_int(f, "tokenizer.ggml.mask_token_id");
  d.fim_pre_id = opt_int(f, "tokenizer.ggml.fim_pre_token_id");
  d.fim_suf_id = opt_int(f, "tokenizer.ggml.fim_suf_token_id");
  d.fim_mid_id = opt_int(f, "tokenizer.ggml.fim_mid_token_id");
  d.fim_pad_id = opt_int(f, "tokenizer.ggml.fim_pad_token_id");
  d.fim_rep_id = opt_int(f, "tokenizer.ggml.fim_rep_token_id");
  d.fim_sep_id = opt_int(f, "tokenizer.ggml.fim_sep_token_id");
  d.add_bos = opt_bool(f, "tokenizer.ggml.add_bos_token");
  d.add_eos = opt_bool(f, "tokenizer.ggml.add_eos_token");
  d.add_space_prefix = opt_bool(f, "tokenizer.ggml.add_space_prefix");
  return d;
}

Vocab::Vocab(VocabData data) {
  if (data.model == "gpt2") {
    type_ = VocabType::kBpe;
  } else if (data.model == "llama") {
    type_ = VocabType::kSpm;
  } else {
    fail("tokenizer: unsupported tokenizer model '", data.model,
         "' (tokenizer.ggml.model; supported: gpt2, llama)");
  }
  const size_t n = data.tokens.size();
  KESTREL_CHECK(n > 0, "tokenizer: tokenizer.ggml.tokens is empty");
  KESTREL_CHECK(n < static_cast<size_t>(INT32_MAX), "tokenizer: too many tokens (", n, ")");
  KESTREL_CHECK(data.scores.empty() || data.scores.size() == n, "tokenizer: ", data.scores.size(),
                " scores for ", n, " tokens");
  KESTREL_CHECK(data.token_types.empty() || data.token_types.size() == n,
                "tokenizer: ", data.token_types.size(), " token types for ", n, " tokens");

  tokens_.resize(n);
  text_to_id_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& t = tokens_[i];
    t.text = std::move(data.tokens[i]);
    // llama.cpp renames empty entries so that they stay unique and never match text.
    if (t.text.empty()) t.text = "[EMPTY_" + std::to_string(i) + "]";
    t.score = data.scores.empty() ? 0.0f : data.scores[i];
    t.attr = data.token_types.empty() ? kAttrNormal : attr_from_type(data.token_types[i]);
    text_to_id_[t.text] = static_cast<TokenId>(i);  // duplicates: the last id wins
  }

  if (type_ == VocabType::kBpe) {
    KESTREL_CHECK(!data.merges.empty(),
                  "tokenizer: BPE vocabulary without merges (tokenizer.ggml.merges)");
    merge_rank_.reserve(data.merges.size());
    for (size_t i = 0; i < data.merges.size(); ++i) {
      const std::string& m = data.merges[i];
      // The separator is the first space after the first byte (a merge may start with a space).
      const size_t pos = m.find(' ', 1);
      std::string_view left, right;
      if (pos != std::string::npos) {
        left = std::string_view(m).substr(0, pos);
        right = std::string_view(m).substr(pos + 1);
      }
      merge_rank_.emplace(merge_key(left, right), static_cast<int>(i));  // first rank wins
    }
  }
  set_defaults(data);
  detect_special_tokens();
}

void Vocab::set_defaults(const VocabData& d) {
  if (type_ == VocabType::kSpm) {
    bos_ = 1;
    eos_ = 2;
    unk_ = 0;
    add_bos_ = true;
    add_space_prefix_ = true;
    clean_spaces_ = false;
  } else {
    bos_ = 11;
    eos_ = 11;
    add_space_prefix_ = false;
    clean_spaces_ = true;
    const std::string& pre = d.pre;
    if (pre.empty() || pre == "default") {
      pre_type_ = PreType::kDefault;
    } else if (is_one_of(pre, {"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
      pre_type_ = PreType::kLlama3;
      ignore_merges_ = true;
      add_bos_ = true;
    } else if (is_one_of(pre, {"gpt-2", "gpt2", "phi-2"})) {
      pre_type_ = PreType::kGpt2;
    } else if (is_one_of(pre, {"qwen2", "deepseek-r1-qwen"})) {
      pre_type_ = PreType::kQwen2;
      clean_spaces_ = false;
    } else if (pre == "smollm") {
      pre_type_ = PreType::kSmolLm;
      clean_spaces_ = false;
    } else {
      fail("tokenizer: unknown pre-tokenizer '", pre,
           "' (tokenizer.ggml.pre; supported: default, gpt-2, llama-bpe, qwen2, smollm)");
    }
  }
  // Ids outside the vocabulary are ignored (llama.cpp warns and keeps its default).
  auto take = [&](const std::optional<int64_t>& v, TokenId& id) {
    if (v && *v >= 0 && *v < n_tokens()) id = static_cast<TokenId>(*v);
  };
  take(d.bos_id, bos_);
  take(d.eos_id, eos_);
  take(d.eot_id, eot_);
  take(d.eom_id, eom_);
  take(d.unk_id, unk_);
  take(d.fim_pad_id, fim_pad_);
  take(d.fim_rep_id, fim_rep_);
  take(d.fim_sep_id, fim_sep_);
  if (d.add_bos) add_bos_ = *d.add_bos;
  if (d.add_eos) add_eos_ = *d.add_eos;
  if (d.add_space_prefix) add_space_prefix_ = *d.add_space_prefix;
  if (!valid(bos_)) bos_ = -1;
  if (!valid(eos_)) eos_ = -1;
  KESTREL_CHECK(!add_bos_ || bos_ >= 0, "tokenizer: add_bos_token is set but there is no BOS");
  KESTREL_CHECK(!add_eos_ || eos_ >= 0, "tokenizer: add_eos_token is set but there is no EOS");
}

// Older conversions do not record EOT/FIM ids, so llama.cpp recognises them by their text and
// builds the end-of-generation set from that; this follows it so that generation stops at the
// same tokens. Ids are scanned in ascending order where llama.cpp's map order is unspecified.
void Vocab::detect_special_tokens() {
  auto force_control = [&](TokenId id) { tokens_[static_cast<size_t>(id)].attr = kAttrControl; };
  auto detect = [&](TokenId& slot, std::initializer_list<std::string_view> names) {
    if (slot >= 0) return;
    for (TokenId id = 0; id < n_tokens(); ++id) {
      if (is_one_of(tokens_[static_cast<size_t>(id)].text, names)) {
        slot = id;
        if ((tokens_[static_cast<size_t>(id)].attr & kAttrControl) == 0) force_control(id);
        return;
      }
    }
  };
  detect(eot_, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
                "_<EOT>",
                "<\xEF\xBD\x9C"
                "end\xE2\x96\x81"
                "of\xE2\x96\x81"
                "sentence\xEF\xBD\x9C>",
                "<end_of_utterance>"});
  detect(eom_, {"<|eom_id|>"});
  detect(fim_pad_, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"});
  detect(fim_rep_, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  detect(fim_sep_, {"<|file_sep|>"});

  for (TokenId id : {fim_pad_, fim_rep_, fim_sep_}) {
    if (id >= 0) eog_.insert(id);
  }
  for (TokenId id = 0; id < n_tokens(); ++id) {
    TokenData& t = tokens_[static_cast<size_t>(id)];
    if (is_one_of(t.text, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
                           "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
                           "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", "</s>"})) {
      eog_.insert(id);
      t.attr |= kAttrControl;  // rendered only with special=true, never split as plain text
    }
  }
  for (TokenId id : {eos_, eot_, eom_}) {
    if (id >= 0) eog_.insert(id);
  }

  for (TokenId id = 0; id < n_tokens(); ++id) {
    if (tokens_[static_cast<size_t>(id)].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      special_tokens_.push_back(id);
    }
  }
  std::stable_sort(special_tokens_.begin(), special_tokens_.end(), [&](TokenId a, TokenId b) {
    return token(a).text.size() > token(b).text.size();
  });
}

TokenId Vocab::text_to_token(std::string_view text) const {
  // Heterogeneous lookup needs C++20 transparent hashing on unordered_map; a temporary string is
  // cheap next to the merge loop that calls this.
  auto it = text_to_id_.find(std::string(text));
  return it == text_to_id_.end() ? -1 : it->second;
}

int Vocab::bpe_rank(std::string_view left, std::string_view right) const {
  auto it = merge_rank_.find(merge_key(left, right));
  return it == merge_rank_.end() ? -1 : it->second;
}

TokenId Vocab::byte_to_token(uint8_t byte) const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const char buf[7] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>', 0};
  TokenId id = text_to_token(buf);
  if (id >= 0) return id;
  id = text_to_token(std::string(1, static_cast<char>(byte)));
  if (id >= 0) return id;
  KESTREL_CHECK(unk_ >= 0, "tokenizer: no token for byte ", static_cast<int>(byte),
                " and no unknown token");
  return unk_;
}

}  // namespace kestrel::tokenizer
