// Row-wise and element-wise ops: embedding lookup, RMSNorm, RoPE, KV writes,
// GLU, residual add.
#include <cmath>

#include "backend/cpu/cpu_ops.h"
#include "core/error.h"
#include "quant/fp16.h"
#include "quant/type_ops.h"

namespace kestrel::backend {
CpuOps::CpuOps(ThreadPool& pool, Isa isa)
    : pool_(pool), kernels_(kernel_table(isa)), name_(std::string("cpu-") + isa_name(isa)) {}

void CpuOps::embed(const WeightMatrix& table, const int32_t* ids, int64_t n, float scale,
                   float* out) {
  const quant::TypeOps& ops = quant::generic_type_ops(table.type);
  const auto* base = static_cast<const uint8_t*>(table.data);
  for (int64_t i = 0; i < n; ++i) {
    KESTREL_CHECK(ids[i] >= 0 && ids[i] < table.n_out, "token id ", ids[i], " out of range [0, ",
                  table.n_out, ")");
    float* row = out + i * table.n_in;
    ops.dequantize_row(base + ids[i] * table.row_bytes, row, table.n_in);
    if (scale != 1.0f) {
      for (int64_t j = 0; j < table.n_in; ++j) row[j] *= scale;
    }
  }
}

void CpuOps::rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t dim,
                      float eps) {
  pool_.parallel_for(n_rows, 8, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * dim;
      float* yr = y + r * dim;
      double sum = 0.0;  // double accumulation, as the reference engine does
      for (int64_t i = 0; i < dim; ++i) sum += static_cast<double>(xr[i]) * xr[i];
      const float scale = 1.0f / std::sqrt(static_cast<float>(sum / dim) + eps);
      if (w != nullptr) {
        for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * scale * w[i];
      } else {
        for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * scale;
      }
    }
  });
}

void CpuOps::rope(float* x, const int32_t* positions, int64_t n_tokens, int n_heads, int head_dim,
                  int n_rot, float freq_base, RopeStyle style) {
  // theta_i = pos * base^(-2i / n_rot), accumulated as a running product in
  // float like the reference engine, so positions rotate by bit-identical
  // angles.
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  const int half = n_rot / 2;
  pool_.parallel_for(n_tokens, 1, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int h = 0; h < n_heads; ++h) {
        float* v = x + (t * n_heads + h) * head_dim;
        float theta = static_cast<float>(positions[t]);
        for (int i = 0; i < half; ++i) {
          const float c = std::cos(theta);
          const float s = std::sin(theta);
          const int a = style == RopeStyle::kNormal ? 2 * i : i;
          const int b = style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
          const float x0 = v[a];
          const float x1 = v[b];
          v[a] = x0 * c - x1 * s;
          v[b] = x0 * s + x1 * c;
          theta *= theta_scale;
        }
      }
    }
  });
}

void CpuOps::write_kv(const float* k, const float* v, const int32_t* slots, int64_t n_tokens,
                      int64_t row, uint16_t* k_cache, uint16_t* v_cache) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    uint16_t* kd = k_cache + static_cast<int64_t>(slots[t]) * row;
    uint16_t* vd = v_cache + static_cast<int64_t>(slots[t]) * row;
    for (int64_t i = 0; i < row; ++i) {
      kd[i] = quant::fp32_to_fp16(k[t * row + i]);
      vd[i] = quant::fp32_to_fp16(v[t * row + i]);
    }
  }
}

void CpuOps::glu(const float* gate, const float* up, float* out, int64_t n, Activation act) {
  const GluFn glu = kernels_.glu;
  pool_.parallel_for(n, 4096, [&](int64_t i0, int64_t i1, int) {
    glu(gate + i0, up + i0, out + i0, i1 - i0, act);
  });
}

void CpuOps::add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace kestrel::backend
