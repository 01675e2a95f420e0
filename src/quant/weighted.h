// Importance-weighted quantizers: the same block formats as the reference quantizers, but the
// scale (and min) searches minimise sum_e w_e (x_e - x'_e)^2 with w_e = imp[col(e)] *
// sqrt(sigma2 + x_e^2), where imp is the per-column importance of the matrix's inputs (e.g. the
// mean squared activation over calibration text) and sigma2 the block's mean square. That weight
// is the one GGUF's reference engine uses with an importance matrix; the searches are this
// project's own. Output bytes are valid blocks of the type that every vec_dot reads unchanged.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace kestrel::quant {

// True for Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (Q8_0 and the float types have no scale to
// search worth weighting).
bool has_weighted_quantizer(tensor::DType type);

// n floats -> n / block_size blocks of `type`; importance: F32 [n], one weight (>= 0) per column.
// Throws kestrel::Error for a type without a weighted quantizer.
void quantize_row_weighted(tensor::DType type, const float* x, void* y, int64_t n,
                           const float* importance);

// Symmetric search for x ~ scale * l, l in [-nmax, nmax - 1], minimising sum w (x - scale l)^2:
// 19 grids around -nmax / max(|x|) with the least-squares scale of each; L gets l + nmax.
float make_qx_quants_weighted(int n, int nmax, const float* x, const float* w, int8_t* L);

}  // namespace kestrel::quant
