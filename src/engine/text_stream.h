// Generated tokens -> text a client may see: complete UTF-8 characters only, and nothing at or
// after a stop string (text that could be the start of one is held back until it cannot).
#pragma once

#include <string>
#include <vector>

#include "sample/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::engine {

class TextStream {
 public:
  TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stops)
      : decoder_(tok), stops_(std::move(stops)) {}

  // Text that became safe to emit with this token (often empty).
  std::string push(int32_t token) {
    if (stops_.stopped()) return {};
    return stops_.feed(decoder_.push(token)).text;
  }
  // The rest, at the end of generation.
  std::string finish() {
    if (stops_.stopped()) return {};
    std::string tail = stops_.feed(decoder_.flush()).text;
    return tail + stops_.flush();
  }
  bool stopped() const { return stops_.stopped(); }

 private:
  tokenizer::IncrementalDecoder decoder_;
  sample::StopStringMatcher stops_;
};

}  // namespace kestrel::engine
