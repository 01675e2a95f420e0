#include "bench/cuda/roofline.h"

#include <cstdio>

#include "backend/cuda/device.h"

namespace kestrel::backend::cuda {

double probe_copy(cudaStream_t stream, size_t bytes) {
  DeviceBuffer src(bytes), dst(bytes);
  KESTREL_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, bytes, stream));
  const double s = time_median(stream, 3, 20, [&] {
    KESTREL_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  });
  const double gbps = 2.0 * static_cast<double>(bytes) / s / 1e9;
  std::printf("{\"probe\":\"copy\",\"bytes\":%zu,\"seconds\":%.6e,\"GBps_read_plus_write\":%.1f}\n",
              bytes, s, gbps);
  return gbps;
}

double probe_gemm(cudaStream_t stream, int n, cudaDataType_t type, const char* name) {
  cublasHandle_t h;
  KESTREL_CUBLAS_CHECK(cublasCreate(&h));
  KESTREL_CUBLAS_CHECK(cublasSetStream(h, stream));
  const size_t elems = static_cast<size_t>(n) * n;
  DeviceBuffer a(elems * 2), b(elems * 2), c(elems * 4);
  KESTREL_CUDA_CHECK(cudaMemsetAsync(a.get(), 0x3c, elems * 2, stream));  // small finite values
  KESTREL_CUDA_CHECK(cudaMemsetAsync(b.get(), 0x3c, elems * 2, stream));
  const float one = 1.0f, zero = 0.0f;
  const double s = time_median(stream, 3, 10, [&] {
    KESTREL_CUBLAS_CHECK(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, n, n, n, &one, a.get(), type, n,
                                      b.get(), type, n, &zero, c.get(), CUDA_R_32F, n,
                                      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  });
  cublasDestroy(h);
  const double tflops = 2.0 * n * static_cast<double>(n) * n / s / 1e12;
  std::printf("{\"probe\":\"gemm\",\"type\":\"%s\",\"n\":%d,\"seconds\":%.6e,\"TFLOPs\":%.1f}\n",
              name, n, s, tflops);
  return tflops;
}

}  // namespace kestrel::backend::cuda
