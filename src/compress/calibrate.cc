#include "compress/calibrate.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <thread>
#include <vector>

#include "backend/cpu/cpu_ops.h"
#include "backend/kv_storage.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "io/gguf/gguf_file.h"
#include "model/arch/registry.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::compress {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KESTREL_CHECK(in.good(), path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sums of x_j^2 per column for one matrix input, over every row seen.
class Recorder {
 public:
  void add(const std::string& tensor, const float* x, int64_t n_rows, int64_t n_in) {
    std::vector<double>& s = sums_[tensor];
    if (s.empty()) s.assign(n_in, 0.0);
    for (int64_t r = 0; r < n_rows; ++r) {
      const float* row = x + r * n_in;
      for (int64_t j = 0; j < n_in; ++j) s[j] += static_cast<double>(row[j]) * row[j];
    }
  }
  void finish(int64_t n_tokens, ImportanceMatrix& out) const {
    for (const auto& [name, s] : sums_) {
      std::vector<float>& v = out.columns[name];
      v.resize(s.size());
      for (size_t j = 0; j < s.size(); ++j) v[j] = static_cast<float>(s[j] / n_tokens);
    }
  }

 private:
  std::map<std::string, std::vector<double>> sums_;
};

// The decoder of src/model/decoder_model.cc for one sequence of up to n_ctx tokens at a time,
// recording every matrix product's input.
class CalibrationForward {
 public:
  CalibrationForward(const io::GgufFile& file, const model::HParams& hp, int n_threads,
                     int32_t n_ctx)
      : hp_(hp), n_ctx_(n_ctx), pool_(n_threads), ops_(pool_),
        kv_(hp.n_layer, (n_ctx + kBlock - 1) / kBlock * kBlock, hp.kv_row()) {
    const model::WeightLoader w(file);
    const int64_t q_dim = static_cast<int64_t>(hp.n_head) * hp.head_dim;
    tok_embd_ = w.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    output_name_ = w.has("output.weight") ? "output.weight" : "token_embd.weight";
    output_norm_ = w.vector("output_norm.weight", hp.n_embd);
    layers_.resize(hp.n_layer);
    for (int il = 0; il < hp.n_layer; ++il) {
      const std::string p = "blk." + std::to_string(il) + ".";
      model::LayerWeights& l = layers_[il];
      l.attn_norm = w.vector(p + "attn_norm.weight", hp.n_embd);
      l.wq = w.matrix(p + "attn_q.weight", hp.n_embd, q_dim);
      l.wk = w.matrix(p + "attn_k.weight", hp.n_embd, hp.kv_row());
      l.wv = w.matrix(p + "attn_v.weight", hp.n_embd, hp.kv_row());
      l.wo = w.matrix(p + "attn_output.weight", q_dim, hp.n_embd);
      if (hp.qkv_bias) {
        l.bq = w.vector(p + "attn_q.bias", q_dim);
        l.bk = w.vector(p + "attn_k.bias", hp.kv_row());
        l.bv = w.vector(p + "attn_v.bias", hp.kv_row());
      }
      if (hp.qk_norm) {
        l.q_norm = w.vector(p + "attn_q_norm.weight", hp.head_dim);
        l.k_norm = w.vector(p + "attn_k_norm.weight", hp.head_dim);
      }
      if (hp.post_norms) {
        l.post_attn_norm = w.vector(p + "post_attention_norm.weight", hp.n_embd);
        l.post_ffn_norm = w.vector(p + "post_ffw_norm.weight", hp.n_embd);
      }
      l.ffn_norm = w.vector(p + "ffn_norm.weight", hp.n_embd);
      l.gate = w.matrix(p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
      l.up = w.matrix(p + "ffn_up.weight", hp.n_embd, hp.n_ff);
      l.down = w.matrix(p + "ffn_down.weight", hp.n_ff, hp.n_embd);
    }
    const int64_t b = n_ctx;
    x_.resize(b * hp.n_embd);
    cur_.resize(b * std::max<int64_t>(hp.n_embd, q_dim));
    q_.resize(b * q_dim);
    k_.resize(b * hp.kv_row());
    v_.resize(b * hp.kv_row());
    attn_.resize(b * q_dim);
    gate_.resize(b * hp.n_ff);
    up_.resize(b * hp.n_ff);
    table_.resize(kv_.n_slots() / kBlock);
    std::iota(table_.begin(), table_.end(), 0);
  }

  // One independent chunk (positions 0..n-1).
  void run(const int32_t* tokens, int64_t n, Recorder& rec) {
    KESTREL_CHECK(n > 0 && n <= n_ctx_, "calibration: chunk of ", n, " tokens");
    std::vector<int32_t> pos(n), seq(n, 0);
    std::iota(pos.begin(), pos.end(), 0);
    const int64_t n_embd = hp_.n_embd;
    const float eps = hp_.norm_eps;
    float* cur = cur_.data();
    ops_.embed(tok_embd_, tokens, n, hp_.embed_scale, x_.data());
    const backend::SeqKvView view{table_.data(), static_cast<int32_t>(table_.size())};
    const std::string blk = "blk.";
    for (int il = 0; il < hp_.n_layer; ++il) {
      const model::LayerWeights& l = layers_[il];
      const std::string p = blk + std::to_string(il) + ".";
      ops_.rms_norm(x_.data(), l.attn_norm, cur, n, n_embd, eps);
      for (const char* t : {"attn_q.weight", "attn_k.weight", "attn_v.weight"}) {
        rec.add(p + t, cur, n, n_embd);
      }
      ops_.matmul(l.wq, cur, n, q_.data(), l.bq);
      ops_.matmul(l.wk, cur, n, k_.data(), l.bk);
      ops_.matmul(l.wv, cur, n, v_.data(), l.bv);
      if (hp_.qk_norm) {
        ops_.rms_norm(q_.data(), l.q_norm, q_.data(), n * hp_.n_head, hp_.head_dim, eps);
        ops_.rms_norm(k_.data(), l.k_norm, k_.data(), n * hp_.n_head_kv, hp_.head_dim, eps);
      }
      const bool swa = hp_.layer_is_swa[il] != 0;
      const float base = swa ? hp_.rope_base_swa : hp_.rope_base;
      ops_.rope(q_.data(), pos.data(), n, hp_.n_head, hp_.head_dim, hp_.n_rot, base,
                hp_.rope_style);
      ops_.rope(k_.data(), pos.data(), n, hp_.n_head_kv, hp_.head_dim, hp_.n_rot, base,
                hp_.rope_style);
      // Slot p holds position p: the block table is the identity.
      ops_.write_kv(k_.data(), v_.data(), pos.data(), n, hp_.kv_row(), kv_.k(il), kv_.v(il));
      backend::AttentionArgs a;
      a.q = q_.data();
      a.out = attn_.data();
      a.n_tokens = n;
      a.n_head = hp_.n_head;
      a.n_head_kv = hp_.n_head_kv;
      a.head_dim = hp_.head_dim;
      a.positions = pos.data();
      a.seq_of_token = seq.data();
      a.seqs = &view;
      a.block_size = kBlock;
      a.k_cache = kv_.k(il);
      a.v_cache = kv_.v(il);
      a.scale = hp_.attn_scale;
      a.window = swa ? hp_.sliding_window : 0;
      ops_.attention(a);
      rec.add(p + "attn_output.weight", attn_.data(), n, l.wo.n_in);
      ops_.matmul(l.wo, attn_.data(), n, cur, nullptr);
      if (hp_.post_norms) ops_.rms_norm(cur, l.post_attn_norm, cur, n, n_embd, eps);
      ops_.add(x_.data(), cur, n * n_embd);

      ops_.rms_norm(x_.data(), l.ffn_norm, cur, n, n_embd, eps);
      rec.add(p + "ffn_gate.weight", cur, n, n_embd);
      rec.add(p + "ffn_up.weight", cur, n, n_embd);
      ops_.matmul(l.gate, cur, n, gate_.data(), nullptr);
      ops_.matmul(l.up, cur, n, up_.data(), nullptr);
      ops_.glu(gate_.data(), up_.data(), gate_.data(), n * hp_.n_ff, hp_.activation);
      rec.add(p + "ffn_down.weight", gate_.data(), n, hp_.n_ff);
      ops_.matmul(l.down, gate_.data(), n, cur, nullptr);
      if (hp_.post_norms) ops_.rms_norm(cur, l.post_ffn_norm, cur, n, n_embd, eps);
      ops_.add(x_.data(), cur, n * n_embd);
    }
    ops_.rms_norm(x_.data(), output_norm_, cur, n, n_embd, eps);
    rec.add(output_name_, cur, n, n_embd);
  }

 private:
  static constexpr int32_t kBlock = 16;
  const model::HParams& hp_;
  int32_t n_ctx_;
  ThreadPool pool_;
  backend::CpuOps ops_;
  backend::KvStorage kv_;
  std::vector<int32_t> table_;
  backend::WeightMatrix tok_embd_;
  std::string output_name_;
  const float* output_norm_ = nullptr;
  std::vector<model::LayerWeights> layers_;
  std::vector<float> x_, cur_, q_, k_, v_, attn_, gate_, up_;
};

}  // namespace

ImportanceMatrix collect_importance(const std::string& model_path, const std::string& text_path,
                                    const CalibrationOptions& o) {
  const std::unique_ptr<io::GgufFile> file = io::GgufFile::open(model_path);
  const std::string arch = file->get_string_or("general.architecture", "");
  const model::ArchSpec* spec = model::find_arch(arch);
  KESTREL_CHECK(spec != nullptr, model_path, ": unsupported architecture '", arch, "'");
  model::HParams hp = model::read_common_hparams(*file, arch);
  spec->read_hparams(*file, hp);
  const auto tok = tokenizer::Tokenizer::from_gguf(*file);

  std::vector<int32_t> tokens = tok->encode(read_text(text_path), /*add_special=*/true,
                                            /*parse_special=*/false);
  if (o.max_tokens > 0 && static_cast<int64_t>(tokens.size()) > o.max_tokens) {
    tokens.resize(o.max_tokens);
  }
  KESTREL_CHECK(tokens.size() >= 2, text_path, ": calibration text has fewer than 2 tokens");
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int32_t n_ctx = std::max(1, o.n_ctx);
  const int n_threads =
      o.n_threads > 0 ? o.n_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  CalibrationForward fwd(*file, hp, n_threads, n_ctx);
  Recorder rec;
  const int64_t n_chunks = (n + n_ctx - 1) / n_ctx;
  ProgressBar bar("calibrate", n_chunks, o.progress ? stderr : nullptr);
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int64_t start = c * n_ctx;
    const int64_t m = std::min<int64_t>(n_ctx, n - start);
    std::vector<int32_t> chunk(tokens.begin() + start, tokens.begin() + start + m);
    if (tok->add_bos() && tok->bos() >= 0) chunk[0] = tok->bos();
    fwd.run(chunk.data(), m, rec);
    bar.update(c + 1);
  }
  bar.finish();
  ImportanceMatrix out;
  out.n_tokens = n;
  const size_t slash = text_path.find_last_of('/');
  out.dataset = slash == std::string::npos ? text_path : text_path.substr(slash + 1);
  rec.finish(n, out);
  return out;
}

}  // namespace kestrel::compress
