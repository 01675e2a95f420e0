// Forward and reverse-mode backward pass of a llama-family decoder (token embedding, pre-norm
// RMSNorm, attention with RoPE and grouped-query heads, SwiGLU feed-forward, final RMSNorm, output
// matrix) over one causal sequence at positions 0..n-1, in T = float or double.
//
// The forward pass keeps every intermediate the backward pass needs in a ForwardCache (about
// n * (12 * n_embd + 4 * n_ff) + n_head * n * n values per layer); calibration reads the same
// cache to measure activations. backward() accumulates into `grads` (add, not overwrite).
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"

namespace kestrel {
class ThreadPool;
}

namespace kestrel::train {

template <class T>
struct LayerCache {
  std::vector<T> x_in;   // [n, n_embd] residual stream entering the layer
  std::vector<T> r1;     // [n] 1/rms of x_in
  std::vector<T> h1;     // [n, n_embd] normed attention input
  std::vector<T> q;      // [n, q_dim] after RoPE
  std::vector<T> k;      // [n, kv_dim] after RoPE
  std::vector<T> v;      // [n, kv_dim]
  std::vector<T> p;      // [n_head, n, n] attention probabilities (row i: keys 0..i)
  std::vector<T> a;      // [n, q_dim] attention output, input of wo
  std::vector<T> x_mid;  // [n, n_embd] residual after attention
  std::vector<T> r2;     // [n]
  std::vector<T> h2;     // [n, n_embd] normed FFN input
  std::vector<T> g;      // [n, n_ff] gate projection
  std::vector<T> u;      // [n, n_ff] up projection
  std::vector<T> s;      // [n, n_ff] silu(g) * u, input of down
};

template <class T>
struct ForwardCache {
  std::vector<int32_t> tokens;
  std::vector<LayerCache<T>> layers;
  std::vector<T> x_out;  // [n, n_embd] residual stream after the last layer
  std::vector<T> r_out;  // [n]
  std::vector<T> h_out;  // [n, n_embd] after the output norm
};

// logits: [n, n_vocab]. Token ids must lie in [0, n_vocab) (checked).
template <class T>
void forward(const Config& cfg, const Params<T>& p, const int32_t* tokens, int64_t n,
             ThreadPool* pool, ForwardCache<T>& cache, T* logits);

// Adds d(loss)/d(params) for the cached forward pass given dlogits [n, n_vocab]. With
// embedding_grads false the token embedding and output matrix get no gradient (cheaper; they are
// frozen).
template <class T>
void backward(const Config& cfg, const Params<T>& p, const ForwardCache<T>& cache,
              const T* dlogits, ThreadPool* pool, bool embedding_grads, Params<T>& grads);

}  // namespace kestrel::train
