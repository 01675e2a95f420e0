// The CUDA backend's ops: the same operations and semantics as backend::Ops (src/backend/ops.h),
// but every pointer argument is a DEVICE pointer (weights, activations, ids, positions, slots,
// block tables, KV cache), and every call is asynchronous on the object's stream. It does not
// derive from backend::Ops because that interface promises host pointers; see docs/perf-notes-cuda.md
// for the proposed unification.
//
// Kernel choices (docs/perf-notes-cuda.md has the reasoning and the floors):
// - matmul, few rows (n_rows < gemm_min_rows): activations are quantized once per call to int8
//   blocks of 32 (one f32 scale and the scaled block sum each); one warp per weight row walks the
//   row's 32-element sub-blocks in their GGUF layout and takes dp4a dot products, up to 8
//   activation rows per weight read. F16/BF16/F32 weights take a float dot with activations
//   rounded to the weight's format, as the CPU backend does.
// - matmul, many rows: F16/BF16/F32 weights go straight to cuBLAS (tensor cores, F32 accumulate);
//   quantized weights are dequantized to F16 tiles of rows and then multiplied by cuBLAS. That is
//   the simple, honest version; an mma kernel on the quantized blocks would save the F16 round trip.
// - attention: paged, split over the key range (flash-decoding) in three kernels: per-split softmax
//   statistics, per-split probability-weighted values with the global max and sum, and a sum over
//   splits. It keeps the CPU backend's rounding points (F16 query, F16 normalized probabilities).
#pragma once

#include <cstdint>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend/cuda/device.h"
#include "backend/ops.h"

namespace kestrel::backend::cuda {

// Attention over the device-resident paged KV cache. Block tables are one flat array:
// sequence s's table is block_tables[s * max_blocks_per_seq ...].
struct DeviceAttentionArgs {
  const float* q = nullptr;  // F32 [n_tokens, n_head * head_dim], RoPE applied
  float* out = nullptr;      // F32 [n_tokens, n_head * head_dim]
  int64_t n_tokens = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  const int32_t* positions = nullptr;     // [n_tokens]
  const int32_t* seq_of_token = nullptr;  // [n_tokens]
  const int32_t* block_tables = nullptr;  // [n_seqs, max_blocks_per_seq]
  int32_t max_blocks_per_seq = 0;
  int32_t block_size = 0;
  const uint16_t* k_cache = nullptr;  // F16 [n_slots, n_head_kv * head_dim] of this layer
  const uint16_t* v_cache = nullptr;
  float scale = 1.0f;
  int32_t window = 0;
  // Every position is below this (callers check it on the host). It fixes the number of key
  // splits, so a captured graph stays valid while contexts grow up to it.
  int32_t max_kv_len = 0;
};

class CudaOps {
 public:
  // Uses the current device; creates its own stream and cuBLAS handle.
  CudaOps();
  ~CudaOps();
  CudaOps(const CudaOps&) = delete;
  CudaOps& operator=(const CudaOps&) = delete;

  cudaStream_t stream() const { return stream_; }
  void synchronize();

  // Matrix products with at least this many rows go to the tensor-core path.
  void set_gemm_min_rows(int64_t n) { gemm_min_rows_ = n; }
  int64_t gemm_min_rows() const { return gemm_min_rows_; }
  // Whether matmul can take weights of this type.
  static bool supports(tensor::DType type);

  // Grows the scratch buffers for products of up to n_rows x n_in (and the F16 weight tiles) and
  // attention over n_tokens * n_head query heads of head_dim with up to max_kv_len keys, so that
  // later calls within these sizes allocate nothing (required while a graph is captured).
  void reserve(int64_t n_rows, int64_t n_in, int64_t n_tokens_heads, int head_dim,
               int32_t max_kv_len);

  // Same contracts as backend::Ops, device pointers throughout. embed's ids must be in range
  // (checked by the caller on the host: the device cannot throw).
  void embed(const WeightMatrix& table, const int32_t* ids, int64_t n, float scale, float* out);
  void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t dim, float eps);
  void matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y, const float* bias);
  void rope(float* x, const int32_t* positions, int64_t n_tokens, int n_heads, int head_dim,
            int n_rot, float freq_base, RopeStyle style);
  void write_kv(const float* k, const float* v, const int32_t* slots, int64_t n_tokens,
                int64_t row, uint16_t* k_cache, uint16_t* v_cache);
  void attention(const DeviceAttentionArgs& args);
  void glu(const float* gate, const float* up, float* out, int64_t n, Activation act);
  void add(float* x, const float* y, int64_t n);
  // dst rows i = src rows rows[i] (device row indexes), n_rows rows of dim floats.
  void gather_rows(const float* src, const int32_t* rows, int64_t n_rows, int64_t dim, float* dst);

 private:
  void matvec(const WeightMatrix& w, const float* x, int64_t n_rows, float* y, const float* bias);
  void gemm(const WeightMatrix& w, const float* x, int64_t n_rows, float* y, const float* bias);
  void quantize_activations(const float* x, int64_t n_rows, int64_t n_in);
  void grow(DeviceBuffer& buf, size_t bytes);

  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  int64_t gemm_min_rows_ = 32;

  DeviceBuffer cublas_workspace_;
  DeviceBuffer act_q_;      // int8 [n_rows, n_in]: activations quantized for the dp4a kernels
  DeviceBuffer act_ds_;     // float2 [n_rows, n_in / 32]: (scale, scale * sum of the block's q)
  DeviceBuffer act_half_;   // F16 or BF16 [n_rows, n_in]: activations for cuBLAS
  DeviceBuffer w_half_;     // F16 [tile rows, n_in]: dequantized weight tile for cuBLAS
  DeviceBuffer attn_stats_;  // float2 [n_tokens * n_head, n_splits]
  DeviceBuffer attn_part_;   // F32 [n_tokens * n_head, n_splits, head_dim]
};

// Elements of the F16 weight tile the quantized GEMM path dequantizes at a time (128 MiB).
inline constexpr int64_t kDequantTileElems = int64_t{64} << 20;
// Keys per attention split.
inline constexpr int kAttnSplitLen = 256;

}  // namespace kestrel::backend::cuda
