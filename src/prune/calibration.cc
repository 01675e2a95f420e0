#include "prune/calibration.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "train/decoder.h"

namespace kestrel::prune {
namespace {

void add_squares(const std::vector<float>& x, int64_t n, int64_t dim, std::vector<double>& acc) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < dim; ++j) {
      const double v = x[i * dim + j];
      acc[j] += v * v;
    }
  }
}

double one_minus_cos(const float* a, const float* b, int64_t dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t j = 0; j < dim; ++j) {
    ab += static_cast<double>(a[j]) * b[j];
    aa += static_cast<double>(a[j]) * a[j];
    bb += static_cast<double>(b[j]) * b[j];
  }
  return 1.0 - ab / std::sqrt(std::max(aa * bb, 1e-30));
}

}  // namespace

CalibStats collect_stats(const train::Config& cfg, const train::Params<float>& params,
                         const std::vector<int32_t>& tokens, int64_t chunk, bool head_scores,
                         ThreadPool* pool) {
  KESTREL_CHECK(!tokens.empty(), "calibration text has no tokens");
  const int64_t e = cfg.n_embd;
  const int64_t f = cfg.n_ff;
  const int64_t qd = cfg.q_dim();
  const int d = cfg.head_dim;
  CalibStats st;
  st.layers.resize(cfg.n_layer);
  for (LayerStats& l : st.layers) {
    l.attn_in.assign(e, 0);
    l.wo_in.assign(qd, 0);
    l.ffn_in.assign(e, 0);
    l.down_in.assign(f, 0);
    l.ffn_channel.assign(f, 0);
    l.head.assign(cfg.n_head, 0);
  }
  // Column norms of down and of each head's slice of wo, for the output-side importance.
  std::vector<std::vector<double>> down_col(cfg.n_layer, std::vector<double>(f, 0));
  for (int il = 0; il < cfg.n_layer; ++il) {
    const std::vector<float>& w = params.layers[il].down;
    for (int64_t o = 0; o < e; ++o) {
      for (int64_t j = 0; j < f; ++j) down_col[il][j] += static_cast<double>(w[o * f + j]) * w[o * f + j];
    }
    for (double& v : down_col[il]) v = std::sqrt(v);
  }
  train::ForwardCache<float> cache;
  std::vector<float> logits;
  std::vector<double> out_h(e);
  for (int64_t p0 = 0; p0 < static_cast<int64_t>(tokens.size()); p0 += chunk) {
    const int64_t n = std::min<int64_t>(chunk, tokens.size() - p0);
    logits.resize(n * cfg.n_vocab);
    train::forward<float>(cfg, params, tokens.data() + p0, n, pool, cache, logits.data());
    st.n_tokens += n;
    for (int il = 0; il < cfg.n_layer; ++il) {
      const train::LayerCache<float>& c = cache.layers[il];
      LayerStats& l = st.layers[il];
      add_squares(c.h1, n, e, l.attn_in);
      add_squares(c.a, n, qd, l.wo_in);
      add_squares(c.h2, n, e, l.ffn_in);
      add_squares(c.s, n, f, l.down_in);
      const std::vector<float>& wo = params.layers[il].wo;
      const std::vector<float>& x_out =
          il + 1 < cfg.n_layer ? cache.layers[il + 1].x_in : cache.x_out;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < f; ++j) {
          l.ffn_channel[j] += std::fabs(c.s[i * f + j]) * down_col[il][j];
        }
        for (int h = 0; head_scores && h < cfg.n_head; ++h) {
          const float* a = c.a.data() + i * qd + h * d;
          std::fill(out_h.begin(), out_h.end(), 0.0);
          for (int64_t o = 0; o < e; ++o) {
            const float* wr = wo.data() + o * qd + h * d;
            double s = 0;
            for (int k = 0; k < d; ++k) s += static_cast<double>(wr[k]) * a[k];
            out_h[o] = s;
          }
          double nrm = 0;
          for (double v : out_h) nrm += v * v;
          l.head[h] += std::sqrt(nrm);
        }
        l.block_influence += one_minus_cos(c.x_in.data() + i * e, x_out.data() + i * e, e);
      }
    }
  }
  return st;
}

}  // namespace kestrel::prune
