// Adam distillation on a tiny model: the loss goes down, and a run interrupted by a checkpoint and
// resumed in a new Trainer ends in bit-identical weights.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "core/thread_pool.h"
#include "train/trainer.h"

namespace kestrel::train {
namespace {

Config tiny() {
  Config c;
  c.n_vocab = 23;
  c.n_embd = 16;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.head_dim = 4;
  c.n_ff = 24;
  c.n_rot = 4;
  return c;
}

Params<float> random_params(const Config& cfg, uint32_t seed) {
  Params<float> p = zero_params<float>(cfg);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  for_each_tensor<float>(cfg, p, [&](const TensorRef& r, std::vector<float>& v) {
    for (float& x : v) x = r.n_dims == 1 ? 1.0f : nd(rng);
  });
  return p;
}

struct TinyProblem {
  Config cfg = tiny();
  Params<float> teacher = random_params(cfg, 1);
  std::vector<int32_t> data;
  TeacherFn fn;
  TrainOptions opts;
  ThreadPool pool{2};

  TinyProblem() {
    std::mt19937 rng(9);
    for (int i = 0; i < 200; ++i) data.push_back(static_cast<int32_t>(rng() % cfg.n_vocab));
    fn = [this](const std::vector<int32_t>& t, std::vector<float>& logits) {
      ForwardCache<float> c;
      logits.resize(t.size() * cfg.n_vocab);
      forward<float>(cfg, teacher, t.data(), t.size(), nullptr, c, logits.data());
    };
    opts.seq_len = 16;
    opts.lr = 3e-3;
    opts.temperature = 2.0;
    opts.seed = 42;
  }
};

TEST(Trainer, LossDecreases) {
  TinyProblem s;
  Trainer t(s.cfg, random_params(s.cfg, 2), s.opts, &s.pool);
  double first = 0, last = 0;
  for (int i = 0; i < 40; ++i) {
    const double l = t.step(s.data, s.fn);
    if (i < 5) first += l;
    if (i >= 35) last += l;
  }
  EXPECT_LT(last, 0.8 * first);
}

TEST(Trainer, ResumeFromCheckpointIsBitExact) {
  TinyProblem s;
  s.opts.train_embeddings = true;  // the checkpoint must then carry the embedding too
  Trainer full(s.cfg, random_params(s.cfg, 2), s.opts, &s.pool);
  for (int i = 0; i < 6; ++i) full.step(s.data, s.fn);

  const std::string path = ::testing::TempDir() + "kestrel_trainer_ckpt.gguf";
  {
    Trainer first(s.cfg, random_params(s.cfg, 2), s.opts, &s.pool);
    for (int i = 0; i < 3; ++i) first.step(s.data, s.fn);
    first.save_checkpoint(path);
  }
  Trainer resumed(s.cfg, random_params(s.cfg, 77), s.opts, &s.pool);  // other weights: all restored
  resumed.load_checkpoint(path);
  EXPECT_EQ(resumed.steps_done(), 3);
  for (int i = 0; i < 3; ++i) resumed.step(s.data, s.fn);
  std::filesystem::remove(path);

  Params<float> a = full.params();
  Params<float> b = resumed.params();
  std::vector<std::vector<float>*> bs;
  for_each_tensor<float>(s.cfg, b, [&](const TensorRef&, std::vector<float>& v) { bs.push_back(&v); });
  size_t i = 0;
  for_each_tensor<float>(s.cfg, a, [&](const TensorRef& r, std::vector<float>& v) {
    EXPECT_EQ(v, *bs[i++]) << r.name;
  });
}

TEST(Trainer, CheckpointOfAnotherShapeIsRejected) {
  TinyProblem s;
  Trainer t(s.cfg, random_params(s.cfg, 2), s.opts, &s.pool);
  const std::string path = ::testing::TempDir() + "kestrel_trainer_ckpt2.gguf";
  t.save_checkpoint(path);
  Config other = s.cfg;
  other.n_ff = 12;
  Trainer u(other, random_params(other, 2), s.opts, &s.pool);
  EXPECT_THROW(u.load_checkpoint(path), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kestrel::train
