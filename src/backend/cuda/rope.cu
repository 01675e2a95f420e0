// RoPE in place, one thread per rotated pair. The angle is pos * theta_scale^i formed as the CPU
// backend forms it (a running float product), so both rotate by the same float angle.
#include <cmath>

#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace kestrel::backend::cuda {
namespace {

__global__ void rope_kernel(float* x, const int32_t* positions, int64_t n_pairs_total, int n_heads,
                            int head_dim, int half, float theta_scale, bool neox) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= n_pairs_total) return;
  const int i = static_cast<int>(idx % half);
  const int64_t th = idx / half;  // token * n_heads + head
  const int64_t t = th / n_heads;
  float theta = static_cast<float>(positions[t]);
  for (int k = 0; k < i; ++k) theta *= theta_scale;
  const float c = cosf(theta);
  const float s = sinf(theta);
  float* v = x + th * head_dim;
  const int a = neox ? i : 2 * i;
  const int b = neox ? i + half : 2 * i + 1;
  const float x0 = v[a];
  const float x1 = v[b];
  v[a] = x0 * c - x1 * s;
  v[b] = x0 * s + x1 * c;
}

}  // namespace

void CudaOps::rope(float* x, const int32_t* positions, int64_t n_tokens, int n_heads,
                   int head_dim, int n_rot, float freq_base, RopeStyle style) {
  const int half = n_rot / 2;
  const int64_t total = n_tokens * n_heads * half;
  if (total == 0) return;
  // Computed on the host with the same std::pow as the CPU backend.
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  const int threads = 256;
  rope_kernel<<<div_up(total, threads), threads, 0, stream_>>>(
      x, positions, total, n_heads, head_dim, half, theta_scale, style == RopeStyle::kNeox);
  KESTREL_CUDA_LAUNCH_CHECK();
}

}  // namespace kestrel::backend::cuda
