// The trainable form of a llama-family decoder: every weight as a plain row-major array of T
// (float for training, double for the finite-difference gradient checks), shapes as GGUF stores
// them (a matrix is n_out rows of n_in elements, y = W x).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kestrel::train {

struct Config {
  int32_t n_vocab = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t n_ff = 0;
  int32_t n_rot = 0;
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  bool rope_neox = false;  // rotate halves instead of adjacent pairs
  bool tied_output = true;  // the output matrix is the token embedding

  int64_t q_dim() const { return static_cast<int64_t>(n_head) * head_dim; }
  int64_t kv_dim() const { return static_cast<int64_t>(n_head_kv) * head_dim; }
};

template <class T>
struct LayerParams {
  std::vector<T> attn_norm;  // [n_embd]
  std::vector<T> wq;         // [q_dim rows, n_embd]
  std::vector<T> wk;         // [kv_dim rows, n_embd]
  std::vector<T> wv;         // [kv_dim rows, n_embd]
  std::vector<T> wo;         // [n_embd rows, q_dim]
  std::vector<T> ffn_norm;   // [n_embd]
  std::vector<T> gate;       // [n_ff rows, n_embd]
  std::vector<T> up;         // [n_ff rows, n_embd]
  std::vector<T> down;       // [n_embd rows, n_ff]
};

template <class T>
struct Params {
  std::vector<T> tok_embd;     // [n_vocab rows, n_embd]
  std::vector<T> output;       // [n_vocab rows, n_embd]; empty when tied to tok_embd
  std::vector<T> output_norm;  // [n_embd]
  std::vector<LayerParams<T>> layers;
};

// Allocates zeroed tensors of the config's shapes.
template <class T>
Params<T> zero_params(const Config& cfg);

// Visits every tensor with its GGUF name ("blk.3.ffn_up.weight", ...), its shape (ne[0] = n_in
// first) and whether it is an embedding/output matrix (which distillation may freeze).
struct TensorRef {
  std::string name;
  int n_dims;
  int64_t ne[2];
  bool embedding;
};
template <class T>
void for_each_tensor(const Config& cfg, Params<T>& p,
                     const std::function<void(const TensorRef&, std::vector<T>&)>& fn);

}  // namespace kestrel::train
