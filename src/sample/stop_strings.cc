#include "sample/stop_strings.h"

#include <algorithm>

namespace kestrel::sample {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

StopStringMatcher::Result StopStringMatcher::feed(std::string_view chunk) {
  Result r;
  if (stopped_) {
    r.stopped = true;
    return r;
  }
  pending_.append(chunk);
  // pending_ held no complete stop before this chunk, so searching all of it finds only matches
  // that end inside the chunk. Earliest end wins; on equal ends the longer (earlier) match.
  size_t best_end = std::string::npos;
  size_t best_pos = 0;
  for (size_t s = 0; s < stops_.size(); ++s) {
    const std::string& stop = stops_[s];
    if (stop.empty()) continue;
    const size_t pos = pending_.find(stop);
    if (pos == std::string::npos) continue;
    const size_t end = pos + stop.size();
    if (best_end == std::string::npos || end < best_end || (end == best_end && pos < best_pos)) {
      best_end = end;
      best_pos = pos;
      r.stop_index = static_cast<int>(s);
    }
  }
  if (best_end != std::string::npos) {
    r.text = pending_.substr(0, best_pos);
    r.stopped = true;
    stopped_ = true;
    pending_.clear();
    return r;
  }
  const size_t emit = pending_.size() - held_back_length();
  r.text = pending_.substr(0, emit);
  pending_.erase(0, emit);
  return r;
}

size_t StopStringMatcher::held_back_length() const {
  size_t hold = 0;
  for (const std::string& stop : stops_) {
    // Proper prefixes only: a whole stop string would have been found by feed().
    const size_t max_k = std::min(stop.size() - (stop.empty() ? 0 : 1), pending_.size());
    for (size_t k = max_k; k > hold; --k) {
      if (pending_.compare(pending_.size() - k, k, stop, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

std::string StopStringMatcher::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

void StopStringMatcher::reset() {
  pending_.clear();
  stopped_ = false;
}

}  // namespace kestrel::sample
