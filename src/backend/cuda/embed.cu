// Embedding lookup: rows ids of the table, dequantized, times scale.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dequantize.cuh"

namespace kestrel::backend::cuda {

void CudaOps::embed(const WeightMatrix& table, const int32_t* ids, int64_t n, float scale,
                    float* out) {
  launch_dequantize_rows(table, ids, 0, n, scale, out, nullptr, stream_);
}

}  // namespace kestrel::backend::cuda
