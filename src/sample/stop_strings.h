// StopStringMatcher: finds stop strings in streamed text and decides what is safe to emit.
//
// feed() takes the next chunk of generated text and returns what can be shown now. Text that could
// be the start of a stop string is held back until the next chunk settles it. When a stop string
// completes, the text before it is emitted, the stop string and anything after it are discarded,
// and the matcher is stopped (later feeds return nothing). flush() returns the held-back text once
// generation ends without a stop.
//
// The result does not depend on how the text is split into chunks: a stop is taken where it is
// first completed (earliest end; the longer one if two end together), which is where a
// character-by-character feed would have stopped. Bytes are compared as given; held-back text
// always starts where a stop string starts, so valid UTF-8 is never split inside a code point.
// Empty stop strings are ignored.
//
// Cost: feed() is O(pending * total stop length); pending is at most the longest stop string
// minus one plus the chunk.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kestrel::sample {

class StopStringMatcher {
 public:
  struct Result {
    std::string text;  // safe to emit now
    bool stopped = false;
    int stop_index = -1;  // which stop string matched (index into the constructor's list)
  };

  explicit StopStringMatcher(std::vector<std::string> stops);

  Result feed(std::string_view chunk);
  // Held-back text at the end of generation (empty once stopped).
  std::string flush();
  bool stopped() const { return stopped_; }
  // Ready for a new generation with the same stop strings.
  void reset();

 private:
  // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
  size_t held_back_length() const;

  std::vector<std::string> stops_;
  std::string pending_;  // text received but not yet emitted
  bool stopped_ = false;
};

}  // namespace kestrel::sample
