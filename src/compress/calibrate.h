// Collects importance statistics (compress/importance.h) by running a model over a calibration
// text: for every weight matrix, the mean over tokens of the squared input activation of each
// column. The text is tokenized as the model's tokenizer says and cut into independent chunks of
// n_ctx tokens (the first token of each replaced by BOS where the model adds one, as llama.cpp's
// perplexity and imatrix tools do); a trailing partial chunk is used too.
//
// The forward pass here is the decoder of src/model (same ops, same order) with a recorder on the
// input of every matrix product; it skips the vocabulary projection, whose output it never needs.
#pragma once

#include <cstdint>
#include <string>

#include "compress/importance.h"

namespace kestrel::compress {

struct CalibrationOptions {
  int32_t n_ctx = 512;     // tokens per chunk
  int64_t max_tokens = 0;  // use at most this many tokens of the text (0: all)
  int n_threads = 0;       // 0: all hardware threads
  bool progress = true;    // progress bar on stderr (drawn only on a terminal)
};

// Throws kestrel::Error for a missing or unreadable model or text, or a text of fewer than 2 tokens.
ImportanceMatrix collect_importance(const std::string& model_path, const std::string& text_path,
                                    const CalibrationOptions& options);

}  // namespace kestrel::compress
