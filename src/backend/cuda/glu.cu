// Gated linear unit: out = act(gate) * up, with the CPU backend's formulas (SiLU, tanh GELU).
#include "backend/cuda/common.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace kestrel::backend::cuda {
namespace {

__global__ void glu_kernel(const float* gate, const float* up, float* out, int64_t n, bool gelu) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kGeluCoef = 0.044715f;
  const float g = gate[i];
  const float a = gelu ? 0.5f * g * (1.0f + tanhf(kSqrt2OverPi * g * (1.0f + kGeluCoef * g * g)))
                       : g / (1.0f + expf(-g));
  out[i] = a * up[i];
}

}  // namespace

void CudaOps::glu(const float* gate, const float* up, float* out, int64_t n, Activation act) {
  if (n == 0) return;
  const int threads = 256;
  glu_kernel<<<div_up(n, threads), threads, 0, stream_>>>(gate, up, out, n,
                                                          act == Activation::kGeluTanh);
  KESTREL_CUDA_LAUNCH_CHECK();
}

}  // namespace kestrel::backend::cuda
