// Block structs of the GGUF (ggml) quantized formats, bit for bit as GGUF files store them.
// Every multi-byte field is little-endian; `uint16_t d` fields hold IEEE half bits (see fp16.h).
// Sizes are checked against src/tensor/dtype.cc's table, which readers use to walk rows.
#pragma once

#include <cstdint>

namespace kestrel::quant {

constexpr int kQK4_0 = 32;
constexpr int kQK4_1 = 32;
constexpr int kQK5_0 = 32;
constexpr int kQK5_1 = 32;
constexpr int kQK8_0 = 32;
constexpr int kQK8_1 = 32;
constexpr int kQK_K = 256;       // elements per K-quant super-block
constexpr int kKScaleSize = 12;  // bytes of packed 6-bit scales/mins in Q4_K and Q5_K

// Q4_0, 18 bytes: [0,2) d (f16); [2,18) qs: byte j holds element j (low nibble) and j+16 (high
// nibble). x = d * (q - 8).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};

// Q4_1, 20 bytes: [0,2) d (f16); [2,4) m (f16); [4,20) qs as Q4_0. x = d * q + m.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};

// Q5_0, 22 bytes: [0,2) d (f16); [2,6) qh: bit j (little-endian u32) is bit 4 of element j;
// [6,22) qs: low 4 bits as Q4_0. x = d * (q - 16).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};

// Q5_1, 24 bytes: [0,2) d (f16); [2,4) m (f16); [4,8) qh; [8,24) qs as Q5_0. x = d * q + m.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};

// Q8_0, 34 bytes: [0,2) d (f16); [2,34) qs (int8, element order). x = d * q.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};

// Q8_1 (activations for Q4_1/Q5_1), 36 bytes: [0,2) d (f16); [2,4) s = d * sum(qs) (f16);
// [4,36) qs (int8). x = d * q.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_1];
};

// Q4_K, 144 bytes, 8 sub-blocks of 32: [0,2) d (f16); [2,4) dmin (f16); [4,16) scales: 6-bit
// scale sc[j] and min m[j] per sub-block (packing in k_quant_common.h); [16,144) qs: 64-element
// chunk c uses bytes [32c, 32c+32): element 64c+l in the low nibble of byte l, 64c+32+l in the high
// nibble. x = d * sc[j] * q - dmin * m[j].
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};

// Q5_K, 176 bytes: [0,2) d; [2,4) dmin; [4,16) scales as Q4_K; [16,48) qh: bit (2c) of byte l is
// bit 4 of element 64c+l, bit (2c+1) that of 64c+32+l; [48,176) qs: low 4 bits as Q4_K.
// x = d * sc[j] * q - dmin * m[j].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// Q6_K, 210 bytes, 16 sub-blocks of 16: [0,128) ql; [128,192) qh; [192,208) scales (int8);
// [208,210) d (f16). Each half h (128 elements) uses ql[64h, 64h+64), qh[32h, 32h+32): for l < 32,
// element 128h+l+32k has low 4 bits in ql[64h + l + 32(k&1)] (nibble k>>1) and high 2 bits at
// bits 2k of qh[32h+l]. x = d * scales[e/16] * (q - 32).
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// Q8_K (activations for the K-quants), 292 bytes: [0,4) d (f32); [4,260) qs (int8);
// [260,292) bsums: int16 sum of each 16 consecutive qs. x = d * q.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace kestrel::quant
