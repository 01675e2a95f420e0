// Rewrites a GGUF model with its weight matrices in new types: reads every tensor (dequantizing a
// quantized input when allowed), quantizes each row with the reference quantizers (or their
// importance-weighted variants when calibration statistics are given), and writes the result
// through GgufWriter (a temporary file renamed on success: a failure leaves no output file).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "compress/importance.h"
#include "compress/recipe.h"

namespace kestrel::compress {

struct QuantizeOptions {
  Recipe recipe;
  bool allow_requantize = false;  // accept an input whose matrices are already quantized
  bool allow_fallback = false;    // plain types: fall back as GGUF does instead of failing
  int n_threads = 0;              // 0: all hardware threads
  bool progress = true;           // progress bar on stderr (drawn only on a terminal)
  // Per-column importance of each matrix's inputs (from calibration); null: plain quantization.
  const ImportanceMatrix* importance = nullptr;
};

struct QuantizeSummary {
  int64_t n_tensors = 0;
  int64_t n_converted = 0;        // matrices written in a new type
  int64_t n_weighted = 0;         // of those, quantized with importance weights
  uint64_t bytes_in = 0;          // tensor data bytes
  uint64_t bytes_out = 0;
  std::map<std::string, int64_t> type_counts;  // output type name -> tensors
};

// Throws kestrel::Error (before creating any file) for a missing or malformed input, an
// already-quantized input without allow_requantize, or a row length the type cannot hold.
QuantizeSummary quantize_model(const std::string& in_path, const std::string& out_path,
                               const QuantizeOptions& options);

}  // namespace kestrel::compress
