// NEON activation quantizers for Q8_0, Q8_1 and Q8_K, byte-identical to the generic ones
// (src/quant/q8_0.cc, q8_1.cc, q8_k.cc). Q8_0/Q8_1: d = amax / 127 in float,
// q = round-half-away(x * (1/d)) (FCVTAS rounds exactly that way), and for Q8_1 s = d * sum(q);
// the f16 stores round to nearest even like quant::fp32_to_fp16. Q8_K rounds half to even (FCVTNS,
// as the reference's nearest_int).
#include <cmath>
#include <cstring>

#include "backend/cpu/arm/neon/simd.h"
#include "backend/cpu/kernel_table.h"

namespace kestrel::backend {
namespace {

// Quantizes 32 floats to int8 at `qs`; returns d and (through sum) the sum of the values.
inline float quantize32(const float* x, int8_t* qs, int32_t* sum) {
  float32x4_t v[8];
  float32x4_t amax = vdupq_n_f32(0.0f);
  for (int k = 0; k < 8; ++k) {
    v[k] = vld1q_f32(x + 4 * k);
    amax = vmaxq_f32(amax, vabsq_f32(v[k]));
  }
  const float d = vmaxvq_f32(amax) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  int32x4_t q[8];
  int32x4_t s = vdupq_n_s32(0);
  for (int k = 0; k < 8; ++k) {
    q[k] = vcvtaq_s32_f32(vmulq_n_f32(v[k], id));  // |x * id| <= 127: no saturation below
    s = vaddq_s32(s, q[k]);
  }
  *sum = vaddvq_s32(s);
  for (int h = 0; h < 2; ++h) {
    const int16x8_t lo = vcombine_s16(vmovn_s32(q[4 * h]), vmovn_s32(q[4 * h + 1]));
    const int16x8_t hi = vcombine_s16(vmovn_s32(q[4 * h + 2]), vmovn_s32(q[4 * h + 3]));
    vst1q_s8(qs + 16 * h, vcombine_s8(vmovn_s16(lo), vmovn_s16(hi)));
  }
  return d;
}

void store_f16(uint8_t* p, float f) {
  const __fp16 h = static_cast<__fp16>(f);
  std::memcpy(p, &h, sizeof h);
}

// Q8_0 block: [d f16][32 x int8].
void quantize_row_q8_0(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / 32; ++i) {
    int32_t sum;
    const float d = quantize32(x + 32 * i, reinterpret_cast<int8_t*>(out + 34 * i + 2), &sum);
    store_f16(out + 34 * i, d);
  }
}

// Q8_1 block: [d f16][s f16][32 x int8].
void quantize_row_q8_1(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / 32; ++i) {
    int32_t sum;
    const float d = quantize32(x + 32 * i, reinterpret_cast<int8_t*>(out + 36 * i + 4), &sum);
    store_f16(out + 36 * i, d);
    store_f16(out + 36 * i + 2, static_cast<float>(sum) * d);
  }
}

// Q8_K block (292 bytes): [d f32][256 x int8][16 x int16 sums of 16]. As the reference: max is
// the first element of largest magnitude, iscale = -127 / max, q = min(127, nearest-even(iscale
// x)), d = 1 / iscale; an all-zero block stays zero.
void quantize_row_q8_k(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < n / 256; ++i, out += 292) {
    const float* xb = x + 256 * i;
    float32x4_t amax = vdupq_n_f32(0.0f);
    for (int k = 0; k < 64; ++k) amax = vmaxq_f32(amax, vabsq_f32(vld1q_f32(xb + 4 * k)));
    const float am = vmaxvq_f32(amax);
    std::memset(out, 0, 292);
    if (am == 0.0f) continue;
    float max = am;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(xb[j]) == am) {
        max = xb[j];
        break;
      }
    }
    const float iscale = -127.0f / max;
    auto* qs = reinterpret_cast<int8_t*>(out + 4);
    const int32x4_t cap = vdupq_n_s32(127);
    int16_t bsums[16];
    for (int g = 0; g < 16; ++g) {  // 16 values per step
      int32x4_t q[4];
      for (int k = 0; k < 4; ++k) {
        q[k] = vminq_s32(cap, vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(xb + 16 * g + 4 * k), iscale)));
      }
      const int16x8_t lo = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
      const int16x8_t hi = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
      const int8x16_t q8 = vcombine_s8(vmovn_s16(lo), vmovn_s16(hi));
      vst1q_s8(qs + 16 * g, q8);
      bsums[g] = vaddlvq_s8(q8);
    }
    std::memcpy(out + 260, bsums, sizeof bsums);
    const float d = 1 / iscale;
    std::memcpy(out, &d, sizeof d);
  }
}

}  // namespace

void install_neon_quantizers(KernelTable& t) {
  t.types[static_cast<size_t>(tensor::DType::Q8_0)].quantize_row = quantize_row_q8_0;
  t.types[static_cast<size_t>(tensor::DType::Q8_1)].quantize_row = quantize_row_q8_1;
  t.types[static_cast<size_t>(tensor::DType::Q8_K)].quantize_row = quantize_row_q8_k;
}

}  // namespace kestrel::backend
