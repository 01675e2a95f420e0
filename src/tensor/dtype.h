// Element types as GGUF numbers them, with their block geometry.
// A row of n elements of type t takes (n / block_size) * type_size bytes; n must be a multiple of
// block_size. Types marked computable have dequantize and dot-product kernels in src/quant/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kestrel::tensor {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

struct DTypeTraits {
  DType type;
  const char* name;     // lower-case, as `kestrel info` and `kestrel quantize` spell it
  int64_t block_size;   // elements per block
  size_t type_size;     // bytes per block
  bool computable;      // Kestrel can dequantize it and multiply with it
};

// Traits of a raw GGUF type number, or nullptr when GGUF defines no such type.
const DTypeTraits* find_dtype(uint32_t raw);
// Traits by name ("q4_k", "f16", ...), or nullptr.
const DTypeTraits* find_dtype(std::string_view name);
const DTypeTraits& traits(DType type);
inline const char* dtype_name(DType type) { return traits(type).name; }

// Bytes of a row of n elements; n must be a multiple of the block size (checked by callers that
// read untrusted shapes).
inline size_t row_bytes(DType type, int64_t n) {
  const DTypeTraits& t = traits(type);
  return static_cast<size_t>(n / t.block_size) * t.type_size;
}

}  // namespace kestrel::tensor
