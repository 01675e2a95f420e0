#include "train/linalg.h"

#include <algorithm>

#include "core/thread_pool.h"

namespace kestrel::train {
namespace {

template <class Fn>
void parallel(ThreadPool* pool, int64_t n, int64_t grain, const Fn& fn) {
  if (pool == nullptr || pool->size() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  pool->parallel_for(n, grain, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

// Eight independent partial sums let the compiler vectorize without reassociating a single sum;
// the order is fixed, so the result is reproducible.
template <class T>
T dot(const T* a, const T* b, int64_t n) {
  T acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

template <class T>
void axpy(T alpha, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace

template <class T>
void matmul(ThreadPool* pool, const T* w, const T* x, T* y, int64_t n, int64_t n_in,
            int64_t n_out) {
  parallel(pool, n_out, 16, [&](int64_t o0, int64_t o1) {
    // Token-major inside a block of rows keeps the block of W in cache while x streams.
    constexpr int64_t kRows = 16;
    for (int64_t ob = o0; ob < o1; ob += kRows) {
      const int64_t oe = std::min(o1, ob + kRows);
      for (int64_t i = 0; i < n; ++i) {
        const T* xi = x + i * n_in;
        T* yi = y + i * n_out;
        for (int64_t o = ob; o < oe; ++o) yi[o] = dot(w + o * n_in, xi, n_in);
      }
    }
  });
}

template <class T>
void matmul_dx(ThreadPool* pool, const T* w, const T* dy, T* dx, int64_t n, int64_t n_in,
               int64_t n_out) {
  parallel(pool, n, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* dyi = dy + i * n_out;
      T* dxi = dx + i * n_in;
      for (int64_t o = 0; o < n_out; ++o) {
        if (dyi[o] != T(0)) axpy(dyi[o], w + o * n_in, dxi, n_in);
      }
    }
  });
}

template <class T>
void matmul_dw(ThreadPool* pool, const T* x, const T* dy, T* dw, int64_t n, int64_t n_in,
               int64_t n_out) {
  parallel(pool, n_out, 16, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      T* dwo = dw + o * n_in;
      for (int64_t i = 0; i < n; ++i) {
        const T g = dy[i * n_out + o];
        if (g != T(0)) axpy(g, x + i * n_in, dwo, n_in);
      }
    }
  });
}

#define KESTREL_INSTANTIATE(T)                                                              \
  template void matmul<T>(ThreadPool*, const T*, const T*, T*, int64_t, int64_t, int64_t);    \
  template void matmul_dx<T>(ThreadPool*, const T*, const T*, T*, int64_t, int64_t, int64_t); \
  template void matmul_dw<T>(ThreadPool*, const T*, const T*, T*, int64_t, int64_t, int64_t);
KESTREL_INSTANTIATE(float)
KESTREL_INSTANTIATE(double)
#undef KESTREL_INSTANTIATE

}  // namespace kestrel::train
