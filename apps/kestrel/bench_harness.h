// Timing of the forward pass in llama-bench's terms, so the two can be compared test for test:
//   pp<N>: one prompt of N tokens (first BOS when the model adds one, the rest random ids) in
//          chunks of the model's max_batch, only the last token's logits, tokens/s = N / time;
//   tg<N>: N single-token steps, each with its logits, tokens/s = N / time;
//   tg<N> x S (S > 1 parallel sequences, llama-batched-bench's decode): N steps of one token for
//          each of S sequences in one forward call, every token with its logits (as a server's
//          decode step), tokens/s = S * N / time;
// all after `depth` tokens already in each sequence's KV cache (filled once, untimed). No sampling and no
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

// Up to `max_seqs` sequences in a private paged KV cache of `n_ctx` tokens in all. The forward
// API has no "clear the cache": between repetitions the sequences are truncated back to their
// depth, which keeps the depth tokens' K/V (they are never overwritten) and hands the rest of the
// blocks back.
class BenchSession {
 public:
  BenchSession(model::Model& model, int32_t n_ctx, int32_t max_seqs, uint32_t seed);

  // Brings sequences 0 .. n_seqs - 1 to exactly `depth` tokens of random ids each, untimed;
  // refills only what changed.
  void set_depth(int32_t depth, int32_t n_seqs = 1);
  // One timed run of the test on top of the depth, on the sequences set_depth prepared (more
  // than one only for kGenerate); returns seconds.
  double run(BenchKind kind, int32_t n_tokens);

 private:
  void reset_to_depth();
  // Runs tokens of sequence `seq` through forward in max_batch chunks, logits of the last only.
  void feed(const std::vector<int32_t>& tokens, kv::SeqId seq = 0);
  // One decode step: token ids[s] appended to sequence s for every prepared sequence.
  void step(const int32_t* ids);
  std::vector<int32_t> random_tokens(int32_t n, bool bos_first);

  model::Model& model_;
  int32_t n_ctx_;
  static constexpr int32_t kBlock = 16;
  kv::KvCacheManager kv_;
  backend::KvStorage storage_;
  std::mt19937 rng_;
  int32_t depth_ = -1;
  int32_t n_seqs_ = 0;  // sequences at depth_
  std::vector<float> logits_;
  // Batch arrays, reused: [max(max_batch, max_seqs)] entries.
  std::vector<int32_t> positions_, seq_of_token_, slots_, logit_rows_;
  std::vector<backend::SeqKvView> views_;
};

struct BenchStats {
  double avg_ts = 0;     // mean of the per-repetition tokens/s
  double stddev_ts = 0;  // sample standard deviation (n - 1) of the same; 0 for one repetition
  double avg_ns = 0;
  double stddev_ns = 0;
};

BenchStats summarize(const std::vector<double>& seconds, int32_t n_tokens);

}  // namespace kestrel::app
