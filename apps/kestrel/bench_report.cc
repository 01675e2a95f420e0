#include "bench_report.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace kestrel::app {
namespace {

std::string format(const char* fmt, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

std::string model_label(const ModelFacts& m) {
  return std::filesystem::path(m.path).filename().string();
}

class MarkdownReport final : public BenchReport {
 public:
  explicit MarkdownReport(std::ostream& out) : out_(out) {}

  void add(const BenchResult& r) override {
    if (!header_done_) {
      out_ << "| model | type | size | params | threads | test | t/s |\n"
           << "| --- | --- | ---: | ---: | ---: | --- | ---: |\n";
      header_done_ = true;
    }
    std::string test = r.test_name();
    if (r.depth > 0) test += " @ d" + std::to_string(r.depth);
    out_ << "| " << model_label(r.model) << " | " << r.model.arch << " " << r.model.main_type
         << " | " << format("%.2f MiB", r.model.size_bytes / 1048576.0) << " | "
         << format("%.2f M", r.model.n_params / 1e6) << " | " << r.n_threads << " | " << test
         << " | " << format("%.2f ± %.2f", r.stats.avg_ts, r.stats.stddev_ts) << " |\n";
    out_.flush();
  }
  void finish() override {}

 private:
  std::ostream& out_;
  bool header_done_ = false;
};

class JsonReport final : public BenchReport {
 public:
  explicit JsonReport(std::ostream& out) : out_(out), results_(nlohmann::ordered_json::array()) {}

  void add(const BenchResult& r) override {
    nlohmann::ordered_json samples_ns = nlohmann::ordered_json::array();
    nlohmann::ordered_json samples_ts = nlohmann::ordered_json::array();
    const int32_t n = r.n_prompt + r.n_gen;
    for (double s : r.samples_s) {
      samples_ns.push_back(static_cast<int64_t>(s * 1e9));
      samples_ts.push_back(n / s);
    }
    results_.push_back({
        {"engine", "kestrel"},
        {"model", r.model.path},
        {"model_filename", r.model.path},
        {"model_type", r.model.arch + " " + r.model.main_type},
        {"model_size", r.model.size_bytes},
        {"model_n_params", r.model.n_params},
        {"n_threads", r.n_threads},
        {"n_batch", r.n_batch},
        {"test", r.test_name()},
        {"n_prompt", r.n_prompt},
        {"n_gen", r.n_gen},
        {"depth", r.depth},
        {"n_parallel", r.n_parallel},
        {"n_depth", r.depth},
        {"repetitions", static_cast<int64_t>(r.samples_s.size())},
        {"avg_ns", static_cast<int64_t>(r.stats.avg_ns)},
        {"stddev_ns", static_cast<int64_t>(r.stats.stddev_ns)},
        {"avg_ts", r.stats.avg_ts},
        {"stddev_ts", r.stats.stddev_ts},
        {"samples_ns", samples_ns},
        {"samples_ts", samples_ts},
    });
  }
  void finish() override { out_ << results_.dump(2) << "\n"; }

 private:
  std::ostream& out_;
  nlohmann::ordered_json results_;
};

}  // namespace

std::string BenchResult::test_name() const {
  if (n_prompt > 0) return "pp" + std::to_string(n_prompt);
  std::string name = "tg" + std::to_string(n_gen);
  if (n_parallel > 1) name += " x" + std::to_string(n_parallel);
  return name;
}

std::unique_ptr<BenchReport> make_report(const std::string& format, std::ostream& out) {
  if (format == "md") return std::make_unique<MarkdownReport>(out);
  if (format == "json") return std::make_unique<JsonReport>(out);
  fail("bench: unknown output format '", format, "' (md or json)");
}

}  // namespace kestrel::app
