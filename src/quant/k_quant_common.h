// Pieces shared by the K-quants: the 6-bit scale/min packing of Q4_K and Q5_K, and the reference
// scale searches of GGUF's quantizers (k_quant_search.cc).
#pragma once

#include <cstdint>

#include "quant/blocks.h"

namespace kestrel::quant {

// Q4_K/Q5_K `scales` (12 bytes) hold 8 six-bit scales sc[j] and 8 six-bit mins m[j]:
//   j < 4:  sc[j] = bytes[j] & 63,  m[j] = bytes[j + 4] & 63
//   j >= 4: sc[j] = (bytes[j + 4] & 15) | (bytes[j - 4] >> 6) << 4
//           m[j]  = (bytes[j + 4] >> 4) | (bytes[j] >> 6) << 4
// i.e. bytes 0-3 carry sc[0..3] and the top 2 bits of sc[4..7], bytes 4-7 m[0..3] and the top
// bits of m[4..7], bytes 8-11 the low nibbles of sc[4..7] (low) and m[4..7] (high).
inline void get_scale_min_k4(int j, const uint8_t* bytes, int* sc, int* m) {
  if (j < 4) {
    *sc = bytes[j] & 63;
    *m = bytes[j + 4] & 63;
  } else {
    *sc = (bytes[j + 4] & 0x0f) | ((bytes[j - 4] >> 6) << 4);
    *m = (bytes[j + 4] >> 4) | ((bytes[j] >> 6) << 4);
  }
}

// Inverse of get_scale_min_k4 for sc[j], m[j] in 0..63.
inline void pack_scale_min_k4(const int (&sc)[8], const int (&m)[8], uint8_t* bytes) {
  for (int j = 0; j < 4; ++j) {
    bytes[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    bytes[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    bytes[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
  }
}

// Shared by Q4_K and Q5_K once their values q[256] (0..15 or 0..31) are unpacked: both store
// x = d * sc[j] * q - dmin * m[j] per 32-element sub-block j with the same 6-bit scale packing.
inline void dequantize_sc_min_k(const uint8_t* q, const uint8_t* scales, float d, float dmin,
                                float* y) {
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    get_scale_min_k4(j, scales, &sc, &m);
    const float dj = d * sc;
    const float mj = dmin * m;
    for (int l = 0; l < 32; ++l) y[32 * j + l] = dj * q[32 * j + l] - mj;
  }
}

// sum_e (d sc_j q_e - dmin m_j) d_a a_e
//   = (d d_a) * sum_j sc_j * sum_{e in j} q_e a_e  -  (dmin d_a) * sum_j m_j * bsum_j,
// both inner sums exact in int32; bsum_j (sum of a over the sub-block) comes from Q8_K's bsums.
inline float dot_sc_min_k(const uint8_t* q, const uint8_t* scales, float d, float dmin,
                          const BlockQ8_K& a) {
  int32_t isum = 0, msum = 0;
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    get_scale_min_k4(j, scales, &sc, &m);
    int32_t s = 0;
    for (int l = 0; l < 32; ++l) s += q[32 * j + l] * a.qs[32 * j + l];
    isum += sc * s;
    msum += m * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
  }
  return (d * a.d) * static_cast<float>(isum) - (dmin * a.d) * static_cast<float>(msum);
}

// Affine search for x ~ scale * L - min_out with L in 0..nmax, minimising the weighted squared
// error: start from the min/max grid, then try nstep + 1 rescaled grids (nmax + rmin + rdelta*k)
// and, for each, the least-squares scale and min for the rounded L. min is clamped to <= 0 (so
// *min_out >= 0). Returns the scale; L gets the levels of the best candidate. As GGUF's
// make_qkx2_quants with use_mad = false.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* min_out, uint8_t* Laux, float rmin, float rdelta, int nstep);

// Symmetric search for x ~ scale * (L - nmax) with L - nmax in [-nmax, nmax - 1], weights x^2:
// start from scale = -max/nmax (max = the element of largest magnitude), refit the least-squares
// scale, and try 18 nearby grids (nmax + 0.1 k, k = -9..9). As GGUF's make_qx_quants with
// rmse_type 1 and no importance weights.
float make_qx_quants(int n, int nmax, const float* x, int8_t* L);

}  // namespace kestrel::quant
