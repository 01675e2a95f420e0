// Helpers shared by the quant tests: seeded Gaussian rows and byte buffers placed at a chosen
// misalignment.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "quant/type_ops.h"
#include "tensor/dtype.h"

namespace kestrel::quant::testing {

inline std::vector<float> gaussian_row(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

// A byte buffer whose data() is `offset` bytes past a 64-byte boundary.
class OffsetBuffer {
 public:
  OffsetBuffer(size_t size, size_t offset) : storage_(size + offset + 64), offset_(offset) {
    const auto base = reinterpret_cast<uintptr_t>(storage_.data());
    start_ = static_cast<size_t>((64 - base % 64) % 64) + offset_;
  }
  unsigned char* data() { return storage_.data() + start_; }

 private:
  std::vector<unsigned char> storage_;
  size_t offset_;
  size_t start_ = 0;
};

// Row of n elements quantized to `type` with the generic kernels.
inline std::vector<unsigned char> quantize(tensor::DType type, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<unsigned char> q(tensor::row_bytes(type, n));
  generic_type_ops(type).quantize_row(x.data(), q.data(), n);
  return q;
}

inline std::vector<float> dequantize(tensor::DType type, const void* q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  generic_type_ops(type).dequantize_row(q, y.data(), n);
  return y;
}

}  // namespace kestrel::quant::testing
