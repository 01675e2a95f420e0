// The backward pass against central finite differences of the loss, in float64, on a tiny
// llama-shaped model with grouped-query attention (4 query heads over 2 KV heads), a head size that
// differs from n_embd / n_head, partial RoPE and both tied and separate output matrices.
//
// Tolerance: with step h the central difference has truncation error ~ h^2 |L'''| / 6 and rounding
// error ~ eps * |L| / h; for h = 1e-5, |L| ~ 1 and third derivatives ~ 1..10 both are below 1e-9,
// so an analytic gradient that is right agrees to 1e-7 (absolute) + 1e-6 (relative); a wrong term
// shows up as an error of the size of the gradient itself.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "train/decoder.h"
#include "train/loss.h"

namespace kestrel::train {
namespace {

Config tiny_config(bool tied, bool neox) {
  Config c;
  c.n_vocab = 13;
  c.n_embd = 8;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.head_dim = 4;
  c.n_ff = 6;
  c.n_rot = neox ? 2 : 4;
  c.norm_eps = 1e-5f;
  c.rope_base = 100.0f;
  c.rope_neox = neox;
  c.tied_output = tied;
  return c;
}

Params<double> random_params(const Config& cfg, uint32_t seed) {
  Params<double> p = zero_params<double>(cfg);
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0.0, 0.5);
  for_each_tensor<double>(cfg, p, [&](const TensorRef& ref, std::vector<double>& v) {
    for (double& x : v) x = ref.n_dims == 1 ? 1.0 + 0.3 * nd(rng) : nd(rng);
  });
  return p;
}

struct Problem {
  Config cfg;
  std::vector<int32_t> tokens{3, 7, 1, 12, 7, 0};
  std::vector<float> teacher;
  double temperature = 2.0;

  double loss(const Params<double>& p, std::vector<double>* dlogits) const {
    ForwardCache<double> cache;
    std::vector<double> logits(tokens.size() * cfg.n_vocab);
    forward<double>(cfg, p, tokens.data(), tokens.size(), nullptr, cache, logits.data());
    return kl_loss<double>(logits.data(), teacher.data(), tokens.size(), cfg.n_vocab, temperature,
                           dlogits != nullptr ? dlogits->data() : nullptr);
  }
};

void check_gradients(const Config& cfg) {
  Problem pr;
  pr.cfg = cfg;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  pr.teacher.resize(pr.tokens.size() * cfg.n_vocab);
  for (float& x : pr.teacher) x = nd(rng);
  Params<double> p = random_params(cfg, 11);

  std::vector<double> dlogits(pr.tokens.size() * cfg.n_vocab);
  ForwardCache<double> cache;
  std::vector<double> logits(dlogits.size());
  forward<double>(cfg, p, pr.tokens.data(), pr.tokens.size(), nullptr, cache, logits.data());
  const double l0 = kl_loss<double>(logits.data(), pr.teacher.data(), pr.tokens.size(),
                                    cfg.n_vocab, pr.temperature, dlogits.data());
  EXPECT_GT(l0, 0.01);
  Params<double> grads = zero_params<double>(cfg);
  backward<double>(cfg, p, cache, dlogits.data(), nullptr, true, grads);

  // Pair each parameter tensor with its gradient tensor by visiting both in the same order.
  std::vector<std::vector<double>*> gvec;
  std::vector<std::string> names;
  for_each_tensor<double>(cfg, grads, [&](const TensorRef& ref, std::vector<double>& g) {
    gvec.push_back(&g);
    names.push_back(ref.name);
  });
  size_t ti = 0;
  int checked = 0;
  double max_err = 0;
  const double h = 1e-5;
  for_each_tensor<double>(cfg, p, [&](const TensorRef& ref, std::vector<double>& v) {
    const std::vector<double>& g = *gvec[ti++];
    for (size_t i = 0; i < v.size(); ++i) {
      const double saved = v[i];
      v[i] = saved + h;
      const double lp = pr.loss(p, nullptr);
      v[i] = saved - h;
      const double lm = pr.loss(p, nullptr);
      v[i] = saved;
      const double fd = (lp - lm) / (2 * h);
      const double err = std::fabs(fd - g[i]);
      max_err = std::max(max_err, err);
      ASSERT_LE(err, 1e-7 + 1e-6 * std::fabs(fd)) << ref.name << "[" << i << "]: analytic " << g[i]
                                                  << ", finite difference " << fd;
      ++checked;
    }
  });
  EXPECT_GT(checked, 1000);
  std::printf("checked %d partial derivatives, largest |error| %.3g\n", checked, max_err);
}

TEST(TrainGradient, MatchesFiniteDifferencesTiedNormalRope) { check_gradients(tiny_config(true, false)); }

TEST(TrainGradient, MatchesFiniteDifferencesUntiedNeoxPartialRope) {
  check_gradients(tiny_config(false, true));
}

TEST(TrainGradient, FrozenEmbeddingsGetNoGradient) {
  const Config cfg = tiny_config(true, false);
  Params<double> p = random_params(cfg, 3);
  const std::vector<int32_t> tokens{1, 2, 3};
  ForwardCache<double> cache;
  std::vector<double> logits(tokens.size() * cfg.n_vocab), dl(logits.size(), 0.1);
  forward<double>(cfg, p, tokens.data(), tokens.size(), nullptr, cache, logits.data());
  Params<double> g = zero_params<double>(cfg);
  backward<double>(cfg, p, cache, dl.data(), nullptr, false, g);
  for (double v : g.tok_embd) ASSERT_EQ(v, 0.0);
  double s = 0;
  for (double v : g.layers[0].wq) s += std::fabs(v);
  EXPECT_GT(s, 0.0);
}

TEST(TrainLoss, KlIsZeroForIdenticalLogitsAndPositiveOtherwise) {
  const std::vector<float> t{0.5f, -1.0f, 2.0f, 0.0f};
  std::vector<float> s = t, d(4);
  EXPECT_NEAR(kl_loss<float>(s.data(), t.data(), 1, 4, 1.0, d.data()), 0.0, 1e-7);
  for (float v : d) EXPECT_NEAR(v, 0.0f, 1e-7f);
  s[0] = 1.5f;
  EXPECT_GT(kl_loss<float>(s.data(), t.data(), 1, 4, 1.0, nullptr), 1e-3);
}

}  // namespace
}  // namespace kestrel::train
