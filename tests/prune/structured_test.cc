// Structured removal against its definition: a model with FFN channels / query heads / layers
// removed computes exactly what the full model computes when those units' outputs are zeroed
// (columns of ffn_down or attn_output set to 0; a layer whose outputs are zero is the identity).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "prune/structured.h"
#include "train/decoder.h"
#include "train/dense_model.h"

namespace kestrel::prune {
namespace {

train::Config tiny() {
  train::Config c;
  c.n_vocab = 17;
  c.n_embd = 16;
  c.n_layer = 3;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.head_dim = 8;
  c.n_ff = 12;
  c.n_rot = 8;
  c.tied_output = true;
  return c;
}

train::Params<float> random_params(const train::Config& cfg) {
  train::Params<float> p = train::zero_params<float>(cfg);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 0.4f);
  train::for_each_tensor<float>(cfg, p, [&](const train::TensorRef& r, std::vector<float>& v) {
    for (float& x : v) x = r.n_dims == 1 ? 1.0f + 0.2f * nd(rng) : nd(rng);
  });
  return p;
}

std::vector<float> logits(const train::Config& cfg, const train::Params<float>& p) {
  const std::vector<int32_t> tokens{1, 5, 9, 2, 16, 0, 7};
  train::ForwardCache<float> cache;
  std::vector<float> out(tokens.size() * cfg.n_vocab);
  train::forward<float>(cfg, p, tokens.data(), tokens.size(), nullptr, cache, out.data());
  return out;
}

void expect_close(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f * (1 + std::fabs(a[i]))) << i;
}

// Slices a copy of p through a DenseModel, as kestrel prune does.
train::Params<float> sliced(const train::Config& cfg, const train::Config& out_cfg,
                            train::Params<float> p,
                            const std::function<void(train::DenseModel&)>& edit) {
  train::DenseModel m;
  train::put_params(cfg, p, m);
  edit(m);
  return train::take_params(out_cfg, m);
}

TEST(PruneStructured, KeepTopPicksLargestInOrder) {
  EXPECT_EQ(keep_top({0.5, 3, 1, 2, 0.1}, 3), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(keep_top({1, 1, 1}, 2), (std::vector<int64_t>{0, 1}));
  EXPECT_THROW(keep_top({1, 2}, 3), Error);
}

TEST(PruneStructured, FfnChannelsRemovedEqualsZeroedDownColumns) {
  const train::Config cfg = tiny();
  const train::Params<float> p = random_params(cfg);
  const std::vector<int64_t> keep{0, 2, 3, 7, 8, 11};
  train::Params<float> zeroed = p;
  for (auto& l : zeroed.layers) {
    for (int64_t j = 0; j < cfg.n_ff; ++j) {
      if (std::find(keep.begin(), keep.end(), j) != keep.end()) continue;
      for (int64_t o = 0; o < cfg.n_embd; ++o) l.down[o * cfg.n_ff + j] = 0;
    }
  }
  train::Config small = cfg;
  small.n_ff = static_cast<int32_t>(keep.size());
  const train::Params<float> s = sliced(cfg, small, p, [&](train::DenseModel& m) {
    for (int il = 0; il < cfg.n_layer; ++il) slice_ffn(m, il, keep);
  });
  expect_close(logits(cfg, zeroed), logits(small, s));
  EXPECT_GT(std::fabs(logits(cfg, p)[3] - logits(small, s)[3]), 1e-5f);  // it did change something
}

TEST(PruneStructured, HeadsRemovedEqualsZeroedOutputColumns) {
  const train::Config cfg = tiny();
  const train::Params<float> p = random_params(cfg);
  const std::vector<int64_t> keep{1, 2};  // one query head from each of the two KV groups
  train::Params<float> zeroed = p;
  for (auto& l : zeroed.layers) {
    for (int64_t h : {0, 3}) {
      for (int64_t o = 0; o < cfg.n_embd; ++o) {
        for (int k = 0; k < cfg.head_dim; ++k) l.wo[o * cfg.q_dim() + h * cfg.head_dim + k] = 0;
      }
    }
  }
  train::Config small = cfg;
  small.n_head = 2;
  const train::Params<float> s = sliced(cfg, small, p, [&](train::DenseModel& m) {
    for (int il = 0; il < cfg.n_layer; ++il) slice_heads(m, il, keep, cfg.head_dim);
  });
  expect_close(logits(cfg, zeroed), logits(small, s));
}

TEST(PruneStructured, LayerRemovedEqualsIdentityLayer) {
  const train::Config cfg = tiny();
  train::Params<float> p = random_params(cfg);
  std::fill(p.layers[1].wo.begin(), p.layers[1].wo.end(), 0.0f);
  std::fill(p.layers[1].down.begin(), p.layers[1].down.end(), 0.0f);
  train::Config small = cfg;
  small.n_layer = 2;
  const train::Params<float> s = sliced(cfg, small, p, [&](train::DenseModel& m) {
    keep_layers(m, {0, 2});
  });
  expect_close(logits(cfg, p), logits(small, s));
  EXPECT_EQ(s.layers[1].wq, p.layers[2].wq);  // renumbered: old layer 2 is the new layer 1
}

}  // namespace
}  // namespace kestrel::prune
