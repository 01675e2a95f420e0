// Paged causal attention with an online softmax: one pass over the visible keys per (token, head),
// keeping the running max m, the running sum l and the weighted value sum acc, rescaled when m
// grows. Memory: O(head_dim) per task, whatever the context length.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"

namespace kestrel::backend {

void CpuOps::attention(const AttentionArgs& a) {
  const int group = a.n_head / a.n_head_kv;
  const int64_t kv_row = static_cast<int64_t>(a.n_head_kv) * a.head_dim;
  const int64_t q_row = static_cast<int64_t>(a.n_head) * a.head_dim;
  KESTREL_CHECK(a.head_dim <= 512, "attention: head_dim ", a.head_dim, " above 512");
  pool_.parallel_for(a.n_tokens * a.n_head, 1, [&](int64_t i0, int64_t i1, int) {
    float acc[512];
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = i / a.n_head;
      const int h = static_cast<int>(i % a.n_head);
      const int hk = h / group;
      const float* q = a.q + t * q_row + static_cast<int64_t>(h) * a.head_dim;
      const SeqKvView& seq = a.seqs[a.seq_of_token[t]];
      const int32_t pos = a.positions[t];
      const int32_t first = a.window > 0 ? std::max<int32_t>(0, pos - a.window + 1) : 0;
      std::fill(acc, acc + a.head_dim, 0.0f);
      float m = -std::numeric_limits<float>::infinity();
      float l = 0.0f;
      for (int32_t j = first; j <= pos; ++j) {
        const int64_t slot =
            static_cast<int64_t>(seq.block_table[j / a.block_size]) * a.block_size +
            j % a.block_size;
        const uint16_t* k = a.k_cache + slot * kv_row + static_cast<int64_t>(hk) * a.head_dim;
        float s = 0.0f;
        for (int d = 0; d < a.head_dim; ++d) s += q[d] * f16_to_f32_fast(k[d]);
        s *= a.scale;
        if (s > m) {
          const float r = std::exp(m - s);  // 0 on the first key (m = -inf)
          for (int d = 0; d < a.head_dim; ++d) acc[d] *= r;
          l *= r;
          m = s;
        }
        const float p = std::exp(s - m);
        l += p;
        const uint16_t* v = a.v_cache + slot * kv_row + static_cast<int64_t>(hk) * a.head_dim;
        for (int d = 0; d < a.head_dim; ++d) acc[d] += p * f16_to_f32_fast(v[d]);
      }
      float* out = a.out + t * q_row + static_cast<int64_t>(h) * a.head_dim;
      const float inv = l > 0.0f ? 1.0f / l : 0.0f;
      for (int d = 0; d < a.head_dim; ++d) out[d] = acc[d] * inv;
    }
  });
}

}  // namespace kestrel::backend
