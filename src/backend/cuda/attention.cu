// Paged causal attention split over the key range (flash-decoding), in three kernels:
//   1. stats: per (token, head, split), the max m and sum l of exp(score - m) over the split's keys;
//   2. pv:    per (token, head, split), the global max and sum from all splits' stats, then the
//             split's sum of p * v with p = exp(score - max) / sum rounded to F16;
//   3. reduce: per (token, head), the sum of the splits' partial outputs.
// Scores are recomputed in pass 2 instead of being stored, so scratch memory does not grow with
// the context. The rounding points are the CPU backend's (src/backend/cpu/attention.cc): the
// query is rounded to F16, scores accumulate F16 x F16 products in F32, the normalized
// probabilities are rounded to F16 before weighting the F16 values.
//
// Splits cover absolute positions [s * kAttnSplitLen, (s + 1) * kAttnSplitLen); the grid has
// ceil(max_kv_len / kAttnSplitLen) of them and splits outside a token's visible range exit early,
// so one launch configuration (and one captured graph) serves every context length up to
// max_kv_len.
#include <algorithm>
#include <cmath>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace kestrel::backend::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kMaxHeadDim = 512;
constexpr int kDimsPerThread = kMaxHeadDim / kThreads;

struct Span {
  int64_t th;  // token * n_head + head
  int hk;      // KV head
  int32_t lo, hi;  // visible keys of this split: [lo, hi)
  const int32_t* table;
};

__device__ Span split_span(const DeviceAttentionArgs& a) {
  Span s;
  s.th = blockIdx.x;
  const int64_t t = s.th / a.n_head;
  const int h = static_cast<int>(s.th % a.n_head);
  s.hk = h / (a.n_head / a.n_head_kv);
  const int32_t pos = a.positions[t];
  const int32_t first = a.window > 0 ? max(0, pos - a.window + 1) : 0;
  const int32_t split_lo = static_cast<int32_t>(blockIdx.y) * kAttnSplitLen;
  s.lo = max(first, split_lo);
  s.hi = min(pos + 1, split_lo + kAttnSplitLen);
  s.table = a.block_tables + static_cast<int64_t>(a.seq_of_token[t]) * a.max_blocks_per_seq;
  return s;
}

__device__ __forceinline__ int64_t slot_of(const Span& s, int32_t j, int32_t block_size) {
  return static_cast<int64_t>(s.table[j / block_size]) * block_size + j % block_size;
}

// The query head, rounded to F16, into shared memory.
__device__ void load_query(const DeviceAttentionArgs& a, const Span& s, float* q_s) {
  const float* q = a.q + s.th * a.head_dim;
  for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x) q_s[d] = round_half(q[d]);
  __syncthreads();
}

__device__ float score(const DeviceAttentionArgs& a, const Span& s, const float* q_s,
                       int64_t slot) {
  const int64_t kv_row = static_cast<int64_t>(a.n_head_kv) * a.head_dim;
  const uint16_t* k = a.k_cache + slot * kv_row + static_cast<int64_t>(s.hk) * a.head_dim;
  float acc = 0.0f;
  if (a.head_dim % 8 == 0) {
    for (int d = 0; d < a.head_dim; d += 8) {
      const uint4 raw = *reinterpret_cast<const uint4*>(k + d);
      const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        acc += q_s[d + 2 * i] * half_to_float(static_cast<uint16_t>(w[i] & 0xffff));
        acc += q_s[d + 2 * i + 1] * half_to_float(static_cast<uint16_t>(w[i] >> 16));
      }
    }
  } else {
    for (int d = 0; d < a.head_dim; ++d) acc += q_s[d] * half_to_float(k[d]);
  }
  return acc * a.scale;
}

// Merges (m2, l2) into (m, l): both are sums of exp(score - max) over disjoint key sets.
__device__ __forceinline__ void merge_stats(float& m, float& l, float m2, float l2) {
  const float mm = fmaxf(m, m2);
  if (mm == -INFINITY) return;
  l = (m == -INFINITY ? 0.0f : l * expf(m - mm)) + (m2 == -INFINITY ? 0.0f : l2 * expf(m2 - mm));
  m = mm;
}

__global__ void __launch_bounds__(kThreads)
    attn_stats_kernel(const DeviceAttentionArgs a, float2* stats) {
  __shared__ float q_s[kMaxHeadDim];
  __shared__ float2 warp_stats[kThreads / 32];
  const Span s = split_span(a);
  float m = -INFINITY;
  float l = 0.0f;
  if (s.lo < s.hi) {
    load_query(a, s, q_s);
    for (int32_t j = s.lo + threadIdx.x; j < s.hi; j += kThreads) {
      const float sc = score(a, s, q_s, slot_of(s, j, a.block_size));
      merge_stats(m, l, sc, 1.0f);
    }
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float m2 = __shfl_xor_sync(kFullMask, m, o);
    const float l2 = __shfl_xor_sync(kFullMask, l, o);
    merge_stats(m, l, m2, l2);
  }
  if (threadIdx.x % 32 == 0) warp_stats[threadIdx.x / 32] = make_float2(m, l);
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kThreads / 32; ++w) merge_stats(m, l, warp_stats[w].x, warp_stats[w].y);
    stats[s.th * gridDim.y + blockIdx.y] = make_float2(m, l);
  }
}

__global__ void __launch_bounds__(kThreads)
    attn_pv_kernel(const DeviceAttentionArgs a, const float2* stats, float* part) {
  __shared__ float q_s[kMaxHeadDim];
  __shared__ float p_s[kThreads];
  __shared__ int64_t slot_s[kThreads];
  __shared__ float global_stats[2];
  const Span s = split_span(a);
  const int64_t kv_row = static_cast<int64_t>(a.n_head_kv) * a.head_dim;
  float acc[kDimsPerThread] = {};
  if (s.lo < s.hi) {
    if (threadIdx.x == 0) {
      const float2* st = stats + s.th * gridDim.y;
      float m = -INFINITY;
      for (unsigned i = 0; i < gridDim.y; ++i) m = fmaxf(m, st[i].x);
      double sum = 0.0;
      for (unsigned i = 0; i < gridDim.y; ++i) {
        if (st[i].x != -INFINITY) sum += static_cast<double>(st[i].y) * exp(double(st[i].x) - m);
      }
      global_stats[0] = m;
      global_stats[1] = static_cast<float>(1.0 / sum);
    }
    load_query(a, s, q_s);  // synchronizes, publishing global_stats too
    const float m = global_stats[0];
    const float inv = global_stats[1];
    const uint16_t* v_head = a.v_cache + static_cast<int64_t>(s.hk) * a.head_dim;
    for (int32_t t0 = s.lo; t0 < s.hi; t0 += kThreads) {
      const int32_t j = t0 + threadIdx.x;
      if (j < s.hi) {
        const int64_t slot = slot_of(s, j, a.block_size);
        p_s[threadIdx.x] = round_half(expf(score(a, s, q_s, slot) - m) * inv);
        slot_s[threadIdx.x] = slot;
      }
      __syncthreads();
      const int n = min(kThreads, s.hi - t0);
#pragma unroll
      for (int i = 0; i < kDimsPerThread; ++i) {
        const int d = threadIdx.x + i * kThreads;
        if (d < a.head_dim) {
          for (int jj = 0; jj < n; ++jj) {
            acc[i] += p_s[jj] * half_to_float(v_head[slot_s[jj] * kv_row + d]);
          }
        }
      }
      __syncthreads();
    }
  }
  float* out = part + (s.th * gridDim.y + blockIdx.y) * a.head_dim;
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) {
    const int d = threadIdx.x + i * kThreads;
    if (d < a.head_dim) out[d] = acc[i];
  }
}

__global__ void attn_reduce_kernel(const float* part, int n_splits, int head_dim, float* out) {
  const int64_t th = blockIdx.x;
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0.0f;
    for (int sp = 0; sp < n_splits; ++sp) sum += part[(th * n_splits + sp) * head_dim + d];
    out[th * head_dim + d] = sum;
  }
}

}  // namespace

void CudaOps::attention(const DeviceAttentionArgs& a) {
  KESTREL_CHECK(a.head_dim > 0 && a.head_dim <= kMaxHeadDim, "CUDA attention: head_dim ",
                a.head_dim, " outside 1..", kMaxHeadDim);
  KESTREL_CHECK(a.n_head_kv > 0 && a.n_head % a.n_head_kv == 0,
                "CUDA attention: n_head not a multiple of n_head_kv");
  KESTREL_CHECK(a.max_kv_len > 0, "CUDA attention: max_kv_len not set");
  if (a.n_tokens == 0) return;
  const int64_t n_th = a.n_tokens * a.n_head;
  KESTREL_CHECK(n_th <= 0x7fffffff, "CUDA attention: too many query heads");
  const int n_splits = static_cast<int>((a.max_kv_len + kAttnSplitLen - 1) / kAttnSplitLen);
  grow(attn_stats_, static_cast<size_t>(n_th * n_splits) * sizeof(float2));
  grow(attn_part_, static_cast<size_t>(n_th * n_splits * a.head_dim) * sizeof(float));
  const dim3 grid(static_cast<unsigned>(n_th), static_cast<unsigned>(n_splits));
  attn_stats_kernel<<<grid, kThreads, 0, stream_>>>(a, attn_stats_.as<float2>());
  KESTREL_CUDA_LAUNCH_CHECK();
  attn_pv_kernel<<<grid, kThreads, 0, stream_>>>(a, attn_stats_.as<float2>(),
                                                 attn_part_.as<float>());
  KESTREL_CUDA_LAUNCH_CHECK();
  attn_reduce_kernel<<<static_cast<unsigned>(n_th), kThreads, 0, stream_>>>(
      attn_part_.as<float>(), n_splits, a.head_dim, a.out);
  KESTREL_CUDA_LAUNCH_CHECK();
}

}  // namespace kestrel::backend::cuda
