// Chunked perplexity as llama.cpp's perplexity tool computes it, and KL-divergence against a base
// model streamed beside it.
//
// The text is tokenized once (BOS added where the model's metadata says so); it is cut into
// n_chunk = n_tokens / n_ctx chunks of n_ctx tokens (the remainder is dropped), each evaluated as
// an independent sequence whose first token is replaced by BOS where the model adds one. Only the
// second half of each chunk is scored: the logits at positions j = n_ctx/2 .. n_ctx-2 predict
// token j + 1, so every scored token has at least n_ctx/2 tokens of context.
// PPL = exp(mean negative log-likelihood over all scored tokens).
//
// With a base model, each batch is run through both models and compared at once: per scored
// token the KL-divergence sum_v p_base(v) (log p_base(v) - log p(v)), whether the two argmaxes
// agree, and the base's own NLL. Memory stays one batch of logits per model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"

namespace kestrel::eval {

struct PerplexityOptions {
  int32_t n_ctx = 512;    // tokens per chunk (even, >= 16)
  int32_t max_chunks = 0; // evaluate at most this many chunks (0: all)
  int32_t n_batch = 0;    // tokens per forward call (0: the model's max_batch, capped at n_ctx)
};

struct PerplexityResult {
  int32_t n_ctx = 0;
  int64_t n_text_tokens = 0;
  int32_t n_chunks = 0;
  int64_t n_scored = 0;
  double nll = 0;            // mean negative log-likelihood (nats per token)
  double nll_stderr = 0;     // its standard error over tokens
  double ppl = 0;            // exp(nll)
  std::vector<double> chunk_ppl;  // running estimate after each chunk (as llama.cpp prints)
  double seconds = 0;        // evaluation wall time (both models)
  // Against a base model (has_base):
  bool has_base = false;
  double base_nll = 0;
  double base_ppl = 0;
  double kl_mean = 0;        // mean KL(base || model), nats per token
  double kl_stderr = 0;
  double kl_p99 = 0;         // 99th percentile of the per-token KL
  double kl_max = 0;
  double top1 = 0;           // fraction of scored tokens where both argmaxes agree
};

// Called after each chunk with (chunks done, chunks total, result so far).
using PerplexityProgress = std::function<void(int32_t, int32_t, const PerplexityResult&)>;

// Tokens of the text as the perplexity tool feeds them (BOS first where the model adds one).
std::vector<int32_t> perplexity_tokens(const model::Model& model, const std::string& text);

// base may be null. Throws kestrel::Error when the text has fewer than 2 * n_ctx tokens, n_ctx is
// odd or too small, or the base's vocabulary differs from the model's.
PerplexityResult compute_perplexity(model::Model& model, model::Model* base,
                                    const std::vector<int32_t>& tokens,
                                    const PerplexityOptions& options,
                                    const PerplexityProgress& progress = nullptr);

// The per-token scores, exposed for tests: log-softmax of the target, and KL(p || q) with the
// argmaxes of both rows. n = vocabulary size.
double token_nll(const float* logits, int64_t n, int32_t target);
double kl_divergence(const float* p_logits, const float* q_logits, int64_t n, int32_t* p_argmax,
                     int32_t* q_argmax);

}  // namespace kestrel::eval
