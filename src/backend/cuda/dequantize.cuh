// Shared by embed.cu and gemm.cu: weight rows (GGUF blocks or F16/BF16/F32) to F32 or F16.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "backend/ops.h"

namespace kestrel::backend::cuda {

// out row i = row (ids ? ids[i] : row0 + i) of w, times scale; n_rows rows of w.n_in elements.
// Exactly one of out_f32 / out_f16 is non-null.
void launch_dequantize_rows(const WeightMatrix& w, const int32_t* ids, int64_t row0,
                            int64_t n_rows, float scale, float* out_f32, __half* out_f16,
                            cudaStream_t stream);

}  // namespace kestrel::backend::cuda
