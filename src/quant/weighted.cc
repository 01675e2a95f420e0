#include "quant/weighted.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_quant_common.h"
#include "quant/kernels.h"
#include "quant/q5_pack.h"

namespace kestrel::quant {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// w_e = imp_e * sqrt(sigma2 + x_e^2) over one block; a zero importance column (never active in
// calibration) still gets a small weight so the block's other elements do not decide alone.
void block_weights(const float* x, const float* imp, int n, float* w) {
  float sum_x2 = 0;
  for (int i = 0; i < n; ++i) sum_x2 += x[i] * x[i];
  const float sigma2 = sum_x2 / n;
  float mean_imp = 0;
  for (int i = 0; i < n; ++i) mean_imp += imp[i];
  mean_imp /= n;
  const float floor = 1e-3f * mean_imp + 1e-20f;
  for (int i = 0; i < n; ++i) w[i] = std::max(imp[i], floor) * std::sqrt(sigma2 + x[i] * x[i]);
}

// Q4_0 (nmax 8) and Q5_0 (nmax 16): one f16 scale per 32, levels re-rounded against it.
template <int kNmax>
void symmetric_32(const float* xb, const float* imp, uint16_t* d_out, int (&q)[32]) {
  float w[32];
  int8_t L[32];
  block_weights(xb, imp, 32, w);
  const float scale = make_qx_quants_weighted(32, kNmax, xb, w, L);
  *d_out = fp32_to_fp16(scale);
  const float d = fp16_to_fp32(*d_out);
  for (int j = 0; j < 32; ++j) {
    q[j] = d != 0.0f ? std::clamp(nearest_int(xb[j] / d), -kNmax, kNmax - 1) + kNmax : L[j];
  }
}

// Q4_1 (nmax 15) and Q5_1 (nmax 31): x ~ d q + m, d and m from the weighted affine search.
template <int kNmax>
void affine_32(const float* xb, const float* imp, uint16_t* d_out, uint16_t* m_out,
               int (&q)[32]) {
  float w[32];
  uint8_t L[32], Laux[32];
  block_weights(xb, imp, 32, w);
  float min = 0;
  const float scale = make_qkx2_quants(32, kNmax, xb, w, L, &min, Laux, -1.0f, 0.1f, 20);
  *d_out = fp32_to_fp16(scale);
  *m_out = fp32_to_fp16(-min);
  const float d = fp16_to_fp32(*d_out), m = fp16_to_fp32(*m_out);
  for (int j = 0; j < 32; ++j) {
    q[j] = d != 0.0f ? std::clamp(nearest_int((xb[j] - m) / d), 0, kNmax) : L[j];
  }
}

void row_q4_0(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / 32; ++i) {
    BlockQ4_0 b;
    int q[32];
    symmetric_32<8>(x + 32 * i, imp + 32 * i, &b.d, q);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    store_block(y, i, b);
  }
}

void row_q5_0(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / 32; ++i) {
    BlockQ5_0 b;
    int q[32];
    symmetric_32<16>(x + 32 * i, imp + 32 * i, &b.d, q);
    pack_q5(q, b.qs, b.qh);
    store_block(y, i, b);
  }
}

void row_q4_1(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / 32; ++i) {
    BlockQ4_1 b;
    int q[32];
    affine_32<15>(x + 32 * i, imp + 32 * i, &b.d, &b.m, q);
    for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + 16] << 4));
    store_block(y, i, b);
  }
}

void row_q5_1(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / 32; ++i) {
    BlockQ5_1 b;
    int q[32];
    affine_32<31>(x + 32 * i, imp + 32 * i, &b.d, &b.m, q);
    pack_q5(q, b.qs, b.qh);
    store_block(y, i, b);
  }
}

// Q4_K and Q5_K share everything but the level count and the packing of the levels.
template <int kNmax>
void k_affine_superblock(const float* xb, const float* imp, uint16_t* d_out, uint16_t* dmin_out,
                         uint8_t* scales_out, uint8_t (&L)[kQK_K]) {
  uint8_t Laux[32];
  float w[32], mins[8], scales[8];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    block_weights(xb + 32 * j, imp + 32 * j, 32, w);
    scales[j] = make_qkx2_quants(32, kNmax, xb + 32 * j, w, L + 32 * j, &mins[j], Laux,
                                 kNmax == 15 ? -1.0f : -0.5f, 0.1f, kNmax == 15 ? 20 : 15);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  int ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = std::min(63, nearest_int(inv_scale * scales[j]) & 0xff);
    lm[j] = std::min(63, nearest_int(inv_min * mins[j]) & 0xff);
  }
  pack_scale_min_k4(ls, lm, scales_out);
  *d_out = fp32_to_fp16(max_scale / 63.0f);
  *dmin_out = fp32_to_fp16(max_min / 63.0f);
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    get_scale_min_k4(j, scales_out, &sc, &m);
    const float d = fp16_to_fp32(*d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = fp16_to_fp32(*dmin_out) * m;
    for (int l = 0; l < 32; ++l) {
      L[32 * j + l] =
          static_cast<uint8_t>(std::clamp(nearest_int((xb[32 * j + l] + dm) / d), 0, kNmax));
    }
  }
}

void row_q4_k(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    BlockQ4_K b;
    uint8_t L[kQK_K];
    k_affine_superblock<15>(x + i * kQK_K, imp + i * kQK_K, &b.d, &b.dmin, b.scales, L);
    for (int c = 0; c < kQK_K / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        b.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
      }
    }
    store_block(y, i, b);
  }
}

void row_q5_k(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    BlockQ5_K b;
    uint8_t L[kQK_K];
    k_affine_superblock<31>(x + i * kQK_K, imp + i * kQK_K, &b.d, &b.dmin, b.scales, L);
    std::memset(b.qh, 0, sizeof b.qh);
    for (int c = 0; c < kQK_K / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
    store_block(y, i, b);
  }
}

void row_q6_k(const float* x, void* y, int64_t n, const float* imp) {
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* xb = x + i * kQK_K;
    const float* ib = imp + i * kQK_K;
    int8_t L[kQK_K];
    float w[16], scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int s = 0; s < 16; ++s) {
      block_weights(xb + 16 * s, ib + 16 * s, 16, w);
      scales[s] = make_qx_quants_weighted(16, 32, xb + 16 * s, w, L + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    BlockQ6_K b;
    std::memset(&b, 0, sizeof b);
    if (max_abs_scale < kGroupMaxEps) {
      store_block(y, i, b);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    b.d = fp32_to_fp16(1 / iscale);
    for (int s = 0; s < 16; ++s) {
      b.scales[s] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[s])));
    }
    for (int s = 0; s < 16; ++s) {
      const float d = fp16_to_fp32(b.d) * b.scales[s];
      if (d == 0.0f) continue;
      for (int l = 0; l < 16; ++l) {
        L[16 * s + l] =
            static_cast<int8_t>(std::clamp(nearest_int(xb[16 * s + l] / d), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * h + l] = static_cast<uint8_t>((Lh[l] & 0x0f) | ((Lh[l + 64] & 0x0f) << 4));
        b.ql[64 * h + l + 32] =
            static_cast<uint8_t>((Lh[l + 32] & 0x0f) | ((Lh[l + 96] & 0x0f) << 4));
        b.qh[32 * h + l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                                ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
      }
    }
    store_block(y, i, b);
  }
}

}  // namespace

float make_qx_quants_weighted(int n, int nmax, const float* x, const float* w, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, static_cast<int8_t>(nmax));
    return 0.0f;
  }
  // For each candidate grid, the least-squares scale s = sum(w x l) / sum(w l^2) gives the error
  // sum(w x^2) - sumlx^2 / suml2: the best grid maximises sumlx^2 / suml2.
  float best_scale = 0, best = -1;
  for (int is = -9; is <= 9; ++is) {
    const float iscale = -(nmax + 0.1f * is) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      sumlx += w[i] * x[i] * l;
      suml2 += w[i] * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      best = sumlx * sumlx / suml2;
      best_scale = sumlx / suml2;
      for (int i = 0; i < n; ++i) {
        L[i] = static_cast<int8_t>(std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1) + nmax);
      }
    }
  }
  return best_scale;
}

bool has_weighted_quantizer(tensor::DType type) {
  using tensor::DType;
  return type == DType::Q4_0 || type == DType::Q4_1 || type == DType::Q5_0 ||
         type == DType::Q5_1 || type == DType::Q4_K || type == DType::Q5_K || type == DType::Q6_K;
}

void quantize_row_weighted(tensor::DType type, const float* x, void* y, int64_t n,
                           const float* importance) {
  using tensor::DType;
  using RowFn = void (*)(const float*, void*, int64_t, const float*);
  RowFn fn = nullptr;
  if (type == DType::Q4_0) fn = row_q4_0;
  if (type == DType::Q4_1) fn = row_q4_1;
  if (type == DType::Q5_0) fn = row_q5_0;
  if (type == DType::Q5_1) fn = row_q5_1;
  if (type == DType::Q4_K) fn = row_q4_k;
  if (type == DType::Q5_K) fn = row_q5_k;
  if (type == DType::Q6_K) fn = row_q6_k;
  if (fn != nullptr) return fn(x, y, n, importance);
  fail("no importance-weighted quantizer for ", tensor::dtype_name(type));
}

}  // namespace kestrel::quant
