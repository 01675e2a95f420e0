// CudaOps set-up: stream, cuBLAS handle, scratch buffers.
#include "backend/cuda/cuda_ops.h"

#include <algorithm>

#include "backend/cuda/cuda_check.h"

namespace kestrel::backend::cuda {
namespace {

// cuBLAS's own workspace, given up front so that it never allocates inside a captured graph.
constexpr size_t kCublasWorkspace = size_t{32} << 20;

}  // namespace

CudaOps::CudaOps() {
  KESTREL_CHECK(device_count() > 0, "CUDA backend: no CUDA device");
  KESTREL_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  KESTREL_CUBLAS_CHECK(cublasCreate(&cublas_));
  KESTREL_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
  cublas_workspace_.reserve(kCublasWorkspace);
  KESTREL_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_workspace_.get(), kCublasWorkspace));
}

CudaOps::~CudaOps() {
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void CudaOps::synchronize() { KESTREL_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void CudaOps::grow(DeviceBuffer& buf, size_t bytes) {
  if (bytes <= buf.bytes()) return;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  KESTREL_CUDA_CHECK(cudaStreamIsCapturing(stream_, &status));
  KESTREL_CHECK(status == cudaStreamCaptureStatusNone,
                "CUDA backend: scratch buffer must grow while a graph is captured (call reserve "
                "first)");
  // The buffer may still be in use by queued kernels: finish them before freeing it.
  synchronize();
  buf.reserve(bytes);
}

void CudaOps::reserve(int64_t n_rows, int64_t n_in, int64_t n_tokens_heads, int head_dim,
                      int32_t max_kv_len) {
  grow(act_q_, static_cast<size_t>(n_rows * n_in));
  grow(act_ds_, static_cast<size_t>(n_rows * (n_in / 32)) * 8);
  grow(act_half_, static_cast<size_t>(n_rows * n_in) * 2);
  grow(w_half_, static_cast<size_t>(kDequantTileElems) * 2);
  const int64_t splits = std::max<int64_t>(1, (max_kv_len + kAttnSplitLen - 1) / kAttnSplitLen);
  grow(attn_stats_, static_cast<size_t>(n_tokens_heads * splits) * 8);
  grow(attn_part_, static_cast<size_t>(n_tokens_heads * splits * head_dim) * 4);
}

}  // namespace kestrel::backend::cuda
