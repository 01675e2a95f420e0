// Distillation training: the student learns the teacher's next-token distributions on windows of
// a token stream, by the KL loss (train/loss.h), backpropagation (train/decoder.h) and Adam.
//
// Everything a step does is a function of (weights, Adam state, step number, seed): the window of
// step s starts at a hash of (seed, s), and every parallel loop keeps a fixed summation order. So a
// run resumed from a checkpoint continues bit for bit as the uninterrupted run would have.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/decoder.h"
#include "train/params.h"

namespace kestrel {
class ThreadPool;
}

namespace kestrel::train {

struct TrainOptions {
  int64_t seq_len = 64;
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double adam_eps = 1e-8;
  double temperature = 1.0;
  uint64_t seed = 1;
  bool train_embeddings = false;  // false: token embedding and output matrix stay frozen
};

// Teacher logits of a token window: F32 [tokens.size(), n_vocab].
using TeacherFn = std::function<void(const std::vector<int32_t>& tokens, std::vector<float>& logits)>;

class Trainer {
 public:
  Trainer(const Config& cfg, Params<float> params, const TrainOptions& opts, ThreadPool* pool);

  // One optimizer step on the window of step `step()` of `data`; returns the loss before it.
  double step(const std::vector<int32_t>& data, const TeacherFn& teacher);
  int64_t steps_done() const { return step_; }
  const Params<float>& params() const { return params_; }
  Params<float>& params() { return params_; }
  const Config& config() const { return cfg_; }

  // The window [start, start + seq_len) used by step s of a stream of n tokens.
  int64_t window_start(int64_t s, int64_t n) const;

  // Weights, Adam moments and the step count, as a GGUF file (written through a temporary file).
  void save_checkpoint(const std::string& path) const;
  // Restores a checkpoint written for the same student shape; throws otherwise.
  void load_checkpoint(const std::string& path);

 private:
  bool trainable(const TensorRef& ref) const { return opts_.train_embeddings || !ref.embedding; }

  Config cfg_;
  Params<float> params_;
  Params<float> grads_;
  Params<float> m_;
  Params<float> v_;
  TrainOptions opts_;
  ThreadPool* pool_;
  int64_t step_ = 0;
  ForwardCache<float> cache_;
};

}  // namespace kestrel::train
