// Timing of the forward pass in llama-bench's terms, so the two can be compared test for test:
//   pp<N>: one prompt of N tokens (first BOS when the model adds one, the rest random ids) in
//          chunks of the model's max_batch, only the last token's logits, tokens/s = N / time;
//   tg<N>: N single-token steps, each with its logits, tokens/s = N / time;
// both after `depth` tokens already in the KV cache (filled once, untimed). No sampling and no
// tokenizer: the engine's scheduler is left out so that only the model's work is timed.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "backend/kv_storage.h"
#include "kv/kv_cache_manager.h"
#include "model/model.h"

namespace kestrel::app {

enum class BenchKind { kPrompt, kGenerate };

// One sequence in a private paged KV cache of `n_ctx` tokens. The forward API has no "clear the
// cache": between repetitions the sequence is truncated back to its depth, which keeps the depth
// tokens' K/V (they are never overwritten) and hands the rest of the blocks back.
class BenchSession {
 public:
  BenchSession(model::Model& model, int32_t n_ctx, uint32_t seed);

  // Brings the cache to exactly `depth` tokens of random ids, untimed; refills only when the depth
  // changes.
  void set_depth(int32_t depth);
  // One timed run of the test on top of the depth; returns seconds.
  double run(BenchKind kind, int32_t n_tokens);

 private:
  void reset_to_depth();
  // Runs tokens through forward in max_batch chunks, logits of the last token only.
  void feed(const std::vector<int32_t>& tokens);
  std::vector<int32_t> random_tokens(int32_t n, bool bos_first);

  model::Model& model_;
  int32_t n_ctx_;
  static constexpr int32_t kBlock = 16;
  kv::KvCacheManager kv_;
  backend::KvStorage storage_;
  std::mt19937 rng_;
  int32_t depth_ = -1;
  std::vector<float> logits_;
  std::vector<int32_t> positions_, seq_of_token_, slots_;  // [max_batch] batch arrays, reused
};

struct BenchStats {
  double avg_ts = 0;     // mean of the per-repetition tokens/s
  double stddev_ts = 0;  // sample standard deviation (n - 1) of the same; 0 for one repetition
  double avg_ns = 0;
  double stddev_ns = 0;
};

BenchStats summarize(const std::vector<double>& seconds, int32_t n_tokens);

}  // namespace kestrel::app
