#include "model/device/cuda_decoder_model.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "backend/cuda/cuda_check.h"
#include "core/error.h"
#include "core/log.h"
#include "model/arch/registry.h"
#include "model/weights.h"

namespace kestrel::model {

using backend::WeightMatrix;
using backend::cuda::DeviceBuffer;

namespace {

constexpr int kInputArrays = 5;  // ids, positions, seq_of_token, slots, logit_rows

}  // namespace

CudaDecoderModel::CudaDecoderModel(std::unique_ptr<io::GgufFile> file, HParams hp,
                                   const CudaModelOptions& options)
    : file_(std::move(file)),
      hp_(std::move(hp)),
      tokenizer_(tokenizer::Tokenizer::from_gguf(*file_)),
      max_batch_(std::max<int64_t>(1, options.max_batch)),
      max_context_(options.max_context > 0
                       ? options.max_context
                       : std::min<int32_t>(hp_.n_ctx_train > 0 ? hp_.n_ctx_train : 8192, 8192)),
      use_graphs_(options.use_graphs) {
  KESTREL_CHECK(tokenizer_->n_vocab() == hp_.n_vocab, "model: tokenizer has ", tokenizer_->n_vocab(),
                " tokens but the model's vocabulary is ", hp_.n_vocab);
  upload_weights();
  const int64_t b = max_batch_;
  const int64_t q_dim = static_cast<int64_t>(hp_.n_head) * hp_.head_dim;
  auto floats = [](int64_t n) { return DeviceBuffer(static_cast<size_t>(n) * sizeof(float)); };
  x_ = floats(b * hp_.n_embd);
  cur_ = floats(b * std::max<int64_t>(hp_.n_embd, q_dim));
  q_ = floats(b * q_dim);
  k_ = floats(b * hp_.kv_row());
  v_ = floats(b * hp_.kv_row());
  attn_ = floats(b * q_dim);
  gate_ = floats(b * hp_.n_ff);
  up_ = floats(b * hp_.n_ff);
  logits_ = floats(b * hp_.n_vocab);
  KESTREL_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&host_logits_),
                                    static_cast<size_t>(b) * hp_.n_vocab * sizeof(float)));
  log_info("model (cuda): ", hp_.arch, ", ", hp_.n_layer, " layers, ",
           static_cast<double>(weight_bytes_) / (1 << 20), " MiB of weights on ",
           backend::cuda::device_description());
}

CudaDecoderModel::~CudaDecoderModel() {
  clear_graphs();
  if (host_in_ != nullptr) cudaFreeHost(host_in_);
  if (host_logits_ != nullptr) cudaFreeHost(host_logits_);
}

void CudaDecoderModel::clear_graphs() {
  for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
  graphs_.clear();
}

WeightMatrix CudaDecoderModel::upload_matrix(const WeightMatrix& host) {
  KESTREL_CHECK(backend::cuda::CudaOps::supports(host.type), "model (cuda): weight type ",
                tensor::dtype_name(host.type), " has no CUDA kernels");
  const size_t bytes = host.row_bytes * host.n_out;
  weights_.push_back(backend::cuda::upload(host.data, bytes));
  weight_bytes_ += bytes;
  WeightMatrix d = host;
  d.data = weights_.back().get();
  return d;
}

const float* CudaDecoderModel::upload_vector(const float* host, int64_t n) {
  if (host == nullptr) return nullptr;
  weights_.push_back(backend::cuda::upload(host, static_cast<size_t>(n) * sizeof(float)));
  weight_bytes_ += static_cast<size_t>(n) * sizeof(float);
  return weights_.back().as<float>();
}

void CudaDecoderModel::upload_weights() {
  const WeightLoader w(*file_);
  const int64_t n_embd = hp_.n_embd;
  const int64_t q_dim = static_cast<int64_t>(hp_.n_head) * hp_.head_dim;
  const int64_t kv_dim = hp_.kv_row();
  tok_embd_ = upload_matrix(w.matrix("token_embd.weight", n_embd, hp_.n_vocab));
  output_ = w.has("output.weight") ? upload_matrix(w.matrix("output.weight", n_embd, hp_.n_vocab))
                                   : tok_embd_;
  output_norm_ = upload_vector(w.vector("output_norm.weight", n_embd), n_embd);
  layers_.resize(hp_.n_layer);
  for (int il = 0; il < hp_.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    DeviceLayer& l = layers_[il];
    l.attn_norm = upload_vector(w.vector(p + "attn_norm.weight", n_embd), n_embd);
    l.wq = upload_matrix(w.matrix(p + "attn_q.weight", n_embd, q_dim));
    l.wk = upload_matrix(w.matrix(p + "attn_k.weight", n_embd, kv_dim));
    l.wv = upload_matrix(w.matrix(p + "attn_v.weight", n_embd, kv_dim));
    l.wo = upload_matrix(w.matrix(p + "attn_output.weight", q_dim, n_embd));
    if (hp_.qkv_bias) {
      l.bq = upload_vector(w.vector(p + "attn_q.bias", q_dim), q_dim);
      l.bk = upload_vector(w.vector(p + "attn_k.bias", kv_dim), kv_dim);
      l.bv = upload_vector(w.vector(p + "attn_v.bias", kv_dim), kv_dim);
    }
    if (hp_.qk_norm) {
      l.q_norm = upload_vector(w.vector(p + "attn_q_norm.weight", hp_.head_dim), hp_.head_dim);
      l.k_norm = upload_vector(w.vector(p + "attn_k_norm.weight", hp_.head_dim), hp_.head_dim);
    }
    if (hp_.post_norms) {
      l.post_attn_norm = upload_vector(w.vector(p + "post_attention_norm.weight", n_embd), n_embd);
      l.post_ffn_norm = upload_vector(w.vector(p + "post_ffw_norm.weight", n_embd), n_embd);
    }
    l.ffn_norm = upload_vector(w.vector(p + "ffn_norm.weight", n_embd), n_embd);
    l.gate = upload_matrix(w.matrix(p + "ffn_gate.weight", n_embd, hp_.n_ff));
    l.up = upload_matrix(w.matrix(p + "ffn_up.weight", n_embd, hp_.n_ff));
    l.down = upload_matrix(w.matrix(p + "ffn_down.weight", hp_.n_ff, n_embd));
  }
}

void CudaDecoderModel::ensure_kv(const backend::KvStorage& kv, int32_t block_size) {
  if (kv.n_slots() == kv_slots_ && block_size == block_size_) return;
  KESTREL_CHECK(block_size > 0, "forward: block size ", block_size);
  ops_.synchronize();
  clear_graphs();  // they hold the old buffers' addresses
  const size_t bytes = static_cast<size_t>(hp_.n_layer) * kv.n_slots() * kv.row() * 2;
  k_cache_ = DeviceBuffer(std::max<size_t>(bytes, 2));
  v_cache_ = DeviceBuffer(std::max<size_t>(bytes, 2));
  kv_slots_ = kv.n_slots();
  block_size_ = block_size;
  max_blocks_per_seq_ = (max_context_ + block_size - 1) / block_size;
  in_ints_ = static_cast<size_t>(max_batch_) * (kInputArrays + max_blocks_per_seq_);
  if (host_in_ != nullptr) cudaFreeHost(host_in_);
  host_in_ = nullptr;
  KESTREL_CUDA_CHECK(cudaMallocHost(&host_in_, in_ints_ * sizeof(int32_t)));
  dev_in_ = DeviceBuffer(in_ints_ * sizeof(int32_t));
  const int64_t q_dim = static_cast<int64_t>(hp_.n_head) * hp_.head_dim;
  const int64_t widest = std::max<int64_t>({hp_.n_embd, hp_.n_ff, q_dim});
  ops_.reserve(max_batch_, widest, max_batch_ * hp_.n_head, hp_.head_dim,
               max_blocks_per_seq_ * block_size_);
}

void CudaDecoderModel::stage_inputs(const BatchView& batch) {
  const int64_t n = batch.n_tokens;
  auto* in = static_cast<int32_t*>(host_in_);
  const int64_t mb = max_batch_;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = batch.token_ids[i];
    KESTREL_CHECK(id >= 0 && id < hp_.n_vocab, "token id ", id, " out of range [0, ", hp_.n_vocab,
                  ")");
    const int32_t pos = batch.positions[i];
    KESTREL_CHECK(pos >= 0 && pos < max_blocks_per_seq_ * block_size_, "forward (cuda): position ",
                  pos, " beyond the context limit ", max_blocks_per_seq_ * block_size_);
    const int32_t s = batch.seq_of_token[i];
    KESTREL_CHECK(s >= 0 && s < batch.n_seqs, "forward: token ", i, " has sequence ", s);
    KESTREL_CHECK(pos / block_size_ < batch.seqs[s].n_blocks, "forward: position ", pos,
                  " outside its block table");
    KESTREL_CHECK(batch.slots[i] >= 0 && batch.slots[i] < kv_slots_, "forward: slot ",
                  batch.slots[i], " outside the KV cache");
    in[i] = id;
    in[mb + i] = pos;
    in[2 * mb + i] = s;
    in[3 * mb + i] = batch.slots[i];
  }
  for (int64_t i = 0; i < batch.n_logits; ++i) {
    const int32_t row = batch.logit_rows[i];
    KESTREL_CHECK(row >= 0 && row < n, "forward: logit row ", row, " outside the batch");
    in[4 * mb + i] = row;
  }
  KESTREL_CHECK(batch.n_seqs <= max_batch_, "forward: ", batch.n_seqs, " sequences in one batch");
  const int64_t n_kv_blocks = kv_slots_ / block_size_;
  int32_t* tables = in + kInputArrays * mb;
  for (int32_t s = 0; s < batch.n_seqs; ++s) {
    const backend::SeqKvView& v = batch.seqs[s];
    KESTREL_CHECK(v.n_blocks <= max_blocks_per_seq_, "forward (cuda): sequence of ", v.n_blocks,
                  " blocks beyond the context limit");
    for (int32_t b = 0; b < v.n_blocks; ++b) {
      KESTREL_CHECK(v.block_table[b] >= 0 && v.block_table[b] < n_kv_blocks, "forward: block ",
                    v.block_table[b], " outside the KV cache");
      tables[static_cast<int64_t>(s) * max_blocks_per_seq_ + b] = v.block_table[b];
    }
  }
  const size_t ints = kInputArrays * mb + static_cast<size_t>(batch.n_seqs) * max_blocks_per_seq_;
  KESTREL_CUDA_CHECK(cudaMemcpyAsync(dev_in_.get(), host_in_, ints * sizeof(int32_t),
                                     cudaMemcpyHostToDevice, ops_.stream()));
}

void CudaDecoderModel::attention_block(int il, int64_t n) {
  const DeviceLayer& l = layers_[il];
  const int64_t n_embd = hp_.n_embd;
  const float eps = hp_.norm_eps;
  const int64_t mb = max_batch_;
  const int32_t* in = dev_in_.as<int32_t>();
  float* cur = cur_.as<float>();
  float* q = q_.as<float>();
  float* k = k_.as<float>();
  float* v = v_.as<float>();
  ops_.rms_norm(x_.as<float>(), l.attn_norm, cur, n, n_embd, eps);
  ops_.matmul(l.wq, cur, n, q, l.bq);
  ops_.matmul(l.wk, cur, n, k, l.bk);
  ops_.matmul(l.wv, cur, n, v, l.bv);
  if (hp_.qk_norm) {
    ops_.rms_norm(q, l.q_norm, q, n * hp_.n_head, hp_.head_dim, eps);
    ops_.rms_norm(k, l.k_norm, k, n * hp_.n_head_kv, hp_.head_dim, eps);
  }
  const bool swa = hp_.layer_is_swa[il] != 0;
  const float base = swa ? hp_.rope_base_swa : hp_.rope_base;
  ops_.rope(q, in + mb, n, hp_.n_head, hp_.head_dim, hp_.n_rot, base, hp_.rope_style);
  ops_.rope(k, in + mb, n, hp_.n_head_kv, hp_.head_dim, hp_.n_rot, base, hp_.rope_style);
  const size_t layer_elems = static_cast<size_t>(kv_slots_) * hp_.kv_row();
  uint16_t* kc = k_cache_.as<uint16_t>() + il * layer_elems;
  uint16_t* vc = v_cache_.as<uint16_t>() + il * layer_elems;
  ops_.write_kv(k, v, in + 3 * mb, n, hp_.kv_row(), kc, vc);

  backend::cuda::DeviceAttentionArgs a;
  a.q = q;
  a.out = attn_.as<float>();
  a.n_tokens = n;
  a.n_head = hp_.n_head;
  a.n_head_kv = hp_.n_head_kv;
  a.head_dim = hp_.head_dim;
  a.positions = in + mb;
  a.seq_of_token = in + 2 * mb;
  a.block_tables = in + kInputArrays * mb;
  a.max_blocks_per_seq = max_blocks_per_seq_;
  a.block_size = block_size_;
  a.k_cache = kc;
  a.v_cache = vc;
  a.scale = hp_.attn_scale;
  a.window = swa ? hp_.sliding_window : 0;
  a.max_kv_len = max_blocks_per_seq_ * block_size_;
  ops_.attention(a);

  ops_.matmul(l.wo, attn_.as<float>(), n, cur, nullptr);
  if (hp_.post_norms) ops_.rms_norm(cur, l.post_attn_norm, cur, n, n_embd, eps);
  ops_.add(x_.as<float>(), cur, n * n_embd);
}

void CudaDecoderModel::ffn_block(int il, int64_t n) {
  const DeviceLayer& l = layers_[il];
  const int64_t n_embd = hp_.n_embd;
  float* cur = cur_.as<float>();
  float* gate = gate_.as<float>();
  ops_.rms_norm(x_.as<float>(), l.ffn_norm, cur, n, n_embd, hp_.norm_eps);
  ops_.matmul(l.gate, cur, n, gate, nullptr);
  ops_.matmul(l.up, cur, n, up_.as<float>(), nullptr);
  ops_.glu(gate, up_.as<float>(), gate, n * hp_.n_ff, hp_.activation);
  ops_.matmul(l.down, gate, n, cur, nullptr);
  if (hp_.post_norms) ops_.rms_norm(cur, l.post_ffn_norm, cur, n, n_embd, hp_.norm_eps);
  ops_.add(x_.as<float>(), cur, n * n_embd);
}

void CudaDecoderModel::run_layers(int64_t n, int64_t n_logits) {
  const int32_t* in = dev_in_.as<int32_t>();
  ops_.embed(tok_embd_, in, n, hp_.embed_scale, x_.as<float>());
  for (int il = 0; il < hp_.n_layer; ++il) {
    attention_block(il, n);
    ffn_block(il, n);
  }
  // Only the rows whose logits are wanted go through the output norm and the vocabulary matmul.
  float* h = cur_.as<float>();
  ops_.gather_rows(x_.as<float>(), in + 4 * max_batch_, n_logits, hp_.n_embd, h);
  ops_.rms_norm(h, output_norm_, h, n_logits, hp_.n_embd, hp_.norm_eps);
  ops_.matmul(output_, h, n_logits, logits_.as<float>(), nullptr);
}

void CudaDecoderModel::forward(const BatchView& batch, backend::KvStorage& kv, float* logits) {
  const int64_t n = batch.n_tokens;
  KESTREL_CHECK(n > 0 && n <= max_batch_, "forward: batch of ", n, " tokens (limit ", max_batch_,
                ")");
  KESTREL_CHECK(kv.row() == hp_.kv_row(), "forward: KV storage row ", kv.row(), " != ",
                hp_.kv_row());
  KESTREL_CHECK(batch.n_logits >= 0 && batch.n_logits <= n, "forward: ", batch.n_logits,
                " logit rows for ", n, " tokens");
  ensure_kv(kv, batch.block_size);
  stage_inputs(batch);
  const cudaStream_t stream = ops_.stream();
  if (use_graphs_ && n <= kGraphMaxTokens) {
    const auto key = std::make_pair(n, batch.n_logits);
    auto it = graphs_.find(key);
    if (it == graphs_.end()) {
      cudaGraph_t graph = nullptr;
      KESTREL_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
      try {
        run_layers(n, batch.n_logits);
      } catch (...) {
        cudaStreamEndCapture(stream, &graph);
        if (graph != nullptr) cudaGraphDestroy(graph);
        throw;
      }
      KESTREL_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
      cudaGraphExec_t exec = nullptr;
      const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphDestroy(graph);
      KESTREL_CUDA_CHECK(err);
      it = graphs_.emplace(key, exec).first;
    }
    KESTREL_CUDA_CHECK(cudaGraphLaunch(it->second, stream));
  } else {
    run_layers(n, batch.n_logits);
  }
  const size_t bytes = static_cast<size_t>(batch.n_logits) * hp_.n_vocab * sizeof(float);
  KESTREL_CUDA_CHECK(cudaMemcpyAsync(host_logits_, logits_.get(), bytes, cudaMemcpyDeviceToHost,
                                     stream));
  ops_.synchronize();
  std::memcpy(logits, host_logits_, bytes);
}

std::unique_ptr<Model> load_cuda_model(const std::string& path, const CudaModelOptions& options) {
  std::unique_ptr<io::GgufFile> file = io::GgufFile::open(path);
  const std::string arch = file->get_string_or("general.architecture", "");
  KESTREL_CHECK(!arch.empty(), path, ": no general.architecture key");
  const ArchSpec* spec = find_arch(arch);
  KESTREL_CHECK(spec != nullptr, path, ": unsupported architecture '", arch,
                "' (supported: ", supported_archs(), ")");
  HParams hp = read_common_hparams(*file, arch);
  spec->read_hparams(*file, hp);
  return std::make_unique<CudaDecoderModel>(std::move(file), std::move(hp), options);
}

}  // namespace kestrel::model
