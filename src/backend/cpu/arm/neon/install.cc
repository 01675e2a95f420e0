// Fills the NEON entries of the kernel table: matrix tiles and vec_dot for the block formats the
// models use (with SDOT where the CPU has the dot-product extension, widening multiplies where it
// does not), the attention pieces (attention.cc) and the Q8_0/Q8_1 activation quantizers
// (quantize.cc). Types not listed keep their generic kernels.
#include "backend/cpu/arm/neon/install_impl.h"

#if defined(__linux__)
#include <sys/auxv.h>
#endif

namespace kestrel::backend {

void install_neon_attention(KernelTable& t);   // attention.cc
void install_neon_quantizers(KernelTable& t);  // quantize.cc

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

}  // namespace

void install_neon_kernels(KernelTable& t) {
  if (cpu_has_dotprod()) {
    neon::install_dotprod_kernels(t);
  } else {
    neon::install_baseline_kernels(t);
  }
  install_neon_attention(t);
  install_neon_quantizers(t);
}

}  // namespace kestrel::backend
