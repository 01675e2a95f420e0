// A one-line progress bar on stderr for long jobs (quantize, perplexity, prune, distill). It draws
// only when its stream is a terminal, so logs and pipes stay clean; redraws are throttled to about
// ten a second, and the final state is always drawn by finish().
//
//   ProgressBar bar("quantize", n_tensors);
//   for (...) { ...; bar.update(i + 1, tensor_name); }
//   bar.finish();
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace kestrel {

class ProgressBar {
 public:
  // total: the count that means done (> 0). stream: where to draw (stderr by default); the bar is
  // silent unless the stream is a terminal or `force` is set (tests).
  ProgressBar(std::string label, int64_t total, std::FILE* stream = stderr, bool force = false);
  ~ProgressBar();  // finishes the line if finish() was not called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // done in 0..total (clamped); note is a short text shown after the counts (e.g. a tensor name
  // or a running perplexity).
  void update(int64_t done, std::string_view note = {});
  // Draws the last state and ends the line.
  void finish();
  bool enabled() const { return enabled_; }

  // The line for a state, without the leading carriage return: pure, for tests.
  //   "label [#########---------]  45/100  45%  12.3s  note"
  static std::string render(std::string_view label, int64_t done, int64_t total, int width,
                            double elapsed_s, std::string_view note);

 private:
  void draw();

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::string note_;
  std::FILE* stream_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace kestrel
