#include "core/progress.h"

#include <unistd.h>

#include <algorithm>

namespace kestrel {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, std::FILE* stream, bool force)
    : label_(std::move(label)),
      total_(std::max<int64_t>(1, total)),
      stream_(stream),
      enabled_(force || (stream != nullptr && isatty(fileno(stream)) != 0)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

std::string ProgressBar::render(std::string_view label, int64_t done, int64_t total, int width,
                                double elapsed_s, std::string_view note) {
  total = std::max<int64_t>(1, total);
  done = std::clamp<int64_t>(done, 0, total);
  const int filled = static_cast<int>(done * width / total);
  std::string line(label);
  line += " [";
  line.append(filled, '#');
  line.append(width - filled, '-');
  line += "] ";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld/%lld %3d%% %6.1fs", static_cast<long long>(done),
                static_cast<long long>(total), static_cast<int>(done * 100 / total), elapsed_s);
  line += buf;
  if (!note.empty()) {
    line += "  ";
    line += note;
  }
  return line;
}

void ProgressBar::update(int64_t done, std::string_view note) {
  done_ = std::clamp<int64_t>(done, 0, total_);
  note_.assign(note);
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kRedrawInterval && done_ < total_) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw();
  std::fputc('\n', stream_);
  std::fflush(stream_);
}

void ProgressBar::draw() {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // "\r" returns to the start of the line; "\033[K" clears what a longer previous line left.
  std::fprintf(stream_, "\r%s\033[K", render(label_, done_, total_, kBarWidth, elapsed, note_).c_str());
  std::fflush(stream_);
}

}  // namespace kestrel
