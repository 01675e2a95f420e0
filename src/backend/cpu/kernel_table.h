// The per-ISA kernel table the CPU backend calls through. It starts as a copy
// of the generic kernels (quant::generic_type_ops and the loops below) and each
// ISA's installer replaces the entries it accelerates, so a type without a fast
// kernel still runs, just slower. Every entry computes the same math as its
// generic twin and is tested against the same float64 oracle.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cpu/isa.h"
#include "backend/ops.h"
#include "quant/type_ops.h"

namespace kestrel::backend {

// Matrix tile: y[r * ldy + o] = dot(weight row o, activation row r) for o <
// n_w, r < n_a. Weight rows are w_stride bytes apart (type `type`), activation
// rows a_stride bytes apart (its vec_dot_type), n_in elements each. Each weight
// row is loaded once per call whatever n_a is, so callers pass as many
// activation rows as fit the cache.
using MatTileFn = void (*)(int64_t n_in, const void* w, size_t w_stride, int64_t n_w, const void* a,
                           size_t a_stride, int64_t n_a, float* y, int64_t ldy);

// Attention pieces (attention.cc tiles the KV cache and calls these on F32
// copies of key/value tiles; the cache itself is F16). scores: s[r * lds + j] =
// dot(q row r, k row j), r < rows, j < n_keys, rows of d floats.
using ScoresFn = void (*)(const float* q, int64_t ldq, int rows, const float* k, int64_t ldk,
                          int n_keys, int64_t d, float* s, int64_t lds);
// pv: o[r * ldo + i] += sum_j p[r * ldp + j] * v[j * ldv + i], i < d.
using PvFn = void (*)(const float* p, int64_t ldp, int rows, const float* v, int64_t ldv,
                      int n_keys, int64_t d, float* o, int64_t ldo);
// The same two with keys / values read straight from F16 rows (the KV cache), converted in
// registers; optional (nullptr: attention converts tiles to F32 and calls scores / pv). They must
// give exactly what scores / pv give on the converted rows.
using ScoresF16Fn = void (*)(const float* q, int64_t ldq, int rows, const uint16_t* k, int64_t ldk,
                             int n_keys, int64_t d, float* s, int64_t lds);
using PvF16Fn = void (*)(const float* p, int64_t ldp, int rows, const uint16_t* v, int64_t ldv,
                         int n_keys, int64_t d, float* o, int64_t ldo);
// x[i] = exp(x[i] - max) for i < n; returns the sum of the results.
using ExpSumFn = float (*)(float* x, int64_t n, float max);
// F16 <-> F32 rows: y = float(x); and x = float(half(x)) (round to F16 in
// place).
using F16ToF32Fn = void (*)(const uint16_t* x, float* y, int64_t n);
using RoundF16Fn = void (*)(float* x, int64_t n);
// out[i] = act(gate[i]) * up[i] for i < n; out may alias gate.
using GluFn = void (*)(const float* gate, const float* up, float* out, int64_t n, Activation act);

// Load-time repacking of a weight matrix (rows of GGUF blocks) into groups of `pack_rows` rows,
// and the tile kernel over such groups (same contract as MatTileFn, n_w = pack_rows * n_groups).
using PackFn = std::vector<uint8_t> (*)(tensor::DType type, const void* rows, size_t row_bytes,
                                        int64_t n_in, int64_t n_out);
using PackedTileFn = void (*)(tensor::DType type, int64_t n_in, const uint8_t* packed,
                              size_t group_bytes, int64_t n_groups, const void* a, size_t a_stride,
                              int64_t n_a, float* y, int64_t ldy);
using PackedBytesFn = size_t (*)(tensor::DType type, int64_t n_in);  // per group; 0: not packable
// The packed tile's own activation row layout for weights of `type`: bytes per row (0: it takes
// vec_dot_type rows) and the converter from floats.
using PackedActBytesFn = size_t (*)(tensor::DType type, int64_t n_in);
using PackedActQuantizeFn = void (*)(tensor::DType type, const float* x, void* y, int64_t n_in);

struct KernelTable {
  static constexpr size_t kMaxTypes = 64;  // GGUF type ids are below this

  Isa isa = Isa::kGeneric;
  std::array<quant::TypeOps, kMaxTypes> types{};  // .vec_dot == nullptr: not a weight type
  std::array<MatTileFn, kMaxTypes> mat_tile{};
  PackFn pack = nullptr;  // null: this ISA does not repack
  PackedTileFn packed_tile = nullptr;
  PackedBytesFn packed_group_bytes = nullptr;
  PackedActBytesFn packed_act_bytes = nullptr;  // null: packed tiles take vec_dot_type rows
  PackedActQuantizeFn packed_act_quantize = nullptr;
  int pack_rows = 0;
  ScoresFn scores = nullptr;
  PvFn pv = nullptr;
  ScoresF16Fn scores_f16 = nullptr;
  PvF16Fn pv_f16 = nullptr;
  ExpSumFn exp_sum = nullptr;
  F16ToF32Fn f16_to_f32 = nullptr;
  RoundF16Fn round_f16 = nullptr;
  GluFn glu = nullptr;

  // The entry for `type`; throws kestrel::Error when there are no kernels for
  // it.
  const quant::TypeOps& ops(tensor::DType type) const;
  MatTileFn tile(tensor::DType type) const;
};

// The table for `isa` (built once, then shared); `isa` must be supported.
const KernelTable& kernel_table(Isa isa);

// Installers, one per ISA folder; each overrides the entries it has.
void install_avx2_kernels(KernelTable& table);
void install_neon_kernels(KernelTable& table);

}  // namespace kestrel::backend
