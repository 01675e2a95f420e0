// The per-ISA kernel table the CPU backend calls through. It starts as a copy of the generic
// kernels (quant::generic_type_ops and the loops below) and each ISA's installer replaces the
// entries it accelerates, so a type without a fast kernel still runs, just slower. Every entry
// computes the same math as its generic twin and is tested against the same float64 oracle.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "backend/cpu/isa.h"
#include "quant/type_ops.h"

namespace kestrel::backend {

// Matrix tile: y[r * ldy + o] = dot(weight row o, activation row r) for o < n_w, r < n_a.
// Weight rows are w_stride bytes apart (type `type`), activation rows a_stride bytes apart (its
// vec_dot_type), n_in elements each. Each weight row is loaded once per call whatever n_a is, so
// callers pass as many activation rows as fit the cache.
using MatTileFn = void (*)(int64_t n_in, const void* w, size_t w_stride, int64_t n_w,
                           const void* a, size_t a_stride, int64_t n_a, float* y, int64_t ldy);

// Attention inner products over F16 keys/values (the KV cache format).
// dot_f16: sum_i q[i] * k[i]; q F32 [n], k F16 [n].
using DotF16Fn = float (*)(const float* q, const uint16_t* k, int64_t n);
// axpy_f16: y[i] += a * v[i]; y F32 [n], v F16 [n].
using AxpyF16Fn = void (*)(float a, const uint16_t* v, float* y, int64_t n);

struct KernelTable {
  static constexpr size_t kMaxTypes = 64;  // GGUF type ids are below this

  Isa isa = Isa::kGeneric;
  std::array<quant::TypeOps, kMaxTypes> types{};  // .vec_dot == nullptr: not a weight type
  std::array<MatTileFn, kMaxTypes> mat_tile{};
  DotF16Fn dot_f16 = nullptr;
  AxpyF16Fn axpy_f16 = nullptr;

  // The entry for `type`; throws kestrel::Error when there are no kernels for it.
  const quant::TypeOps& ops(tensor::DType type) const;
  MatTileFn tile(tensor::DType type) const;
};

// The table for `isa` (built once, then shared); `isa` must be supported.
const KernelTable& kernel_table(Isa isa);

// Installers, one per ISA folder; each overrides the entries it has.
void install_avx2_kernels(KernelTable& table);
void install_neon_kernels(KernelTable& table);

}  // namespace kestrel::backend
