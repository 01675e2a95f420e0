#include "core/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kestrel {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Busy-waits politely: pauses first, then yields the core, so a machine with
// more runnable threads than cores (where the thread we wait for may need our
// core) still makes progress.
inline void backoff(int& spins) {
  if (++spins < 256) {
    cpu_relax();
  } else {
    std::this_thread::yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_share(int index) {
  // Split [0, n) into n_threads_ ranges whose boundaries are multiples of
  // grain.
  const int64_t n_groups = (job_n_ + job_grain_ - 1) / job_grain_;
  const int64_t g0 = n_groups * index / n_threads_;
  const int64_t g1 = n_groups * (index + 1) / n_threads_;
  const int64_t begin = g0 * job_grain_;
  const int64_t end = std::min(job_n_, g1 * job_grain_);
  if (begin < end) job_.call(job_.ctx, begin, end, index);
}

void ThreadPool::run(int64_t n, int64_t grain, Job job) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n_threads_ == 1 || n <= grain) {
    job.call(job.ctx, 0, n, 0);
    return;
  }
  job_ = job;
  job_n_ = n;
  job_grain_ = grain;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  // seq_cst: a worker that registers as a sleeper after this sees the new
  // generation (see wait_for_job); one that registered before is woken here.
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  run_share(0);
  int spins = 0;
  while (pending_.load(std::memory_order_acquire) != 0) backoff(spins);
  job_ = {nullptr, nullptr};
}

uint64_t ThreadPool::wait_for_job(uint64_t seen) {
  for (int spins = 0; spins < kSpinIterations;) {
    const uint64_t g = generation_.load(std::memory_order_acquire);
    if (g != seen) return g;
    backoff(spins);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  sleepers_.fetch_add(1);
  wake_.wait(lock, [&] { return generation_.load() != seen; });
  sleepers_.fetch_sub(1);
  return generation_.load(std::memory_order_acquire);
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    seen = wait_for_job(seen);
    if (stop_.load()) return;
    run_share(index);
    pending_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace kestrel
