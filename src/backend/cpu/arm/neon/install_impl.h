// The integer kernels of this folder instantiated for one Dot policy and written into a kernel
// table; included by exactly one translation unit per policy (baseline.cc, dotprod.cc), each
// with its own compile flags.
#pragma once

#include "backend/cpu/arm/neon/block32.h"
#include "backend/cpu/arm/neon/kquants.h"
#include "backend/cpu/kernel_table.h"

namespace kestrel::backend::neon {

template <class K>
void tile(int64_t n_in, const void* w, size_t w_stride, int64_t n_w, const void* a, size_t a_stride,
          int64_t n_a, float* y, int64_t ldy) {
  run_tiles<K>(n_in, static_cast<const uint8_t*>(w), w_stride, n_w, static_cast<const uint8_t*>(a),
               a_stride, n_a, y, ldy);
}

template <class K>
float vec_dot(int64_t n, const void* w, const void* a) {
  float y;
  K::template run<1, 1>(n, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), 0, &y,
                        1);
  return y;
}

template <class K>
void install(KernelTable& t, tensor::DType type) {
  t.mat_tile[static_cast<size_t>(type)] = &tile<K>;
  t.types[static_cast<size_t>(type)].vec_dot = &vec_dot<K>;
}

template <class Dot>
void install_integer_kernels(KernelTable& t) {
  using tensor::DType;
  install<Block32Kernel<Q4_0Traits, Dot>>(t, DType::Q4_0);
  install<Block32Kernel<Q4_1Traits, Dot>>(t, DType::Q4_1);
  install<Block32Kernel<Q5_0Traits, Dot>>(t, DType::Q5_0);
  install<Block32Kernel<Q5_1Traits, Dot>>(t, DType::Q5_1);
  install<Block32Kernel<Q8_0Traits, Dot>>(t, DType::Q8_0);
  install<Q4KKernel<Dot>>(t, DType::Q4_K);
  install<Q6KKernel<Dot>>(t, DType::Q6_K);
}

// Defined in baseline.cc and dotprod.cc.
void install_baseline_kernels(KernelTable& t);
void install_dotprod_kernels(KernelTable& t);

}  // namespace kestrel::backend::neon
