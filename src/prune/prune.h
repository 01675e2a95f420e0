// Pruning a GGUF model: the input may be of any type Kestrel reads (it is dequantized to F32);
// the output is a dense F32/F16 GGUF that Kestrel and llama.cpp load.
//
// Unstructured methods zero weights of the linear layers inside the blocks (attn_q/k/v/output,
// ffn_gate/up/down); embeddings and norms are kept:
//   magnitude  the fraction `sparsity` of smallest |w| in each matrix
//   wanda      per output row, the smallest |w_ij| * ||x_j|| (Sun et al. 2023; needs calibration)
//   2:4        in every group of 4 consecutive inputs of a row, the 2 smallest (|w|, or the Wanda
//              score when calibration text is given): the NVIDIA semi-structured pattern
// Structured methods remove whole units and write a smaller dense model:
//   ffn        the least important FFN channels of every layer (rows of gate/up, columns of down)
//   heads      the least important query heads, the same number from each KV group of every layer
//   layers     the layers that change the residual stream least (ShortGPT's block influence)
// wanda and the structured methods measure importance on calibration text with the training
// forward pass, which covers the llama family; magnitude and 2:4 work on every architecture.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tensor/dtype.h"

namespace kestrel::io {
class GgufFile;
}
namespace kestrel::train {
class DenseModel;
}

namespace kestrel::prune {

enum class Method { kMagnitude, kWanda, kSemi24, kFfn, kHeads, kLayers };

// Throws kestrel::Error naming the valid methods.
Method parse_method(const std::string& name);
const char* method_name(Method m);
bool is_structured(Method m);

struct PruneOptions {
  Method method = Method::kMagnitude;
  double sparsity = -1;  // fraction 0..1 (structured: of channels/heads/layers); -1 = unset
  int64_t remove = -1;   // structured: a count instead of a fraction; -1 = unset
  std::string calib_path;      // calibration text file; empty = none
  int64_t calib_tokens = 512;  // at most this many tokens of it
  int64_t calib_chunk = 128;   // tokens per calibration sequence
  tensor::DType out_type = tensor::DType::F16;
  int threads = 0;  // 0: all hardware threads
};

// Checks the options that do not need the model (method/sparsity/count combinations, ranges).
void validate(const PruneOptions& opts);

// Prunes a model loaded from `file` (dequantized into `m`) in memory; updates its metadata.
void prune_model(const io::GgufFile& file, train::DenseModel& m, const PruneOptions& opts,
                 const std::function<void(const std::string&)>& log);

// Loads `in`, prunes, writes `out` (through a temporary file). `log` receives progress lines.
// Throws kestrel::Error before anything is written when the input or the options are invalid.
void prune_file(const std::string& in, const std::string& out, const PruneOptions& opts,
                const std::function<void(const std::string&)>& log);

}  // namespace kestrel::prune
