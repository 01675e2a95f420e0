#include "backend/cpu/kernel_table.h"

#include <cmath>
#include <mutex>

#include "core/error.h"
#include "quant/fp16.h"

namespace kestrel::backend {
namespace {

using tensor::DType;

// Generic tile: one vec_dot per (weight row, activation row) through the type's
// function pointer.
template <DType kType>
void generic_tile(int64_t n_in, const void* w, size_t w_stride, int64_t n_w, const void* a,
                  size_t a_stride, int64_t n_a, float* y, int64_t ldy) {
  const quant::VecDotFn vec_dot = quant::generic_type_ops(kType).vec_dot;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t o = 0; o < n_w; ++o) {
    for (int64_t r = 0; r < n_a; ++r)
      y[r * ldy + o] = vec_dot(n_in, wb + o * w_stride, ab + r * a_stride);
  }
}

void generic_scores(const float* q, int64_t ldq, int rows, const float* k, int64_t ldk, int n_keys,
                    int64_t d, float* s, int64_t lds) {
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < n_keys; ++j) {
      float sum = 0.0f;
      for (int64_t i = 0; i < d; ++i) sum += q[r * ldq + i] * k[j * ldk + i];
      s[r * lds + j] = sum;
    }
  }
}

void generic_pv(const float* p, int64_t ldp, int rows, const float* v, int64_t ldv, int n_keys,
                int64_t d, float* o, int64_t ldo) {
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < n_keys; ++j) {
      const float pj = p[r * ldp + j];
      for (int64_t i = 0; i < d; ++i) o[r * ldo + i] += pj * v[j * ldv + i];
    }
  }
}

float generic_exp_sum(float* x, int64_t n, float max) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  return sum;
}

void generic_f16_to_f32(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = quant::fp16_to_fp32(x[i]);
}

void generic_glu(const float* gate, const float* up, float* out, int64_t n, Activation act) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kGeluCoef = 0.044715f;
  switch (act) {
    case Activation::kSilu:
      for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
      break;
    case Activation::kGeluTanh:
      for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        out[i] =
            0.5f * g * (1.0f + std::tanh(kSqrt2OverPi * g * (1.0f + kGeluCoef * g * g))) * up[i];
      }
      break;
  }
}

void generic_round_f16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = quant::fp16_to_fp32(quant::fp32_to_fp16(x[i]));
}

constexpr DType kComputable[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                                 DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q8_1, DType::Q4_K,
                                 DType::Q5_K, DType::Q6_K, DType::Q8_K};

template <DType... kTypes>
void install_generic_tiles(KernelTable& t) {
  ((t.mat_tile[static_cast<size_t>(kTypes)] = &generic_tile<kTypes>), ...);
}

KernelTable build_table(Isa isa) {
  KernelTable t;
  t.isa = isa;
  for (DType type : kComputable) t.types[static_cast<size_t>(type)] = quant::generic_type_ops(type);
  install_generic_tiles<DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                        DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K>(t);
  t.scores = generic_scores;
  t.pv = generic_pv;
  t.exp_sum = generic_exp_sum;
  t.f16_to_f32 = generic_f16_to_f32;
  t.round_f16 = generic_round_f16;
  t.glu = generic_glu;
  switch (isa) {
    case Isa::kGeneric:
      break;
    case Isa::kAvx2:
      install_avx2_kernels(t);
      break;
    case Isa::kAvx512:
    case Isa::kAmx:
      fail("no kernels for ISA ", isa_name(isa));
    case Isa::kNeon:
      install_neon_kernels(t);
      break;
  }
  return t;
}

}  // namespace

const quant::TypeOps& KernelTable::ops(DType type) const {
  const auto i = static_cast<size_t>(type);
  KESTREL_CHECK(i < kMaxTypes && types[i].dequantize_row != nullptr, "no ", isa_name(isa),
                " kernels for tensor type ", tensor::dtype_name(type));
  return types[i];
}

MatTileFn KernelTable::tile(DType type) const {
  const auto i = static_cast<size_t>(type);
  KESTREL_CHECK(i < kMaxTypes && mat_tile[i] != nullptr, "no ", isa_name(isa),
                " matrix kernel for tensor type ", tensor::dtype_name(type));
  return mat_tile[i];
}

const KernelTable& kernel_table(Isa isa) {
  KESTREL_CHECK(isa_supported(isa), "ISA ", isa_name(isa), " is not supported here");
  static KernelTable tables[5];
  static std::once_flag once[5];
  const auto i = static_cast<size_t>(isa);
  std::call_once(once[i], [&] { tables[i] = build_table(isa); });
  return tables[i];
}

#if !defined(KESTREL_HAVE_AVX2)
void install_avx2_kernels(KernelTable&) { fail("AVX2 kernels are not compiled into this build"); }
#endif
#if !defined(KESTREL_HAVE_NEON)
void install_neon_kernels(KernelTable&) { fail("NEON kernels are not compiled into this build"); }
#endif

}  // namespace kestrel::backend
