// The one table of per-format kernels. Weights stay in their GGUF blocks; a matrix product first
// converts each activation row to the weight's `vec_dot_type` (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for
// Q4_1/Q5_1, Q8_K for the K-quants, F16 for F16, BF16 for BF16, F32 for F32, as GGUF's reference
// engine does), then takes integer/float dot products block by block.
//
// The entries here are the portable generic kernels. Every one has a float64 twin
// (vec_dot_f64) in the tests; SIMD variants (src/backend/cpu/x86, arm) replace entries of a copy of
// this table chosen at run time and are tested against the same twin.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace kestrel::quant {

using tensor::DType;

// Reference quantizer: n floats -> n / block_size blocks. n must be a multiple of the block size.
using QuantizeRowFn = void (*)(const float* x, void* y, int64_t n);
// n elements of blocks -> floats.
using DequantizeRowFn = void (*)(const void* x, float* y, int64_t n);
// Dot product of a weight row (this type) with an activation row (in vec_dot_type), n elements.
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);

struct TypeOps {
  DType type;
  DType vec_dot_type;
  QuantizeRowFn quantize_row;    // nullptr for types we do not produce
  DequantizeRowFn dequantize_row;
  VecDotFn vec_dot;              // nullptr for activation-only types (Q8_1, Q8_K)
};

// Portable kernels for a type; throws kestrel::Error for a type that is not computable.
const TypeOps& generic_type_ops(DType type);
bool has_type_ops(DType type);

// float64 oracle for tests: dequantize both rows (weight as `w_type`, activation as its
// vec_dot_type) and accumulate in double.
double vec_dot_f64(DType w_type, int64_t n, const void* w, const void* a);

}  // namespace kestrel::quant
