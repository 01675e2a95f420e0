// Per-format generic kernels, one .cc per format; type_ops.cc puts them in the table. Everything
// here works on rows of whole blocks (n a multiple of the block size) and accepts pointers with any
// alignment: blocks are copied in and out with memcpy, never dereferenced in place.
#pragma once

#include <cstdint>
#include <cstring>

namespace kestrel::quant {

// Round to nearest, ties to even, for |x| <= 2^22: adding 1.5 * 2^23 leaves the integer in the low
// mantissa bits. GGUF's reference quantizers round this way (not roundf's ties-away).
inline int nearest_int(float x) {
  const float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

template <class Block>
inline Block load_block(const void* row, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const unsigned char*>(row) + i * sizeof(Block), sizeof(Block));
  return b;
}

template <class Block>
inline void store_block(void* row, int64_t i, const Block& b) {
  std::memcpy(static_cast<unsigned char*>(row) + i * sizeof(Block), &b, sizeof(Block));
}

// Float formats (float_formats.cc). Element pointers may be misaligned as well.
void quantize_row_f32(const float* x, void* y, int64_t n);
void dequantize_row_f32(const void* x, float* y, int64_t n);
float vec_dot_f32(int64_t n, const void* w, const void* a);
void quantize_row_f16(const float* x, void* y, int64_t n);
void dequantize_row_f16(const void* x, float* y, int64_t n);
float vec_dot_f16(int64_t n, const void* w, const void* a);
void quantize_row_bf16(const float* x, void* y, int64_t n);
void dequantize_row_bf16(const void* x, float* y, int64_t n);
float vec_dot_bf16(int64_t n, const void* w, const void* a);

// 32-element formats; weights dot Q8_0 (q4_0, q5_0, q8_0) or Q8_1 (q4_1, q5_1) activations.
void quantize_row_q4_0(const float* x, void* y, int64_t n);
void dequantize_row_q4_0(const void* x, float* y, int64_t n);
float vec_dot_q4_0_q8_0(int64_t n, const void* w, const void* a);
void quantize_row_q4_1(const float* x, void* y, int64_t n);
void dequantize_row_q4_1(const void* x, float* y, int64_t n);
float vec_dot_q4_1_q8_1(int64_t n, const void* w, const void* a);
void quantize_row_q5_0(const float* x, void* y, int64_t n);
void dequantize_row_q5_0(const void* x, float* y, int64_t n);
float vec_dot_q5_0_q8_0(int64_t n, const void* w, const void* a);
void quantize_row_q5_1(const float* x, void* y, int64_t n);
void dequantize_row_q5_1(const void* x, float* y, int64_t n);
float vec_dot_q5_1_q8_1(int64_t n, const void* w, const void* a);
void quantize_row_q8_0(const float* x, void* y, int64_t n);
void dequantize_row_q8_0(const void* x, float* y, int64_t n);
float vec_dot_q8_0_q8_0(int64_t n, const void* w, const void* a);
void quantize_row_q8_1(const float* x, void* y, int64_t n);
void dequantize_row_q8_1(const void* x, float* y, int64_t n);

// 256-element K-quants; weights dot Q8_K activations.
void quantize_row_q4_k(const float* x, void* y, int64_t n);
void dequantize_row_q4_k(const void* x, float* y, int64_t n);
float vec_dot_q4_k_q8_k(int64_t n, const void* w, const void* a);
void quantize_row_q5_k(const float* x, void* y, int64_t n);
void dequantize_row_q5_k(const void* x, float* y, int64_t n);
float vec_dot_q5_k_q8_k(int64_t n, const void* w, const void* a);
void quantize_row_q6_k(const float* x, void* y, int64_t n);
void dequantize_row_q6_k(const void* x, float* y, int64_t n);
float vec_dot_q6_k_q8_k(int64_t n, const void* w, const void* a);
void quantize_row_q8_k(const float* x, void* y, int64_t n);
void dequantize_row_q8_k(const void* x, float* y, int64_t n);

}  // namespace kestrel::quant
