// 8-row repacking of the 256-element K-quant formats (Q4_K, Q6_K), the same idea as packed_x8.h:
// block b of 8 rows becomes one record whose 32-byte chunks hold row j's bytes in 32-bit lane j,
// so one multiply-add works on 8 rows against 4 broadcast activation values and the 8 rows' sums
// stay in the 8 lanes of one register. A record holds exactly the bytes of the 8 original blocks.
//
// Q4_K record (8 x 144 = 1152 bytes):
//   [0,16) 8 x f16 d   [16,32) 8 x f16 dmin
//   [32,128)   3 chunks: chunk i lane j = row j's 12 scale bytes [4i, 4i+4)
//   [128,1152) 32 chunks: chunk k lane j = row j's qs[4k, 4k+4)
// Q6_K record (8 x 210 = 1680 bytes):
//   [0,16) 8 x f16 d
//   [16,144)    4 chunks: chunk i lane j = row j's int8 scales [4i, 4i+4)
//   [144,1168)  32 chunks: chunk k lane j = row j's ql[4k, 4k+4)
//   [1168,1680) 16 chunks: chunk k lane j = row j's qh[4k, 4k+4)
//
// The 6-bit Q4_K scales are unpacked in registers for 8 rows at once (a handful of instructions
// per block instead of a scalar loop per row), which is what made the row-by-row kernel slow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor/dtype.h"

namespace kestrel::backend::avx2 {

// Bytes of one record (block of 8 rows), or 0 when `type` is not a packed K-quant.
size_t kquant_record_bytes(tensor::DType type);

// Packs n_out rows (n_out % 8 == 0) of n_in elements (n_in % 256 == 0).
std::vector<uint8_t> pack_kquant_x8(tensor::DType type, const void* rows, size_t row_bytes,
                                    int64_t n_in, int64_t n_out);

// y[r * ldy + o] for o < 8 * n_groups, r < n_a, against Q8_K activation rows.
void packed_kquant_tile(tensor::DType type, int64_t n_in, const uint8_t* packed,
                        size_t group_bytes, int64_t n_groups, const uint8_t* a, size_t a_stride,
                        int64_t n_a, float* y, int64_t ldy);

}  // namespace kestrel::backend::avx2
