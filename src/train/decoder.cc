#include "train/decoder.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"
#include "train/linalg.h"

namespace kestrel::train {
namespace {

template <class Fn>
void parallel(ThreadPool* pool, int64_t n, const Fn& fn) {
  if (pool == nullptr || pool->size() <= 1 || n <= 1) {
    fn(0, n);
    return;
  }
  pool->parallel_for(n, 1, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

template <class T>
void rms_norm(const T* x, const T* w, T* y, T* r, int64_t n, int64_t dim, T eps) {
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * dim;
    T ss = 0;
    for (int64_t j = 0; j < dim; ++j) ss += xi[j] * xi[j];
    const T ri = T(1) / std::sqrt(ss / T(dim) + eps);
    r[i] = ri;
    for (int64_t j = 0; j < dim; ++j) y[i * dim + j] = xi[j] * ri * w[j];
  }
}

// y = x * r * w  =>  dw += dy * x * r;  dx += r * (dy w) - x * r^3 * sum(dy w x) / dim.
template <class T>
void rms_norm_backward(const T* x, const T* w, const T* r, const T* dy, T* dx, T* dw, int64_t n,
                       int64_t dim) {
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * dim;
    const T* dyi = dy + i * dim;
    const T ri = r[i];
    T dot = 0;
    for (int64_t j = 0; j < dim; ++j) dot += dyi[j] * w[j] * xi[j];
    const T c = ri * ri * ri * dot / T(dim);
    for (int64_t j = 0; j < dim; ++j) {
      dx[i * dim + j] += ri * dyi[j] * w[j] - xi[j] * c;
      dw[j] += dyi[j] * xi[j] * ri;
    }
  }
}

// Rotates each head's first n_rot dims by pos * base^(-2i/n_rot); sign -1 applies the inverse
// (transpose) rotation, which is the backward pass.
template <class T>
void rope(const Config& cfg, T* x, int64_t n, int n_heads, int sign) {
  const int half = cfg.n_rot / 2;
  std::vector<double> freq(half);
  for (int i = 0; i < half; ++i) {
    freq[i] = std::pow(static_cast<double>(cfg.rope_base), -2.0 * i / cfg.n_rot);
  }
  for (int64_t t = 0; t < n; ++t) {
    for (int h = 0; h < n_heads; ++h) {
      T* v = x + (t * n_heads + h) * cfg.head_dim;
      for (int i = 0; i < half; ++i) {
        const double theta = static_cast<double>(t) * freq[i];
        const T c = static_cast<T>(std::cos(theta));
        const T s = static_cast<T>(sign * std::sin(theta));
        const int a = cfg.rope_neox ? i : 2 * i;
        const int b = cfg.rope_neox ? i + half : 2 * i + 1;
        const T x0 = v[a];
        const T x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
      }
    }
  }
}

template <class T>
T silu(T g) {
  return g / (T(1) + std::exp(-g));
}

template <class T>
void attention(const Config& cfg, LayerCache<T>& c, int64_t n, ThreadPool* pool) {
  const int d = cfg.head_dim;
  const int group = cfg.n_head / cfg.n_head_kv;
  const int64_t qd = cfg.q_dim();
  const int64_t kd = cfg.kv_dim();
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  c.p.assign(static_cast<int64_t>(cfg.n_head) * n * n, T(0));
  c.a.assign(n * qd, T(0));
  parallel(pool, cfg.n_head, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h) {
      const int64_t hk = h / group;
      for (int64_t i = 0; i < n; ++i) {
        const T* qi = c.q.data() + i * qd + h * d;
        T* pi = c.p.data() + (h * n + i) * n;
        T mx = -INFINITY;
        for (int64_t j = 0; j <= i; ++j) {
          const T* kj = c.k.data() + j * kd + hk * d;
          T s = 0;
          for (int e = 0; e < d; ++e) s += qi[e] * kj[e];
          pi[j] = s * scale;
          mx = std::max(mx, pi[j]);
        }
        T sum = 0;
        for (int64_t j = 0; j <= i; ++j) sum += (pi[j] = std::exp(pi[j] - mx));
        T* ai = c.a.data() + i * qd + h * d;
        for (int64_t j = 0; j <= i; ++j) {
          pi[j] /= sum;
          const T* vj = c.v.data() + j * kd + hk * d;
          for (int e = 0; e < d; ++e) ai[e] += pi[j] * vj[e];
        }
      }
    }
  });
}

// Each kv head's query group is handled by one thread, so dk/dv sums keep a fixed order.
template <class T>
void attention_backward(const Config& cfg, const LayerCache<T>& c, const T* da, T* dq, T* dk,
                        T* dv, int64_t n, ThreadPool* pool) {
  const int d = cfg.head_dim;
  const int group = cfg.n_head / cfg.n_head_kv;
  const int64_t qd = cfg.q_dim();
  const int64_t kd = cfg.kv_dim();
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  parallel(pool, cfg.n_head_kv, [&](int64_t g0, int64_t g1) {
    std::vector<T> dp(n);
    for (int64_t hk = g0; hk < g1; ++hk) {
      for (int64_t h = hk * group; h < (hk + 1) * group; ++h) {
        for (int64_t i = 0; i < n; ++i) {
          const T* pi = c.p.data() + (h * n + i) * n;
          const T* dai = da + i * qd + h * d;
          T sum = 0;
          for (int64_t j = 0; j <= i; ++j) {
            const T* vj = c.v.data() + j * kd + hk * d;
            T s = 0;
            for (int e = 0; e < d; ++e) s += dai[e] * vj[e];
            dp[j] = s;
            sum += pi[j] * s;
            T* dvj = dv + j * kd + hk * d;
            for (int e = 0; e < d; ++e) dvj[e] += pi[j] * dai[e];
          }
          const T* qi = c.q.data() + i * qd + h * d;
          T* dqi = dq + i * qd + h * d;
          for (int64_t j = 0; j <= i; ++j) {
            const T ds = pi[j] * (dp[j] - sum) * scale;
            const T* kj = c.k.data() + j * kd + hk * d;
            T* dkj = dk + j * kd + hk * d;
            for (int e = 0; e < d; ++e) {
              dqi[e] += ds * kj[e];
              dkj[e] += ds * qi[e];
            }
          }
        }
      }
    }
  });
}

}  // namespace

template <class T>
void forward(const Config& cfg, const Params<T>& p, const int32_t* tokens, int64_t n,
             ThreadPool* pool, ForwardCache<T>& cache, T* logits) {
  KESTREL_CHECK(n > 0, "train: empty sequence");
  const int64_t e = cfg.n_embd;
  const int64_t f = cfg.n_ff;
  const T eps = static_cast<T>(cfg.norm_eps);
  cache.tokens.assign(tokens, tokens + n);
  std::vector<T> x(n * e);
  for (int64_t i = 0; i < n; ++i) {
    KESTREL_CHECK(tokens[i] >= 0 && tokens[i] < cfg.n_vocab, "train: token id ", tokens[i],
                  " out of range");
    std::copy_n(p.tok_embd.data() + tokens[i] * e, e, x.data() + i * e);
  }
  cache.layers.resize(cfg.n_layer);
  std::vector<T> tmp(n * e);
  for (int il = 0; il < cfg.n_layer; ++il) {
    const LayerParams<T>& l = p.layers[il];
    LayerCache<T>& c = cache.layers[il];
    c.x_in = x;
    c.r1.resize(n);
    c.h1.resize(n * e);
    rms_norm(x.data(), l.attn_norm.data(), c.h1.data(), c.r1.data(), n, e, eps);
    c.q.resize(n * cfg.q_dim());
    c.k.resize(n * cfg.kv_dim());
    c.v.resize(n * cfg.kv_dim());
    matmul(pool, l.wq.data(), c.h1.data(), c.q.data(), n, e, cfg.q_dim());
    matmul(pool, l.wk.data(), c.h1.data(), c.k.data(), n, e, cfg.kv_dim());
    matmul(pool, l.wv.data(), c.h1.data(), c.v.data(), n, e, cfg.kv_dim());
    rope(cfg, c.q.data(), n, cfg.n_head, 1);
    rope(cfg, c.k.data(), n, cfg.n_head_kv, 1);
    attention(cfg, c, n, pool);
    matmul(pool, l.wo.data(), c.a.data(), tmp.data(), n, cfg.q_dim(), e);
    for (int64_t i = 0; i < n * e; ++i) x[i] += tmp[i];
    c.x_mid = x;
    c.r2.resize(n);
    c.h2.resize(n * e);
    rms_norm(x.data(), l.ffn_norm.data(), c.h2.data(), c.r2.data(), n, e, eps);
    c.g.resize(n * f);
    c.u.resize(n * f);
    c.s.resize(n * f);
    matmul(pool, l.gate.data(), c.h2.data(), c.g.data(), n, e, f);
    matmul(pool, l.up.data(), c.h2.data(), c.u.data(), n, e, f);
    for (int64_t i = 0; i < n * f; ++i) c.s[i] = silu(c.g[i]) * c.u[i];
    matmul(pool, l.down.data(), c.s.data(), tmp.data(), n, f, e);
    for (int64_t i = 0; i < n * e; ++i) x[i] += tmp[i];
  }
  cache.x_out = x;
  cache.r_out.resize(n);
  cache.h_out.resize(n * e);
  rms_norm(x.data(), p.output_norm.data(), cache.h_out.data(), cache.r_out.data(), n, e, eps);
  const std::vector<T>& out = cfg.tied_output ? p.tok_embd : p.output;
  matmul(pool, out.data(), cache.h_out.data(), logits, n, e, cfg.n_vocab);
}

template <class T>
void backward(const Config& cfg, const Params<T>& p, const ForwardCache<T>& cache,
              const T* dlogits, ThreadPool* pool, bool embedding_grads, Params<T>& grads) {
  const int64_t n = static_cast<int64_t>(cache.tokens.size());
  const int64_t e = cfg.n_embd;
  const int64_t f = cfg.n_ff;
  const int64_t qd = cfg.q_dim();
  const int64_t kd = cfg.kv_dim();
  const std::vector<T>& out = cfg.tied_output ? p.tok_embd : p.output;
  std::vector<T> dh(n * e, T(0));
  matmul_dx(pool, out.data(), dlogits, dh.data(), n, e, cfg.n_vocab);
  if (embedding_grads) {
    std::vector<T>& gout = cfg.tied_output ? grads.tok_embd : grads.output;
    matmul_dw(pool, cache.h_out.data(), dlogits, gout.data(), n, e, cfg.n_vocab);
  }
  std::vector<T> dx(n * e, T(0));  // d(loss)/d(residual stream)
  rms_norm_backward(cache.x_out.data(), p.output_norm.data(), cache.r_out.data(), dh.data(),
                    dx.data(), grads.output_norm.data(), n, e);
  std::vector<T> ds(n * f), dg(n * f), du(n * f), da(n * qd), dq(n * qd), dk(n * kd), dv(n * kd);
  for (int il = cfg.n_layer - 1; il >= 0; --il) {
    const LayerParams<T>& l = p.layers[il];
    const LayerCache<T>& c = cache.layers[il];
    LayerParams<T>& gl = grads.layers[il];
    // FFN: x += down(silu(gate h2) * up h2)
    matmul_dw(pool, c.s.data(), dx.data(), gl.down.data(), n, f, e);
    std::fill(ds.begin(), ds.end(), T(0));
    matmul_dx(pool, l.down.data(), dx.data(), ds.data(), n, f, e);
    for (int64_t i = 0; i < n * f; ++i) {
      const T sg = T(1) / (T(1) + std::exp(-c.g[i]));
      du[i] = ds[i] * c.g[i] * sg;
      dg[i] = ds[i] * c.u[i] * sg * (T(1) + c.g[i] * (T(1) - sg));
    }
    matmul_dw(pool, c.h2.data(), dg.data(), gl.gate.data(), n, e, f);
    matmul_dw(pool, c.h2.data(), du.data(), gl.up.data(), n, e, f);
    std::fill(dh.begin(), dh.end(), T(0));
    matmul_dx(pool, l.gate.data(), dg.data(), dh.data(), n, e, f);
    matmul_dx(pool, l.up.data(), du.data(), dh.data(), n, e, f);
    rms_norm_backward(c.x_mid.data(), l.ffn_norm.data(), c.r2.data(), dh.data(), dx.data(),
                      gl.ffn_norm.data(), n, e);
    // Attention: x += wo(attn(rope(wq h1), rope(wk h1), wv h1))
    matmul_dw(pool, c.a.data(), dx.data(), gl.wo.data(), n, qd, e);
    std::fill(da.begin(), da.end(), T(0));
    matmul_dx(pool, l.wo.data(), dx.data(), da.data(), n, qd, e);
    std::fill(dq.begin(), dq.end(), T(0));
    std::fill(dk.begin(), dk.end(), T(0));
    std::fill(dv.begin(), dv.end(), T(0));
    attention_backward(cfg, c, da.data(), dq.data(), dk.data(), dv.data(), n, pool);
    rope(cfg, dq.data(), n, cfg.n_head, -1);
    rope(cfg, dk.data(), n, cfg.n_head_kv, -1);
    matmul_dw(pool, c.h1.data(), dq.data(), gl.wq.data(), n, e, qd);
    matmul_dw(pool, c.h1.data(), dk.data(), gl.wk.data(), n, e, kd);
    matmul_dw(pool, c.h1.data(), dv.data(), gl.wv.data(), n, e, kd);
    std::fill(dh.begin(), dh.end(), T(0));
    matmul_dx(pool, l.wq.data(), dq.data(), dh.data(), n, e, qd);
    matmul_dx(pool, l.wk.data(), dk.data(), dh.data(), n, e, kd);
    matmul_dx(pool, l.wv.data(), dv.data(), dh.data(), n, e, kd);
    rms_norm_backward(c.x_in.data(), l.attn_norm.data(), c.r1.data(), dh.data(), dx.data(),
                      gl.attn_norm.data(), n, e);
  }
  if (embedding_grads) {
    for (int64_t i = 0; i < n; ++i) {
      T* row = grads.tok_embd.data() + static_cast<int64_t>(cache.tokens[i]) * e;
      for (int64_t j = 0; j < e; ++j) row[j] += dx[i * e + j];
    }
  }
}

#define KESTREL_INSTANTIATE(T)                                                                  \
  template void forward<T>(const Config&, const Params<T>&, const int32_t*, int64_t, ThreadPool*, \
                           ForwardCache<T>&, T*);                                                 \
  template void backward<T>(const Config&, const Params<T>&, const ForwardCache<T>&, const T*,    \
                            ThreadPool*, bool, Params<T>&);
KESTREL_INSTANTIATE(float)
KESTREL_INSTANTIATE(double)
#undef KESTREL_INSTANTIATE

}  // namespace kestrel::train
