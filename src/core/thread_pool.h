// A fixed pool of worker threads for data-parallel loops. The calling thread
// takes part as worker 0, so a pool of n threads starts n - 1 helpers.
// parallel_for blocks until every chunk is done.
//
// Cost: a forward pass calls parallel_for a few hundred times per token, so
// hand-off latency is the point. Workers spin on an atomic generation counter
// for a while after each job (a hand-off is then a cache-line transfer, well
// under a microsecond) and only fall asleep on a condition variable when no job
// came for kSpinIterations rounds of pausing and yielding, so an idle engine
// costs no CPU. Work is split into n contiguous ranges, so callers pass items
// that cost about the same.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace kestrel {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end, thread_index) on disjoint ranges covering [0, n);
  // ranges are aligned to `grain` items (except the last) so callers can keep
  // blocks of rows together. Not reentrant: one caller at a time. fn is used
  // through a non-owning reference, so a call allocates nothing whatever the
  // lambda captures (this runs hundreds of times per token).
  template <class Fn>
  void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(n, grain,
        {const_cast<void*>(static_cast<const void*>(&fn)),
         [](void* f, int64_t b, int64_t e, int t) { (*static_cast<F*>(f))(b, e, t); }});
  }

 private:
  static constexpr int kSpinIterations = 1 << 14;  // pauses, then yields (thread_pool.cc)

  // A borrowed callable: ctx is the caller's function object, call invokes it.
  struct Job {
    void* ctx;
    void (*call)(void* ctx, int64_t begin, int64_t end, int thread);
  };

  void run(int64_t n, int64_t grain, Job job);
  void worker_loop(int index);
  void run_share(int index);
  // Waits until generation_ differs from `seen` or stop_; returns the new
  // generation.
  uint64_t wait_for_job(uint64_t seen);

  int n_threads_;
  std::vector<std::thread> workers_;

  // The current job; written before generation_ is bumped (release), read after
  // (acquire).
  Job job_{nullptr, nullptr};
  int64_t job_n_ = 0;
  int64_t job_grain_ = 1;

  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<int> pending_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace kestrel
