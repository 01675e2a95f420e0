// Weights repacked at load time into groups of 8 rows, for the 32-element formats (Q4_0, Q4_1,
// Q5_0, Q8_0); the K-quants (Q4_K, Q6_K) have their own records (packed_kquants.h) behind the
// same three entry points. In a group, block b of all 8 rows is one record:
//   [8 x f16 d] [8 x f16 m (Q4_1 only)] [8 x u32 qh (Q5_0 only, bits rearranged)] [quants]
// where the quants are 32-byte chunks whose 4-byte lane j holds bytes of row j: for Q4 formats
// chunk c (of 4) lane j = row j's qs[4c, 4c+4) (low nibbles: elements 4c..4c+3, high nibbles:
// 16+4c..16+4c+3); for Q8_0 chunk c (of 8) lane j = row j's qs[4c, 4c+4). A record has exactly
// the bytes of the 8 original blocks, so decode reads the same amount of memory.
//
// Why: with row j in lane j, one multiply-add instruction works on 8 rows against 4 activation
// values broadcast to all lanes, the 8 rows' integer sums land in the 8 lanes of one register
// (no horizontal reductions), and the 8 scales convert with one instruction. The float work per
// block is then 3 instructions for 8 rows instead of ~5 per row.
//
// Activations for the 32-element formats come in their own row layout (packed activations):
//   [nb x f32 d] [nb x 4-byte extra] [nb x 32 int8 q]
// with d and q exactly those of the GGUF activation block (vec_dot_type: Q8_0 or Q8_1, d already
// rounded to f16), so the products equal the unpacked kernels'. The extra word is, per weight type:
//   Q4_0 / Q5_0: int32 8 * sum(q) / 16 * sum(q). The kernel multiplies the stored nibbles (0..15,
//                0..31) unsigned, with no sign juggling, and subtracts this once per block: the
//                integer sum equals sum((w - 8) * q) exactly.
//   Q4_1:        f32 s, Q8_1's f16-rounded d * sum(q), for the minimum's term.
//   Q8_0:        unused (0).
// With unsigned nibbles the 16-bit partial sums of a whole Q4 block fit (4 chunks x 2 x 2 x 15 x
// 127 < 2^15), so they widen to 32 bits once per block rather than once per chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/dtype.h"

namespace kestrel::backend::avx2 {

// Bytes of one packed group (8 rows of n_in elements), or 0 when `type` has no packed layout.
size_t packed_group_bytes(tensor::DType type, int64_t n_in);

// Packs n_out rows (n_out % 8 == 0) of n_in elements; returns the packed bytes.
std::vector<uint8_t> pack_x8(tensor::DType type, const void* rows, size_t row_bytes, int64_t n_in,
                             int64_t n_out);

// Bytes of one packed-activation row for weights of `type`, or 0 when packed_tile takes
// vec_dot_type rows for it (the K-quants take Q8_K rows).
size_t packed_act_bytes(tensor::DType type, int64_t n_in);

// Converts n_in floats to one packed-activation row for weights of `type` (quantize.cc).
void quantize_packed_act(tensor::DType type, const float* x, void* y, int64_t n_in);

// y[r * ldy + o] for o < 8 * n_groups, r < n_a: packed groups are group_bytes apart; activation
// rows a_stride bytes apart, in the packed-activation layout when packed_act_bytes(type) != 0.
void packed_tile(tensor::DType type, int64_t n_in, const uint8_t* packed, size_t group_bytes,
                 int64_t n_groups, const void* a, size_t a_stride, int64_t n_a, float* y,
                 int64_t ldy);

}  // namespace kestrel::backend::avx2
