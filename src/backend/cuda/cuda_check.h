// Host-side error checks for CUDA runtime and cuBLAS calls: a failure throws kestrel::Error naming
// the call, the file and line, and the runtime's own message.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "core/error.h"

namespace kestrel::backend::cuda {

[[noreturn]] void fail_cuda(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void fail_cublas(cublasStatus_t st, const char* expr, const char* file, int line);

}  // namespace kestrel::backend::cuda

#define KESTREL_CUDA_CHECK(expr)                                                        \
  do {                                                                                  \
    const cudaError_t kestrel_err_ = (expr);                                            \
    if (kestrel_err_ != cudaSuccess)                                                    \
      ::kestrel::backend::cuda::fail_cuda(kestrel_err_, #expr, __FILE__, __LINE__);     \
  } while (0)

#define KESTREL_CUBLAS_CHECK(expr)                                                      \
  do {                                                                                  \
    const cublasStatus_t kestrel_st_ = (expr);                                          \
    if (kestrel_st_ != CUBLAS_STATUS_SUCCESS)                                           \
      ::kestrel::backend::cuda::fail_cublas(kestrel_st_, #expr, __FILE__, __LINE__);    \
  } while (0)

// After a kernel launch: reports a bad launch configuration at once (asynchronous faults surface
// at the next synchronizing call).
#define KESTREL_CUDA_LAUNCH_CHECK() KESTREL_CUDA_CHECK(cudaGetLastError())
