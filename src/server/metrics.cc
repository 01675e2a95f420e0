#include "server/metrics.h"

#include <algorithm>
#include <cstdio>

namespace kestrel::server {
namespace {

constexpr double kRateWindow = 10.0;

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void line(std::string& out, const std::string& name, const std::string& type,
          const std::string& help, double value) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  out += name + " " + num(value) + "\n";
}

}  // namespace

void Histogram::observe(double v) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  int64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : ttft_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

void Metrics::on_request(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [s, n] : requests_by_status_) {
    if (s == status) {
      ++n;
      return;
    }
  }
  requests_by_status_.emplace_back(status, 1);
}

void Metrics::on_rejected() {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_;
}

void Metrics::on_first_token(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ttft_.observe(seconds);
}

void Metrics::on_inter_token(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  itl_.observe(seconds);
}

double Metrics::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void Metrics::on_generated(int64_t n) {
  const double now = this->now();
  std::lock_guard<std::mutex> lock(mu_);
  recent_.emplace_back(now, n);
  while (!recent_.empty() && recent_.front().first < now - kRateWindow) recent_.pop_front();
}

void Metrics::set_gauges(const EngineGauges& g) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_ = g;
}

EngineGauges Metrics::gauges() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gauges_;
}

std::string Metrics::render() const {
  const double now = this->now();
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  const EngineGauges& g = gauges_;
  line(out, "kestrel_queue_depth", "gauge", "Sequences waiting for admission.", g.waiting);
  line(out, "kestrel_running_sequences", "gauge", "Sequences admitted to the batch.", g.running);
  int64_t recent = 0;
  for (const auto& [t, n] : recent_) {
    if (t >= now - kRateWindow) recent += n;
  }
  line(out, "kestrel_generation_tokens_per_second", "gauge",
       "Generated tokens per second over the last 10 s.", recent / kRateWindow);
  line(out, "kestrel_prompt_tokens_total", "counter", "Prompt tokens computed.", g.prompt_tokens);
  line(out, "kestrel_generation_tokens_total", "counter", "Tokens generated.", g.generated_tokens);
  line(out, "kestrel_engine_steps_total", "counter", "Engine steps run.", g.steps);
  line(out, "kestrel_kv_cache_usage_ratio", "gauge", "KV blocks referenced by sequences / all.",
       g.kv_usage);
  line(out, "kestrel_kv_cache_cached_blocks", "gauge", "KV blocks holding a cached prefix.",
       g.kv_cached_blocks);
  line(out, "kestrel_prefix_cache_queried_tokens_total", "counter",
       "Prompt tokens looked up in the prefix cache.", g.prefix_query_tokens);
  line(out, "kestrel_prefix_cache_hit_tokens_total", "counter",
       "Prompt tokens reused from the prefix cache.", g.prefix_hit_tokens);
  line(out, "kestrel_prefix_cache_hit_rate", "gauge", "Hit tokens / queried tokens.",
       g.prefix_query_tokens > 0 ? static_cast<double>(g.prefix_hit_tokens) / g.prefix_query_tokens
                                 : 0.0);
  line(out, "kestrel_preemptions_total", "counter", "Sequences preempted (KV recomputed).",
       g.preemptions);
  line(out, "kestrel_batch_token_budget", "gauge", "Tokens per step the scheduler may plan.",
       g.token_budget);
  line(out, "kestrel_batch_max_running", "gauge", "Most sequences admitted at once.",
       g.max_running);
  line(out, "kestrel_requests_rejected_total", "counter", "Requests answered 429 (queue full).",
       rejected_);
  out += "# HELP kestrel_requests_total Generation requests by HTTP status.\n"
         "# TYPE kestrel_requests_total counter\n";
  for (const auto& [s, n] : requests_by_status_) {
    out += "kestrel_requests_total{status=\"" + std::to_string(s) + "\"} " + std::to_string(n) +
           "\n";
  }
  ttft_.render("kestrel_time_to_first_token_seconds", "Time from arrival to the first token.", out);
  itl_.render("kestrel_inter_token_latency_seconds", "Time between consecutive tokens.", out);
  return out;
}

}  // namespace kestrel::server
