#include "model/hparams.h"

#include <cmath>

#include "core/error.h"
#include "io/gguf/gguf_file.h"

namespace kestrel::model {
namespace {

int32_t read_positive(const io::GgufFile& f, const std::string& key, int64_t max) {
  const int64_t v = f.get_int(key);
  KESTREL_CHECK(v > 0 && v <= max, "model: ", key, " = ", v, " is out of range (1..", max, ")");
  return static_cast<int32_t>(v);
}

}  // namespace

HParams read_common_hparams(const io::GgufFile& f, const std::string& arch) {
  HParams hp;
  hp.arch = arch;
  const std::string p = arch + ".";
  hp.n_layer = read_positive(f, p + "block_count", 1024);
  hp.n_embd = read_positive(f, p + "embedding_length", 1 << 16);
  hp.n_ff = read_positive(f, p + "feed_forward_length", 1 << 18);
  hp.n_head = read_positive(f, p + "attention.head_count", 1024);
  hp.n_head_kv = f.find(p + "attention.head_count_kv") != nullptr
                     ? read_positive(f, p + "attention.head_count_kv", 1024)
                     : hp.n_head;
  KESTREL_CHECK(hp.n_head % hp.n_head_kv == 0, "model: head_count ", hp.n_head,
                " is not a multiple of head_count_kv ", hp.n_head_kv);
  hp.n_ctx_train = static_cast<int32_t>(f.get_int_or(p + "context_length", 2048));
  hp.head_dim = f.find(p + "attention.key_length") != nullptr
                    ? read_positive(f, p + "attention.key_length", 1024)
                    : hp.n_embd / hp.n_head;
  const int64_t value_length = f.get_int_or(p + "attention.value_length", hp.head_dim);
  KESTREL_CHECK(value_length == hp.head_dim, "model: attention.value_length ", value_length,
                " differs from key_length ", hp.head_dim, " (unsupported)");
  hp.n_rot = static_cast<int32_t>(f.get_int_or(p + "rope.dimension_count", hp.head_dim));
  KESTREL_CHECK(hp.n_rot > 0 && hp.n_rot <= hp.head_dim && hp.n_rot % 2 == 0,
                "model: rope.dimension_count ", hp.n_rot, " is invalid for head size ",
                hp.head_dim);
  hp.norm_eps = static_cast<float>(f.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  hp.rope_base = static_cast<float>(f.get_float_or(p + "rope.freq_base", 10000.0));
  hp.rope_base_swa = hp.rope_base;
  hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  hp.layer_is_swa.assign(hp.n_layer, 0);
  // The vocabulary size is the token list's length when the arch key is absent.
  if (f.find(p + "vocab_size") != nullptr) {
    hp.n_vocab = read_positive(f, p + "vocab_size", 1 << 22);
  } else {
    hp.n_vocab = static_cast<int32_t>(f.get_string_array("tokenizer.ggml.tokens").size());
  }
  return hp;
}

}  // namespace kestrel::model
