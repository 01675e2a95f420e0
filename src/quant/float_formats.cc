// F32, F16 and BF16 rows: element arrays, no blocks. A dot product multiplies element pairs in float
// (exact for F16 and BF16 products, whose 11- and 8-bit significands fit in float's 24) and
// accumulates in float over 8 interleaved partial sums, as GGUF's reference engine does with its
// 8-wide vector registers; the partial sums are added pairwise at the end.
#include <cstring>

#include "quant/fp16.h"
#include "quant/kernels.h"

namespace kestrel::quant {
namespace {

constexpr int kLanes = 8;

template <class T>
T load(const void* p, int64_t i) {
  T v;
  std::memcpy(&v, static_cast<const unsigned char*>(p) + i * sizeof(T), sizeof(T));
  return v;
}

template <class T>
void store(void* p, int64_t i, T v) {
  std::memcpy(static_cast<unsigned char*>(p) + i * sizeof(T), &v, sizeof(T));
}

float reduce_lanes(float (&acc)[kLanes]) {
  for (int width = kLanes / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

// to_float converts one stored element (float, f16 bits or bf16 bits) to float.
template <class T, class ToFloat>
float dot_lanes(int64_t n, const void* w, const void* a, ToFloat to_float) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      acc[l] += to_float(load<T>(w, i + l)) * to_float(load<T>(a, i + l));
    }
  }
  for (int l = 0; i < n; ++i, ++l) acc[l] += to_float(load<T>(w, i)) * to_float(load<T>(a, i));
  return reduce_lanes(acc);
}

}  // namespace

void quantize_row_f32(const float* x, void* y, int64_t n) {
  if (n > 0) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_row_f32(const void* x, float* y, int64_t n) {
  if (n > 0) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
}

float vec_dot_f32(int64_t n, const void* w, const void* a) {
  return dot_lanes<float>(n, w, a, [](float v) { return v; });
}

void quantize_row_f16(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store<uint16_t>(y, i, fp32_to_fp16(load<float>(x, i)));
}

void dequantize_row_f16(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store<float>(y, i, fp16_to_fp32(load<uint16_t>(x, i)));
}

float vec_dot_f16(int64_t n, const void* w, const void* a) {
  return dot_lanes<uint16_t>(n, w, a, fp16_to_fp32);
}

void quantize_row_bf16(const float* x, void* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store<uint16_t>(y, i, fp32_to_bf16(load<float>(x, i)));
}

void dequantize_row_bf16(const void* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store<float>(y, i, bf16_to_fp32(load<uint16_t>(x, i)));
}

float vec_dot_bf16(int64_t n, const void* w, const void* a) {
  return dot_lanes<uint16_t>(n, w, a, bf16_to_fp32);
}

}  // namespace kestrel::quant
