// CPU instruction-set selection, in one place. Each ISA's kernels live in their
// own folder (x86/avx2, arm/neon, ...) compiled with that ISA's flags; this
// file decides at run time which table the CPU backend uses.
// KESTREL_FORCE_ISA=generic|avx2|avx512|amx|neon overrides the choice (an ISA
// the CPU or the build lacks is an error, so a forced test run never silently
// falls back).
#pragma once

#include <vector>

namespace kestrel::backend {

enum class Isa { kGeneric, kAvx2, kAvx512, kAmx, kNeon };

const char* isa_name(Isa isa);
// Kernels for `isa` are compiled into this binary.
bool isa_compiled(Isa isa);
// Compiled in and the CPU (and OS) can run them.
bool isa_supported(Isa isa);
// Every supported ISA, generic first.
std::vector<Isa> supported_isas();
// KESTREL_FORCE_ISA if set (throws kestrel::Error when unknown or unsupported),
// else the best supported ISA that has kernels.
Isa select_isa();

}  // namespace kestrel::backend
