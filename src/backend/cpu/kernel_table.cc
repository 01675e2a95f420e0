#include "backend/cpu/kernel_table.h"

#include <mutex>

#include "core/error.h"
#include "quant/fp16.h"

namespace kestrel::backend {
namespace {

using tensor::DType;

// Generic tile: one vec_dot per (weight row, activation row) through the type's function pointer.
template <DType kType>
void generic_tile(int64_t n_in, const void* w, size_t w_stride, int64_t n_w, const void* a,
                  size_t a_stride, int64_t n_a, float* y, int64_t ldy) {
  const quant::VecDotFn vec_dot = quant::generic_type_ops(kType).vec_dot;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t o = 0; o < n_w; ++o) {
    for (int64_t r = 0; r < n_a; ++r) y[r * ldy + o] = vec_dot(n_in, wb + o * w_stride, ab + r * a_stride);
  }
}

float generic_dot_f16(const float* q, const uint16_t* k, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += q[i] * quant::fp16_to_fp32(k[i]);
  return sum;
}

void generic_axpy_f16(float a, const uint16_t* v, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * quant::fp16_to_fp32(v[i]);
}

constexpr DType kComputable[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,
                                 DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0,
                                 DType::Q8_1, DType::Q4_K, DType::Q5_K, DType::Q6_K,
                                 DType::Q8_K};

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
  t.dot_f16 = generic_dot_f16;
  t.axpy_f16 = generic_axpy_f16;
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
