// Integer kernels for any AArch64 CPU: int8 products widened to int16 (SMULL) and pairwise
// accumulated into int32 (SADALP), for cores without the dot-product extension (Cortex-A53/A72,
// Raspberry Pi 4 and older).
#include "backend/cpu/arm/neon/install_impl.h"

namespace kestrel::backend::neon {
namespace {

struct WideningDot {
  static KESTREL_NEON_INLINE int32x4_t dot(int32x4_t acc, int8x16_t x, int8x16_t y) {
    // Each int8 product fits int16 (at most 128 * 128), each pair sum int32.
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(y)));
    return vpadalq_s16(acc, vmull_high_s8(x, y));
  }
};

}  // namespace

void install_baseline_kernels(KernelTable& t) { install_integer_kernels<WideningDot>(t); }

}  // namespace kestrel::backend::neon
