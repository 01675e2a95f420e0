// Paged causal attention, computed the way GGUF's reference engine computes it without flash
// attention, so greedy generations agree token for token: the query is rounded to F16 (the K
// cache's dot-product format), scores are F16 x F16 dot products accumulated in F32, the softmax
// runs in F32 with a double-precision sum, and the normalized probabilities are rounded to F16
// before they weight the F16 values. Small quantized models are sensitive enough that skipping
// either rounding moves logits by tenths (measured: docs/correctness.md).
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"
#include "quant/fp16.h"

namespace kestrel::backend {

void CpuOps::attention(const AttentionArgs& a) {
  constexpr int kMaxHeadDim = 512;
  KESTREL_CHECK(a.head_dim <= kMaxHeadDim, "attention: head_dim ", a.head_dim, " above ",
                kMaxHeadDim);
  const int group = a.n_head / a.n_head_kv;
  const int64_t kv_row = static_cast<int64_t>(a.n_head_kv) * a.head_dim;
  const int64_t q_row = static_cast<int64_t>(a.n_head) * a.head_dim;
  int32_t max_pos = 0;
  for (int64_t t = 0; t < a.n_tokens; ++t) max_pos = std::max(max_pos, a.positions[t]);
  // One row of scores per thread, grown to the longest context seen (no allocation in steady state).
  const size_t need = static_cast<size_t>(pool_.size()) * (max_pos + 1);
  if (score_scratch_.size() < need) score_scratch_.resize(need);

  const DotF16Fn dot_f16 = kernels_.dot_f16;
  const AxpyF16Fn axpy_f16 = kernels_.axpy_f16;
  pool_.parallel_for(a.n_tokens * a.n_head, 1, [&](int64_t i0, int64_t i1, int thread) {
    float* scores = score_scratch_.data() + static_cast<size_t>(thread) * (max_pos + 1);
    float q[kMaxHeadDim];
    float acc[kMaxHeadDim];
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = i / a.n_head;
      const int h = static_cast<int>(i % a.n_head);
      const int hk = h / group;
      const float* q32 = a.q + t * q_row + static_cast<int64_t>(h) * a.head_dim;
      for (int d = 0; d < a.head_dim; ++d) q[d] = f16_to_f32_fast(quant::fp32_to_fp16(q32[d]));
      const SeqKvView& seq = a.seqs[a.seq_of_token[t]];
      const int32_t pos = a.positions[t];
      const int32_t first = a.window > 0 ? std::max<int32_t>(0, pos - a.window + 1) : 0;
      auto slot_of = [&](int32_t j) {
        return static_cast<int64_t>(seq.block_table[j / a.block_size]) * a.block_size +
               j % a.block_size;
      };

      float m = -std::numeric_limits<float>::infinity();
      for (int32_t j = first; j <= pos; ++j) {
        const uint16_t* k = a.k_cache + slot_of(j) * kv_row + static_cast<int64_t>(hk) * a.head_dim;
        const float s = dot_f16(q, k, a.head_dim) * a.scale;
        scores[j - first] = s;
        m = std::max(m, s);
      }
      double sum = 0.0;
      for (int32_t j = first; j <= pos; ++j) {
        const float e = std::exp(scores[j - first] - m);
        scores[j - first] = e;
        sum += e;
      }
      const float inv = static_cast<float>(1.0 / sum);
      std::fill(acc, acc + a.head_dim, 0.0f);
      for (int32_t j = first; j <= pos; ++j) {
        const float p = f16_to_f32_fast(quant::fp32_to_fp16(scores[j - first] * inv));
        const uint16_t* v = a.v_cache + slot_of(j) * kv_row + static_cast<int64_t>(hk) * a.head_dim;
        axpy_f16(p, v, acc, a.head_dim);
      }
      float* out = a.out + t * q_row + static_cast<int64_t>(h) * a.head_dim;
      std::copy(acc, acc + a.head_dim, out);
    }
  });
}

}  // namespace kestrel::backend
