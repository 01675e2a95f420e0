// Importance statistics measured on calibration text with the training forward pass (llama
// family): what Wanda and the structured methods rank weights, channels, heads and layers by.
#pragma once

#include <cstdint>
#include <vector>

#include "train/params.h"

namespace kestrel {
class ThreadPool;
}

namespace kestrel::prune {

struct LayerStats {
  // Sum over calibration tokens of each input feature squared, per linear input:
  std::vector<double> attn_in;  // [n_embd] input of attn_q/k/v
  std::vector<double> wo_in;    // [q_dim] input of attn_output
  std::vector<double> ffn_in;   // [n_embd] input of ffn_gate/up
  std::vector<double> down_in;  // [n_ff] input of ffn_down
  // Sum over tokens of ||down[:, j] * s_j||: how much FFN channel j writes into the residual.
  std::vector<double> ffn_channel;  // [n_ff]
  // Sum over tokens of ||wo[:, head] a_head||: how much each query head writes.
  std::vector<double> head;  // [n_head]
  // Sum over tokens of 1 - cos(x_in, x_out): how much the layer changes the residual stream
  // (the "block influence" of ShortGPT, Men et al. 2024). Small = the layer is nearly an identity.
  double block_influence = 0;
};

struct CalibStats {
  int64_t n_tokens = 0;
  std::vector<LayerStats> layers;
};

// Runs the tokens through the model in chunks of `chunk` tokens (each chunk its own sequence).
// The head scores cost as much as the attention output projection again (computed per head, in
// double), so they are measured only when asked.
CalibStats collect_stats(const train::Config& cfg, const train::Params<float>& params,
                         const std::vector<int32_t>& tokens, int64_t chunk, bool head_scores,
                         ThreadPool* pool);

}  // namespace kestrel::prune
