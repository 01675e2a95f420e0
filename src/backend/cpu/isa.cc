#include "backend/cpu/isa.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace kestrel::backend {
namespace {

#if defined(__x86_64__)
struct X86Features {
  bool avx2_fma_f16c = false;
  bool avx512_vnni = false;  // F, BW, VL, VNNI and the OS saving ZMM state
};

X86Features detect_x86() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
             f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return f;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool ymm_state = (xcr0_lo & 0x6) == 0x6;
  const bool zmm_state = (xcr0_lo & 0xe6) == 0xe6;
  if (!ymm_state || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = (b >> 5) & 1;
  f.avx2_fma_f16c = avx2 && fma && f16c;
  const bool avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  const bool vnni = (c >> 11) & 1;
  f.avx512_vnni = f.avx2_fma_f16c && zmm_state && avx512f && avx512bw && avx512vl && vnni;
  return f;
}
#endif

bool cpu_has(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return true;
    case Isa::kAvx2:
#if defined(__x86_64__)
      return detect_x86().avx2_fma_f16c;
#else
      return false;
#endif
    case Isa::kAvx512:
#if defined(__x86_64__)
      return detect_x86().avx512_vnni;
#else
      return false;
#endif
    case Isa::kAmx:
      return false;  // no AMX kernels yet (see docs/perf-notes.md)
    case Isa::kNeon:
#if defined(__aarch64__)
      return true;  // Advanced SIMD is mandatory on AArch64
#else
      return false;
#endif
  }
  return false;
}

constexpr Isa kAllIsas[] = {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512, Isa::kAmx, Isa::kNeon};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return "generic";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAmx:
      return "amx";
    case Isa::kNeon:
      return "neon";
  }
  return "?";
}

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::kGeneric:
      return true;
    case Isa::kAvx2:
#if defined(KESTREL_HAVE_AVX2)
      return true;
#else
      return false;
#endif
    case Isa::kAvx512:
    case Isa::kAmx:
      return false;
    case Isa::kNeon:
#if defined(KESTREL_HAVE_NEON)
      return true;
#else
      return false;
#endif
  }
  return false;
}

bool isa_supported(Isa isa) { return isa_compiled(isa) && cpu_has(isa); }

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas) {
    if (isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

Isa select_isa() {
  const char* forced = std::getenv("KESTREL_FORCE_ISA");
  if (forced != nullptr && *forced != '\0') {
    for (Isa isa : kAllIsas) {
      if (std::string(forced) != isa_name(isa)) continue;
      KESTREL_CHECK(isa_supported(isa), "KESTREL_FORCE_ISA=", forced, ": ",
                    isa_compiled(isa) ? "this CPU cannot run it" : "not compiled into this build");
      return isa;
    }
    fail("KESTREL_FORCE_ISA=", forced, ": unknown (generic, avx2, avx512, amx, neon)");
  }
  Isa best = Isa::kGeneric;
  for (Isa isa : supported_isas()) best = isa;  // listed from plainest to widest
  return best;
}

}  // namespace kestrel::backend
