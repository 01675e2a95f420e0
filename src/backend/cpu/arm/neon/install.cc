// Fills the NEON entries of the kernel table: matrix tiles and vec_dot for the block formats the
// models use (with SDOT where the CPU has the dot-product extension, widening multiplies where it
// does not) and the F16 attention helpers. Types not listed keep their generic kernels.
#include "backend/cpu/arm/neon/install_impl.h"

#if defined(__linux__)
#include <sys/auxv.h>
#endif

namespace kestrel::backend {
namespace {

bool cpu_has_dotprod() {
#if defined(__linux__)
  constexpr unsigned long kHwcapAsimdDp = 1ul << 20;  // HWCAP_ASIMDDP in <asm/hwcap.h>
  return (getauxval(AT_HWCAP) & kHwcapAsimdDp) != 0;
#elif defined(__APPLE__)
  return true;  // every Apple arm64 core has it
#else
  return false;
#endif
}

float dot_f16(const float* q, const uint16_t* k, int64_t n) {
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t kv = vreinterpretq_f16_u16(vld1q_u16(k + i));
    acc0 = vfmaq_f32(acc0, vld1q_f32(q + i), vcvt_f32_f16(vget_low_f16(kv)));
    acc1 = vfmaq_f32(acc1, vld1q_f32(q + i + 4), vcvt_high_f32_f16(kv));
  }
  float sum = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) sum += q[i] * neon::f16(reinterpret_cast<const uint8_t*>(k + i));
  return sum;
}

void axpy_f16(float a, const uint16_t* v, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t vv = vreinterpretq_f16_u16(vld1q_u16(v + i));
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vcvt_f32_f16(vget_low_f16(vv)), a));
    vst1q_f32(y + i + 4, vfmaq_n_f32(vld1q_f32(y + i + 4), vcvt_high_f32_f16(vv), a));
  }
  for (; i < n; ++i) y[i] += a * neon::f16(reinterpret_cast<const uint8_t*>(v + i));
}

}  // namespace

void install_neon_kernels(KernelTable& t) {
  if (cpu_has_dotprod()) {
    neon::install_dotprod_kernels(t);
  } else {
    neon::install_baseline_kernels(t);
  }
  t.dot_f16 = dot_f16;
  t.axpy_f16 = axpy_f16;
}

}  // namespace kestrel::backend
