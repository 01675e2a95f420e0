// Fills the AVX2 entries of the kernel table: matrix tiles and vec_dot for the
// block formats the models use, and the attention pieces (attention.cc). Types
// not listed keep their generic kernels.
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/x86/avx2/block32.h"
#include "backend/cpu/x86/avx2/float16.h"
#include "backend/cpu/x86/avx2/kquants.h"
#include "backend/cpu/x86/avx2/packed_x8.h"

namespace kestrel::backend {

void install_avx2_attention(KernelTable& t);   // attention.cc
void install_avx2_quantizers(KernelTable& t);  // quantize.cc

namespace {

using tensor::DType;

template <class K>
void tile(int64_t n_in, const void* w, size_t w_stride, int64_t n_w, const void* a, size_t a_stride,
          int64_t n_a, float* y, int64_t ldy) {
  avx2::run_tiles<K>(n_in, static_cast<const uint8_t*>(w), w_stride, n_w,
                     static_cast<const uint8_t*>(a), a_stride, n_a, y, ldy);
}

template <class K>
float vec_dot(int64_t n, const void* w, const void* a) {
  float y;
  K::template run<1, 1>(n, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), 0, &y,
                        1);
  return y;
}

template <class K>
void install(KernelTable& t, DType type) {
  t.mat_tile[static_cast<size_t>(type)] = &tile<K>;
  t.types[static_cast<size_t>(type)].vec_dot = &vec_dot<K>;
}

}  // namespace

void install_avx2_kernels(KernelTable& t) {
  install<avx2::Block32Kernel<avx2::Q4_0Traits>>(t, DType::Q4_0);
  install<avx2::Block32Kernel<avx2::Q4_1Traits>>(t, DType::Q4_1);
  install<avx2::Block32Kernel<avx2::Q5_0Traits>>(t, DType::Q5_0);
  install<avx2::Block32Kernel<avx2::Q5_1Traits>>(t, DType::Q5_1);
  install<avx2::Block32Kernel<avx2::Q8_0Traits>>(t, DType::Q8_0);
  install<avx2::F16Kernel>(t, DType::F16);
  install<avx2::Q4KKernel>(t, DType::Q4_K);
  install<avx2::Q6KKernel>(t, DType::Q6_K);
  t.pack = avx2::pack_x8;
  t.packed_tile = avx2::packed_tile;
  t.packed_group_bytes = avx2::packed_group_bytes;
  t.packed_act_bytes = avx2::packed_act_bytes;
  t.packed_act_quantize = avx2::quantize_packed_act;
  t.pack_rows = 8;
  install_avx2_attention(t);
  install_avx2_quantizers(t);
}

}  // namespace kestrel::backend
