// IEEE binary16 <-> binary32 by integer arithmetic, round to nearest even, so results do not depend
// on the host FPU or on F16C being present. Matches GGUF's reference conversion for every finite
// value and infinity; every NaN becomes the quiet NaN 0x7e00 (sign kept), as the reference does.
#include "quant/fp16.h"

namespace kestrel::quant {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return float_of(sign | 0x7f800000u | (mant << 13));  // inf / NaN
  if (exp != 0) return float_of(sign | ((exp + 112) << 23) | (mant << 13));
  // Zero or subnormal: mant * 2^-24 is exact in binary32.
  const float mag = static_cast<float>(mant) * 0x1p-24f;
  return sign != 0 ? -mag : mag;
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t u = bits_of(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u;  // NaN
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity (or is infinity)
  if (a < 0x38800000u) {
    // Below the smallest normal half (2^-14): the result is a multiple of 2^-24. Adding 0.5 puts
    // the value in a binade whose ulp is 2^-24, so the FPU's round-to-nearest-even does the work.
    const float r = float_of(a) + 0.5f;
    return sign | static_cast<uint16_t>(bits_of(r) - 0x3f000000u);
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest
  // even; a carry out of the mantissa correctly bumps the exponent.
  const uint32_t odd = (a >> 13) & 1u;
  return sign | static_cast<uint16_t>((a - 0x38000000u + 0xfffu + odd) >> 13);
}

}  // namespace kestrel::quant
