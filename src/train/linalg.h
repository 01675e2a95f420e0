// Dense matrix products for training, in T = float or double. W is [n_out rows, n_in], activations
// are [n rows, dim] row-major. Work is split over output rows (or over tokens for dx) so that each
// output element is written by one thread in a fixed order: results do not depend on the number of
// threads, which is what makes checkpoint/resume bit-exact. pool may be null (serial).
#pragma once

#include <cstdint>

namespace kestrel {
class ThreadPool;
}

namespace kestrel::train {

// y[n, n_out] = x[n, n_in] W^T
template <class T>
void matmul(ThreadPool* pool, const T* w, const T* x, T* y, int64_t n, int64_t n_in, int64_t n_out);
// dx[n, n_in] += dy[n, n_out] W
template <class T>
void matmul_dx(ThreadPool* pool, const T* w, const T* dy, T* dx, int64_t n, int64_t n_in,
               int64_t n_out);
// dw[n_out, n_in] += dy[n, n_out]^T x[n, n_in]
template <class T>
void matmul_dw(ThreadPool* pool, const T* x, const T* dy, T* dw, int64_t n, int64_t n_in,
               int64_t n_out);

}  // namespace kestrel::train
