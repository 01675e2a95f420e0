// Integer kernels with the Armv8.2 dot-product extension (SDOT: four int8 products summed into
// each int32 lane). This file alone is compiled with +dotprod (src/backend/CMakeLists.txt) and
// install.cc only calls it when the CPU reports the extension.
#include "backend/cpu/arm/neon/install_impl.h"

namespace kestrel::backend::neon {
namespace {

struct SdotDot {
  static KESTREL_NEON_INLINE int32x4_t dot(int32x4_t acc, int8x16_t x, int8x16_t y) {
    return vdotq_s32(acc, x, y);
  }
};

}  // namespace

void install_dotprod_kernels(KernelTable& t) { install_integer_kernels<SdotDot>(t); }

}  // namespace kestrel::backend::neon
