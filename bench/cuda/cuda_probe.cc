// The GPU's own ceilings and the backend's kernel times, measured in one run:
//   copy      device-to-device cudaMemcpy bandwidth (bytes read + bytes written per second), the
//             roof for memory-bound decode;
//   gemm      cuBLAS BF16 and F16 matrix products (F32 accumulate), the roof for prefill;
//   matvec    CudaOps::matmul at 1..8 rows on Llama-3-8B-shaped weights per type: effective
//             weight-read bandwidth (weight bytes / time) against the copy figure;
//   gemm-path CudaOps::matmul at 2048 rows: TFLOP/s against the BF16 figure.
// Prints one JSON object per line. Usage: cuda_probe [--quick]
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/device.h"
#include "bench/cuda/roofline.h"
#include "quant/type_ops.h"

namespace kestrel::backend::cuda {
namespace {

// Random weights of `type` in GGUF blocks, quantized on the host by the reference quantizers
// (one random row repeated: quantizing 58M values on the host would dominate the run).
DeviceBuffer random_weights(tensor::DType type, int64_t n_in, int64_t n_out, size_t* row_bytes) {
  const quant::TypeOps& ops = quant::generic_type_ops(type);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  const int64_t distinct = 64;
  std::vector<float> f(n_in);
  *row_bytes = tensor::row_bytes(type, n_in);
  std::vector<uint8_t> rows(*row_bytes * distinct);
  for (int64_t r = 0; r < distinct; ++r) {
    for (float& x : f) x = dist(rng);
    ops.quantize_row(f.data(), rows.data() + r * *row_bytes, n_in);
  }
  DeviceBuffer w(*row_bytes * n_out);
  for (int64_t o = 0; o < n_out; o += distinct) {
    const int64_t n = std::min(distinct, n_out - o);
    KESTREL_CUDA_CHECK(cudaMemcpy(w.as<uint8_t>() + o * *row_bytes, rows.data(), n * *row_bytes,
                                  cudaMemcpyHostToDevice));
  }
  return w;
}

void probe_matmul(CudaOps& ops, tensor::DType type, int64_t n_in, int64_t n_out, double copy_gbps,
                  double bf16_tflops, bool quick) {
  size_t rb = 0;
  DeviceBuffer w = random_weights(type, n_in, n_out, &rb);
  const WeightMatrix wm{w.get(), type, n_in, n_out, rb};
  const int64_t max_rows = quick ? 64 : 2048;
  DeviceBuffer x(max_rows * n_in * sizeof(float)), y(max_rows * n_out * sizeof(float));
  KESTREL_CUDA_CHECK(cudaMemset(x.get(), 0, max_rows * n_in * sizeof(float)));
  const double weight_bytes = static_cast<double>(rb) * n_out;
  for (int64_t rows : {1, 2, 4, 8, 16, 32, 64, 128, 512, 2048}) {
    if (rows > max_rows) break;
    const double s = time_median(ops.stream(), 3, 20, [&] {
      ops.matmul(wm, x.as<float>(), rows, y.as<float>(), nullptr);
    });
    const double gbps = weight_bytes / s / 1e9;
    const double tflops = 2.0 * rows * n_in * static_cast<double>(n_out) / s / 1e12;
    std::printf(
        "{\"probe\":\"matmul\",\"type\":\"%s\",\"n_in\":%lld,\"n_out\":%lld,\"rows\":%lld,"
        "\"path\":\"%s\",\"seconds\":%.6e,\"weight_GBps\":%.1f,\"fraction_of_copy\":%.3f,"
        "\"TFLOPs\":%.2f,\"fraction_of_bf16\":%.3f}\n",
        tensor::dtype_name(type), static_cast<long long>(n_in), static_cast<long long>(n_out),
        static_cast<long long>(rows), rows >= ops.gemm_min_rows() ? "tensor" : "matvec", s, gbps,
        gbps / copy_gbps, tflops, tflops / bf16_tflops);
  }
}

int run(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (device_count() == 0) {
    std::fprintf(stderr, "cuda_probe: no CUDA device\n");
    return 2;
  }
  std::printf("{\"device\":\"%s\"}\n", device_description().c_str());
  CudaOps ops;
  const double copy = probe_copy(ops.stream(), size_t{1} << 30);
  const double bf16 = probe_gemm(ops.stream(), quick ? 4096 : 8192, CUDA_R_16BF, "bf16");
  probe_gemm(ops.stream(), quick ? 4096 : 8192, CUDA_R_16F, "f16");
  // Llama-3-8B's largest per-layer products: ffn gate/up (4096 -> 14336) and down (14336 -> 4096).
  // fraction_of_copy compares the weight-read rate with the copy rate counted as bytes read +
  // written per second (HBM bandwidth is shared by reads and writes: that is the read ceiling).
  for (tensor::DType t : {tensor::DType::Q4_0, tensor::DType::Q4_1, tensor::DType::Q8_0,
                          tensor::DType::Q4_K, tensor::DType::Q6_K, tensor::DType::F16,
                          tensor::DType::BF16}) {
    probe_matmul(ops, t, 4096, 14336, copy, bf16, quick);
    probe_matmul(ops, t, 14336, 4096, copy, bf16, quick);
  }
  return 0;
}

}  // namespace
}  // namespace kestrel::backend::cuda

int main(int argc, char** argv) {
  try {
    return kestrel::backend::cuda::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_probe: %s\n", e.what());
    return 2;
  }
}
