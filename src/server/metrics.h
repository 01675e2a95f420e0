// Serving metrics in Prometheus text format: counters, gauges and fixed-bucket histograms, all
// updated from the engine thread and the HTTP threads under one mutex (updates are a few per token,
// far below the cost of a forward step).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double v);
  // Appends the _bucket/_sum/_count lines of `name`.
  void render(const std::string& name, const std::string& help, std::string& out) const;
  int64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // [bounds + 1], the last is +Inf
  double sum_ = 0;
  int64_t count_ = 0;
};

struct EngineGauges {
  int32_t waiting = 0;
  int32_t running = 0;
  double kv_usage = 0;        // referenced blocks / all blocks
  int32_t kv_cached_blocks = 0;
  int64_t prefix_query_tokens = 0;
  int64_t prefix_hit_tokens = 0;
  int64_t preemptions = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  int64_t steps = 0;
  int64_t token_budget = 0;
  int32_t max_running = 0;
};

class Metrics {
 public:
  Metrics();
  void on_request(int status);  // a finished HTTP request on a generation route
  void on_rejected();           // 429: queue full
  void on_first_token(double seconds);
  void on_inter_token(double seconds);
  void on_generated(int64_t n);  // for the tokens/s window
  void set_gauges(const EngineGauges& g);
  EngineGauges gauges() const;
  std::string render() const;

 private:
  double now() const;

  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  Histogram ttft_, itl_;
  EngineGauges gauges_;
  std::vector<std::pair<int, int64_t>> requests_by_status_;
  int64_t rejected_ = 0;
  std::deque<std::pair<double, int64_t>> recent_;  // (time, tokens) of the last 10 s
};

}  // namespace kestrel::server
