#include "backend/cpu/x86/avx2/packed_x8.h"

#include <cstring>

#include "backend/cpu/x86/avx2/packed_kquants.h"
#include "backend/cpu/x86/avx2/simd.h"
#include "core/error.h"

namespace kestrel::backend::avx2 {
namespace {

using tensor::DType;

struct Layout {
  size_t block_bytes;  // original block
  size_t qs_offset;    // of the quants in the original block
  size_t qs_bytes;
  bool has_min;
  bool has_qh;  // Q5_0: 4 bytes of fifth bits after d
};

Layout layout_of(DType type) {
  switch (type) {
    case DType::Q4_0:
      return {18, 2, 16, false, false};
    case DType::Q4_1:
      return {20, 4, 16, true, false};
    case DType::Q5_0:
      return {22, 6, 16, false, true};
    case DType::Q8_0:
      return {34, 2, 32, false, false};
    default:
      return {0, 0, 0, false, false};
  }
}

// Q5_0's 32 fifth bits of a row, rearranged at pack time so that chunk c's bits sit where two
// shifts put them on bit 4 of every byte: byte k holds element 4c + k's bit at bit c and element
// 16 + 4c + k's bit at bit 4 + c, for c < 4. (GGUF: element e's bit is bit e of qh.)
uint32_t spread_fifth_bits(uint32_t qh) {
  uint32_t out = 0;
  for (int e = 0; e < 32; ++e) {
    const int c = (e % 16) / 4, k = e % 4;
    out |= ((qh >> e) & 1u) << (8 * k + (e < 16 ? c : 4 + c));
  }
  return out;
}

// The fifth bits of chunk C, on bit 4 of each byte (0x10 or 0), for the low and high nibbles. The
// 16-bit shifts move bits across the byte boundary only into positions the mask clears.
template <int C>
inline __m256i fifth_bits_lo(__m256i qh) {
  return _mm256_and_si256(_mm256_slli_epi16(qh, 4 - C), _mm256_set1_epi8(0x10));
}
template <int C>
inline __m256i fifth_bits_hi(__m256i qh) {
  return _mm256_and_si256(_mm256_srli_epi16(qh, C), _mm256_set1_epi8(0x10));
}

inline __m256i bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

// One group of 8 rows against NA packed-activation rows.
template <DType kType, int NA>
void group_kernel(int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride, float* y,
                  int64_t ldy) {
  constexpr bool kMin = kType == DType::Q4_1;
  constexpr bool kQ8 = kType == DType::Q8_0;
  constexpr bool kQ5 = kType == DType::Q5_0;
  constexpr size_t kScales = kMin ? 32 : kQ5 ? 48 : 16;
  constexpr size_t kRecord = kScales + (kQ8 ? 256 : 128);
  // Q5_0's values reach 31, so its 16-bit sums widen every 2 chunks instead of every 4.
  constexpr int kWiden = kQ5 ? 2 : 4;
  // Packed-activation row (packed_x8.h): nb f32 d, nb extra words, then the quants.
  const uint8_t* a_q = a + 8 * nb;
  __m256 acc[NA];
  for (int r = 0; r < NA; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b, g += kRecord) {
    // Weights are read once per call in decode: ask for the bytes ~2 KiB ahead early.
    for (size_t i = 0; i < kRecord; i += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(g + 2048 + i), _MM_HINT_T0);
    }
    __m256i isum[NA];
    for (int r = 0; r < NA; ++r) isum[r] = _mm256_setzero_si256();
    const uint8_t* qs = g + kScales;
    const uint8_t* aq = a_q + 32 * b;  // row r's: aq + r * a_stride
    if constexpr (kQ8) {
      // Signed x signed: |w| times q with w's sign, as vpmaddubsw needs one unsigned operand. A
      // pair can reach 2 * 127 * 127, so each chunk widens to 32 bits at once.
      for (int c = 0; c < 8; ++c) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        const __m256i wabs = _mm256_sign_epi8(w, w);
        for (int r = 0; r < NA; ++r) {
          const __m256i av = bcast4(aq + r * a_stride + 4 * c);
          const __m256i p = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(av, w));
          isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(p, ones));
        }
      }
    } else {
      // The block's 8 rows x 32 weights as unsigned bytes, low and high nibbles of 4 chunks
      // (8 registers), then one activation row at a time against them.
      __m256i lo[4], hi[4];
      const __m256i qh = kQ5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + 16))
                             : _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
        lo[c] = _mm256_and_si256(w, low4);
        hi[c] = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
      }
      if constexpr (kQ5) {
        lo[0] = _mm256_or_si256(lo[0], fifth_bits_lo<0>(qh));
        hi[0] = _mm256_or_si256(hi[0], fifth_bits_hi<0>(qh));
        lo[1] = _mm256_or_si256(lo[1], fifth_bits_lo<1>(qh));
        hi[1] = _mm256_or_si256(hi[1], fifth_bits_hi<1>(qh));
        lo[2] = _mm256_or_si256(lo[2], fifth_bits_lo<2>(qh));
        hi[2] = _mm256_or_si256(hi[2], fifth_bits_hi<2>(qh));
        lo[3] = _mm256_or_si256(lo[3], fifth_bits_lo<3>(qh));
        hi[3] = _mm256_or_si256(hi[3], fifth_bits_hi<3>(qh));
      }
      for (int r = 0; r < NA; ++r) {
        const uint8_t* q = aq + r * a_stride;
        __m256i psum = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
          const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo[c], bcast4(q + 4 * c)),
                                             _mm256_maddubs_epi16(hi[c], bcast4(q + 16 + 4 * c)));
          psum = _mm256_add_epi16(psum, p);
          if (c % kWiden == kWiden - 1) {
            isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(psum, ones));
            psum = _mm256_setzero_si256();
          }
        }
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g)));
    __m256 mw;
    if constexpr (kMin)
      mw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + 16)));
    for (int r = 0; r < NA; ++r) {
      const uint8_t* row = a + r * a_stride;
      const float* da = reinterpret_cast<const float*>(row) + b;
      const int32_t* extra = reinterpret_cast<const int32_t*>(row + 4 * nb) + b;
      if constexpr (!kMin && !kQ8) {  // Q4_0 / Q5_0: take off the nibbles' offset times sum(q)
        isum[r] = _mm256_sub_epi32(isum[r], _mm256_set1_epi32(*extra));
      }
      const __m256 scale = _mm256_mul_ps(dw, _mm256_broadcast_ss(da));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), scale, acc[r]);
      if constexpr (kMin) {
        acc[r] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(reinterpret_cast<const float*>(extra)),
                                 acc[r]);
      }
    }
  }
  for (int r = 0; r < NA; ++r) _mm256_storeu_ps(y + r * ldy, acc[r]);
}

template <DType kType>
void tile_type(int64_t n_in, const uint8_t* packed, size_t group_bytes, int64_t n_groups,
               const uint8_t* a, size_t a_stride, int64_t n_a, float* y, int64_t ldy) {
  const int64_t nb = n_in / 32;
  for (int64_t gi = 0; gi < n_groups; ++gi) {
    const uint8_t* g = packed + gi * group_bytes;
    float* yg = y + 8 * gi;
    int64_t r = 0;
    for (; kType != DType::Q8_0 && r + 8 <= n_a; r += 8)
      group_kernel<kType, 8>(nb, g, a + r * a_stride, a_stride, yg + r * ldy, ldy);
    for (; r + 4 <= n_a; r += 4)
      group_kernel<kType, 4>(nb, g, a + r * a_stride, a_stride, yg + r * ldy, ldy);
    for (; r < n_a; ++r)
      group_kernel<kType, 1>(nb, g, a + r * a_stride, a_stride, yg + r * ldy, ldy);
  }
}

}  // namespace

size_t packed_act_bytes(DType type, int64_t n_in) {
  return layout_of(type).block_bytes != 0 ? 40 * static_cast<size_t>(n_in / 32) : 0;
}

size_t packed_group_bytes(DType type, int64_t n_in) {
  if (const size_t record = kquant_record_bytes(type); record != 0) {
    return n_in % 256 == 0 ? record * (n_in / 256) : 0;
  }
  return n_in % 32 == 0 ? 8 * layout_of(type).block_bytes * (n_in / 32) : 0;
}

std::vector<uint8_t> pack_x8(DType type, const void* rows, size_t row_bytes, int64_t n_in,
                             int64_t n_out) {
  if (kquant_record_bytes(type) != 0) return pack_kquant_x8(type, rows, row_bytes, n_in, n_out);
  const Layout l = layout_of(type);
  KESTREL_CHECK(l.block_bytes != 0 && n_out % 8 == 0 && n_in % 32 == 0, "pack_x8: cannot pack ",
                tensor::dtype_name(type), " [", n_in, ", ", n_out, "]");
  const int64_t nb = n_in / 32;
  const size_t record = 8 * l.block_bytes;
  const size_t scales = 16 + (l.has_min ? 16 : 0) + (l.has_qh ? 32 : 0);
  std::vector<uint8_t> out(record * nb * (n_out / 8));
  const auto* src = static_cast<const uint8_t*>(rows);
  for (int64_t g = 0; g < n_out / 8; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* rec = out.data() + (g * nb + b) * record;
      for (int j = 0; j < 8; ++j) {
        const uint8_t* blk = src + (8 * g + j) * row_bytes + b * l.block_bytes;
        std::memcpy(rec + 2 * j, blk, 2);                          // d
        if (l.has_min) std::memcpy(rec + 16 + 2 * j, blk + 2, 2);  // m
        if (l.has_qh) {  // qh, rearranged (spread_fifth_bits)
          uint32_t qh;
          std::memcpy(&qh, blk + 2, 4);
          qh = spread_fifth_bits(qh);
          std::memcpy(rec + 16 + 4 * j, &qh, 4);
        }
        for (size_t c = 0; c < l.qs_bytes / 4; ++c) {
          std::memcpy(rec + scales + 32 * c + 4 * j, blk + l.qs_offset + 4 * c, 4);
        }
      }
    }
  }
  return out;
}

void packed_tile(DType type, int64_t n_in, const uint8_t* packed, size_t group_bytes,
                 int64_t n_groups, const void* act, size_t a_stride, int64_t n_a, float* y,
                 int64_t ldy) {
  const auto* a = static_cast<const uint8_t*>(act);
  switch (type) {
    case DType::Q4_0:
      return tile_type<DType::Q4_0>(n_in, packed, group_bytes, n_groups, a, a_stride, n_a, y, ldy);
    case DType::Q4_1:
      return tile_type<DType::Q4_1>(n_in, packed, group_bytes, n_groups, a, a_stride, n_a, y, ldy);
    case DType::Q5_0:
      return tile_type<DType::Q5_0>(n_in, packed, group_bytes, n_groups, a, a_stride, n_a, y, ldy);
    case DType::Q8_0:
      return tile_type<DType::Q8_0>(n_in, packed, group_bytes, n_groups, a, a_stride, n_a, y, ldy);
    case DType::Q4_K:
    case DType::Q6_K:
      return packed_kquant_tile(type, n_in, packed, group_bytes, n_groups, a, a_stride, n_a, y,
                                ldy);
    default:
      fail("packed_tile: no packed kernel for ", tensor::dtype_name(type));
  }
}

}  // namespace kestrel::backend::avx2
