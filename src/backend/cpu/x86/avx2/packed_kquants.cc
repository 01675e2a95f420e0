#include "backend/cpu/x86/avx2/packed_kquants.h"

#include <cstring>

#include "backend/cpu/x86/avx2/kquants.h"
#include "backend/cpu/x86/avx2/simd.h"
#include "core/error.h"

namespace kestrel::backend::avx2 {
namespace {

using tensor::DType;

constexpr size_t kQ4KBlock = 144, kQ4KRecord = 8 * kQ4KBlock;
constexpr size_t kQ6KBlock = 210, kQ6KRecord = 8 * kQ6KBlock;

inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Streams the record `ahead` records on into the cache: decode reads each weight byte once, and
// a record's chunks are visited out of address order, which the hardware prefetchers follow
// poorly.
template <size_t kRecord>
inline void prefetch_record(const uint8_t* record) {
  for (size_t i = 0; i < kRecord; i += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(record + i), _MM_HINT_T0);
  }
}
constexpr int kPrefetchRecords = 2;

inline __m256i bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

// vpshufb control that, in every 32-bit lane, puts lane bytes b0 and b1 (0..3; 0x80 = zero) at
// byte positions p0 and p1 and zeroes the others. vpshufb indexes within 128-bit halves, so the
// same control serves both halves.
inline __m256i lane_shuffle(int p0, int b0, int p1, int b1) {
  alignas(32) int8_t c[32];
  for (int i = 0; i < 32; ++i) c[i] = static_cast<int8_t>(0x80);
  for (int l = 0; l < 8; ++l) {
    c[4 * l + p0] = static_cast<int8_t>(4 * (l % 4) + b0);
    c[4 * l + p1] = static_cast<int8_t>(4 * (l % 4) + b1);
  }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c));
}

// Shuffle controls, built once.
struct Controls {
  __m256i dup_u[4];   // byte s -> both int16 halves, zero-extended (after the shuffle)
  __m256i pair_u[2];  // bytes 2t, 2t+1 -> int16 halves 0, 1, zero-extended
  __m256i dup_s[4];   // byte s -> high bytes of both int16 halves (sign-extend: srai 8)
  __m256i pair_s[2];  // bytes 2t, 2t+1 -> high bytes of the two int16 halves
  Controls() {
    for (int s = 0; s < 4; ++s) {
      dup_u[s] = lane_shuffle(0, s, 2, s);
      dup_s[s] = lane_shuffle(1, s, 3, s);
    }
    for (int t = 0; t < 2; ++t) {
      pair_u[t] = lane_shuffle(0, 2 * t, 2, 2 * t + 1);
      pair_s[t] = lane_shuffle(1, 2 * t, 3, 2 * t + 1);
    }
  }
};
const Controls& controls() {
  static const Controls c;
  return c;
}

// ---- Q4_K ------------------------------------------------------------------------------------

// x = d * sc[s] * q - dmin * m[s] for sub-block s (32 elements); chunk c (64 elements) of qs has
// sub-block 2c in its low nibbles and 2c + 1 in its high nibbles.
template <int NA>
void q4k_group(int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride, float* y,
               int64_t ldy, const Controls& ctl) {
  __m256 acc[NA];
  for (int r = 0; r < NA; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b, g += kQ4KRecord) {
    prefetch_record<kQ4KRecord>(g + kPrefetchRecords * kQ4KRecord);
    // 6-bit scales and mins of 8 rows: lane j bytes = sub-blocks 0..3 (lo) and 4..7 (hi).
    const __m256i s0 = load256(g + 32), s1 = load256(g + 64), s2 = load256(g + 96);
    const __m256i m6 = _mm256_set1_epi8(0x3f), top2 = _mm256_set1_epi8(0x30);
    const __m256i sc_lo = _mm256_and_si256(s0, m6);
    const __m256i mn_lo = _mm256_and_si256(s1, m6);
    const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(s2, low4),
                                          _mm256_and_si256(_mm256_srli_epi32(s0, 2), top2));
    const __m256i mn_hi =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(s2, 4), low4),
                        _mm256_and_si256(_mm256_srli_epi32(s1, 2), top2));
    __m256i isum[NA];
    for (int r = 0; r < NA; ++r) isum[r] = _mm256_setzero_si256();
    const uint8_t* qs = g + 128;
    for (int c = 0; c < 4; ++c) {
      __m256i s_lo[NA], s_hi[NA];  // int16 pair sums of sub-blocks 2c and 2c + 1, per lane
      for (int r = 0; r < NA; ++r) s_lo[r] = s_hi[r] = _mm256_setzero_si256();
      // Each int16 gathers 16 products of at most 15 * 128: below 2^15.
      for (int k = 0; k < 8; ++k) {
        const __m256i w = load256(qs + 32 * (8 * c + k));
        const __m256i lo = _mm256_and_si256(w, low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
        for (int r = 0; r < NA; ++r) {
          const uint8_t* aq = a + r * a_stride + b * kQ8KBytes + 4 + 64 * c + 4 * k;
          s_lo[r] = _mm256_add_epi16(s_lo[r], _mm256_maddubs_epi16(lo, bcast4(aq)));
          s_hi[r] = _mm256_add_epi16(s_hi[r], _mm256_maddubs_epi16(hi, bcast4(aq + 32)));
        }
      }
      const __m256i sc_src = c < 2 ? sc_lo : sc_hi;
      const __m256i sc_l = _mm256_shuffle_epi8(sc_src, ctl.dup_u[(2 * c) % 4]);
      const __m256i sc_h = _mm256_shuffle_epi8(sc_src, ctl.dup_u[(2 * c + 1) % 4]);
      for (int r = 0; r < NA; ++r) {
        isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(s_lo[r], sc_l));
        isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(s_hi[r], sc_h));
      }
    }
    // Minimum term: sum over sub-blocks of m[s] * (sum of the activation's 32 values).
    const __m256i mp0 = _mm256_shuffle_epi8(mn_lo, ctl.pair_u[0]);  // (m0, m1)
    const __m256i mp1 = _mm256_shuffle_epi8(mn_lo, ctl.pair_u[1]);  // (m2, m3)
    const __m256i mp2 = _mm256_shuffle_epi8(mn_hi, ctl.pair_u[0]);  // (m4, m5)
    const __m256i mp3 = _mm256_shuffle_epi8(mn_hi, ctl.pair_u[1]);  // (m6, m7)
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g)));
    const __m256 dmin =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g + 16)));
    for (int r = 0; r < NA; ++r) {
      const uint8_t* ab = a + r * a_stride + b * kQ8KBytes;
      // Q8_K keeps sums per 16 values; pairs of them are the sub-block sums (at most 32 * 128,
      // so they pack to int16). After packs, 32-bit element 0, 1, 4, 5 = sums (0,1) (2,3) (4,5)
      // (6,7).
      const __m256i b32 = _mm256_madd_epi16(load256(ab + 260), ones16);
      const __m256i b16 = _mm256_packs_epi32(b32, b32);
      __m256i msum = _mm256_madd_epi16(
          mp0, _mm256_permutevar8x32_epi32(b16, _mm256_set1_epi32(0)));
      msum = _mm256_add_epi32(
          msum, _mm256_madd_epi16(mp1, _mm256_permutevar8x32_epi32(b16, _mm256_set1_epi32(1))));
      msum = _mm256_add_epi32(
          msum, _mm256_madd_epi16(mp2, _mm256_permutevar8x32_epi32(b16, _mm256_set1_epi32(4))));
      msum = _mm256_add_epi32(
          msum, _mm256_madd_epi16(mp3, _mm256_permutevar8x32_epi32(b16, _mm256_set1_epi32(5))));
      const __m256 da = _mm256_set1_ps(q8k_d(ab));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_mul_ps(d, da), acc[r]);
      acc[r] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, da), acc[r]);
    }
  }
  for (int r = 0; r < NA; ++r) _mm256_storeu_ps(y + r * ldy, acc[r]);
}

// ---- Q6_K ------------------------------------------------------------------------------------

// Element 128h + 32k + l (h < 2, k < 4, l < 32): low 4 bits in nibble k >> 1 of
// ql[64h + 32(k & 1) + l], high 2 bits at bits 2k of qh[32h + l]; x = d * sc[e / 16] * (q - 32).
// The -32 is applied through the activation's 16-value sums.
template <int K>
inline __m256i q6_high_bits(__m256i qh) {  // bits 2K, 2K+1 of each byte -> bits 4, 5
  const __m256i top2 = _mm256_set1_epi8(0x30);
  if constexpr (K == 0) return _mm256_and_si256(_mm256_slli_epi16(qh, 4), top2);
  if constexpr (K == 1) return _mm256_and_si256(_mm256_slli_epi16(qh, 2), top2);
  if constexpr (K == 2) return _mm256_and_si256(qh, top2);
  return _mm256_and_si256(_mm256_srli_epi16(qh, 2), top2);
}

template <int NA, int H, int K>
inline void q6k_quarter(const uint8_t* g, const uint8_t* a, size_t a_stride, int64_t b,
                        __m256i* isum, const Controls& ctl) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const uint8_t* ql = g + 144 + 32 * (16 * H + 8 * (K & 1));
  const uint8_t* qh = g + 1168 + 32 * (8 * H);
  for (int half = 0; half < 2; ++half) {
    const int s = 8 * H + 2 * K + half;  // sub-block of 16 values
    const __m256i sc = _mm256_srai_epi16(
        _mm256_shuffle_epi8(load256(g + 16 + 32 * (s / 4)), ctl.dup_s[s % 4]), 8);
    for (int p = 0; p < 2; ++p) {
      __m256i sum16[NA];  // two chunks: 4 products of at most 63 * 128 per int16
      for (int r = 0; r < NA; ++r) sum16[r] = _mm256_setzero_si256();
      for (int i = 0; i < 2; ++i) {
        const int l4 = 4 * half + 2 * p + i;  // which 4 of the 32 l values
        const __m256i w = load256(ql + 32 * l4);
        const __m256i lo = (K >> 1) ? _mm256_and_si256(_mm256_srli_epi16(w, 4), low4)
                                    : _mm256_and_si256(w, low4);
        const __m256i q = _mm256_or_si256(lo, q6_high_bits<K>(load256(qh + 32 * l4)));
        for (int r = 0; r < NA; ++r) {
          const uint8_t* aq = a + r * a_stride + b * kQ8KBytes + 4 + 128 * H + 32 * K + 4 * l4;
          sum16[r] = _mm256_add_epi16(sum16[r], _mm256_maddubs_epi16(q, bcast4(aq)));
        }
      }
      for (int r = 0; r < NA; ++r) {
        isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(sum16[r], sc));
      }
    }
  }
}

template <int NA>
void q6k_group(int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride, float* y,
               int64_t ldy, const Controls& ctl) {
  __m256 acc[NA];
  for (int r = 0; r < NA; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, g += kQ6KRecord) {
    prefetch_record<kQ6KRecord>(g + kPrefetchRecords * kQ6KRecord);
    __m256i isum[NA];
    for (int r = 0; r < NA; ++r) isum[r] = _mm256_setzero_si256();
    q6k_quarter<NA, 0, 0>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 0, 1>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 0, 2>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 0, 3>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 1, 0>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 1, 1>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 1, 2>(g, a, a_stride, b, isum, ctl);
    q6k_quarter<NA, 1, 3>(g, a, a_stride, b, isum, ctl);
    // Offset: 32 * sum_s sc[s] * bsums[s], with scale pairs (2t, 2t + 1) against the
    // activation's sums (2t, 2t + 1), broadcast as one 32-bit value.
    __m256i sp[8];
    for (int t = 0; t < 8; ++t) {
      sp[t] = _mm256_srai_epi16(
          _mm256_shuffle_epi8(load256(g + 16 + 32 * (t / 2)), ctl.pair_s[t % 2]), 8);
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g)));
    for (int r = 0; r < NA; ++r) {
      const uint8_t* ab = a + r * a_stride + b * kQ8KBytes;
      __m256i off = _mm256_madd_epi16(sp[0], bcast4(ab + 260));
      for (int t = 1; t < 8; ++t) {
        off = _mm256_add_epi32(off, _mm256_madd_epi16(sp[t], bcast4(ab + 260 + 4 * t)));
      }
      const __m256i s = _mm256_sub_epi32(isum[r], _mm256_slli_epi32(off, 5));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d, _mm256_set1_ps(q8k_d(ab))),
                               acc[r]);
    }
  }
  for (int r = 0; r < NA; ++r) _mm256_storeu_ps(y + r * ldy, acc[r]);
}

template <int NA>
void group(DType type, int64_t nb, const uint8_t* g, const uint8_t* a, size_t a_stride, float* y,
           int64_t ldy, const Controls& ctl) {
  if (type == DType::Q4_K) return q4k_group<NA>(nb, g, a, a_stride, y, ldy, ctl);
  q6k_group<NA>(nb, g, a, a_stride, y, ldy, ctl);
}

}  // namespace

size_t kquant_record_bytes(DType type) {
  switch (type) {
    case DType::Q4_K:
      return kQ4KRecord;
    case DType::Q6_K:
      return kQ6KRecord;
    default:
      return 0;
  }
}

std::vector<uint8_t> pack_kquant_x8(DType type, const void* rows, size_t row_bytes, int64_t n_in,
                                    int64_t n_out) {
  const size_t record = kquant_record_bytes(type);
  KESTREL_CHECK(record != 0 && n_out % 8 == 0 && n_in % 256 == 0, "pack_kquant_x8: cannot pack ",
                tensor::dtype_name(type), " [", n_in, ", ", n_out, "]");
  const size_t block = record / 8;
  const int64_t nb = n_in / 256;
  std::vector<uint8_t> out(record * nb * (n_out / 8));
  const auto* src = static_cast<const uint8_t*>(rows);
  // (source offset, destination offset, bytes) of each piece of a block, in 4-byte lanes.
  struct Piece {
    size_t src, dst, bytes;
  };
  const bool q4k = type == DType::Q4_K;
  const Piece q4k_pieces[] = {{4, 32, 12}, {16, 128, 128}};
  const Piece q6k_pieces[] = {{192, 16, 16}, {0, 144, 128}, {128, 1168, 64}};
  const Piece* pieces = q4k ? q4k_pieces : q6k_pieces;
  const int n_pieces = q4k ? 2 : 3;
  for (int64_t g = 0; g < n_out / 8; ++g) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* rec = out.data() + (g * nb + b) * record;
      for (int j = 0; j < 8; ++j) {
        const uint8_t* blk = src + (8 * g + j) * row_bytes + b * block;
        if (q4k) {
          std::memcpy(rec + 2 * j, blk, 2);           // d
          std::memcpy(rec + 16 + 2 * j, blk + 2, 2);  // dmin
        } else {
          std::memcpy(rec + 2 * j, blk + 208, 2);  // d
        }
        for (int p = 0; p < n_pieces; ++p) {
          for (size_t c = 0; c < pieces[p].bytes / 4; ++c) {
            std::memcpy(rec + pieces[p].dst + 32 * c + 4 * j, blk + pieces[p].src + 4 * c, 4);
          }
        }
      }
    }
  }
  return out;
}

void packed_kquant_tile(DType type, int64_t n_in, const uint8_t* packed, size_t group_bytes,
                        int64_t n_groups, const uint8_t* a, size_t a_stride, int64_t n_a, float* y,
                        int64_t ldy) {
  KESTREL_CHECK(kquant_record_bytes(type) != 0, "packed_kquant_tile: ", tensor::dtype_name(type));
  const Controls& ctl = controls();
  const int64_t nb = n_in / 256;
  for (int64_t gi = 0; gi < n_groups; ++gi) {
    const uint8_t* g = packed + gi * group_bytes;
    float* yg = y + 8 * gi;
    int64_t r = 0;
    for (; r + 4 <= n_a; r += 4) group<4>(type, nb, g, a + r * a_stride, a_stride, yg + r * ldy, ldy, ctl);
    for (; r + 2 <= n_a; r += 2) group<2>(type, nb, g, a + r * a_stride, a_stride, yg + r * ldy, ldy, ctl);
    for (; r < n_a; ++r) group<1>(type, nb, g, a + r * a_stride, a_stride, yg + r * ldy, ldy, ctl);
  }
}

}  // namespace kestrel::backend::avx2
