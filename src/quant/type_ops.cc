// The one table of generic kernels per type (see type_ops.h for who calls what).
#include "quant/type_ops.h"

#include <vector>

#include "core/error.h"
#include "quant/kernels.h"

namespace kestrel::quant {
namespace {

// {type, vec_dot_type, quantize_row, dequantize_row, vec_dot}. Q8_1 and Q8_K are activation-only
// (no vec_dot); their dot products are the weight types' entries.
constexpr TypeOps kTypeOps[] = {
    {DType::F32, DType::F32, quantize_row_f32, dequantize_row_f32, vec_dot_f32},
    {DType::F16, DType::F16, quantize_row_f16, dequantize_row_f16, vec_dot_f16},
    {DType::BF16, DType::BF16, quantize_row_bf16, dequantize_row_bf16, vec_dot_bf16},
    {DType::Q4_0, DType::Q8_0, quantize_row_q4_0, dequantize_row_q4_0, vec_dot_q4_0_q8_0},
    {DType::Q4_1, DType::Q8_1, quantize_row_q4_1, dequantize_row_q4_1, vec_dot_q4_1_q8_1},
    {DType::Q5_0, DType::Q8_0, quantize_row_q5_0, dequantize_row_q5_0, vec_dot_q5_0_q8_0},
    {DType::Q5_1, DType::Q8_1, quantize_row_q5_1, dequantize_row_q5_1, vec_dot_q5_1_q8_1},
    {DType::Q8_0, DType::Q8_0, quantize_row_q8_0, dequantize_row_q8_0, vec_dot_q8_0_q8_0},
    {DType::Q8_1, DType::Q8_1, quantize_row_q8_1, dequantize_row_q8_1, nullptr},
    {DType::Q4_K, DType::Q8_K, quantize_row_q4_k, dequantize_row_q4_k, vec_dot_q4_k_q8_k},
    {DType::Q5_K, DType::Q8_K, quantize_row_q5_k, dequantize_row_q5_k, vec_dot_q5_k_q8_k},
    {DType::Q6_K, DType::Q8_K, quantize_row_q6_k, dequantize_row_q6_k, vec_dot_q6_k_q8_k},
    {DType::Q8_K, DType::Q8_K, quantize_row_q8_k, dequantize_row_q8_k, nullptr},
};

const TypeOps* find_type_ops(DType type) {
  for (const TypeOps& ops : kTypeOps) {
    if (ops.type == type) return &ops;
  }
  return nullptr;
}

}  // namespace

const TypeOps& generic_type_ops(DType type) {
  const TypeOps* ops = find_type_ops(type);
  if (ops == nullptr) fail("no kernels for tensor type ", tensor::dtype_name(type));
  return *ops;
}

bool has_type_ops(DType type) { return find_type_ops(type) != nullptr; }

double vec_dot_f64(DType w_type, int64_t n, const void* w, const void* a) {
  const TypeOps& wo = generic_type_ops(w_type);
  const TypeOps& ao = generic_type_ops(wo.vec_dot_type);
  // Test-only oracle: two row-sized scratch buffers per call are fine here.
  std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  wo.dequantize_row(w, wf.data(), n);
  ao.dequantize_row(a, af.data(), n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(wf[i]) * static_cast<double>(af[i]);
  return sum;
}

}  // namespace kestrel::quant
