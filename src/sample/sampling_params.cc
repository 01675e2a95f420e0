#include "sample/sampling_params.h"

#include <cmath>

#include "core/error.h"

namespace kestrel::sample {

void SamplingParams::validate() const {
  // Each check is written as "value is good" so that NaN, which fails every comparison, is bad.
  KESTREL_CHECK(std::isfinite(temperature) && temperature >= 0.0f,
                "sampling: temperature must be finite and >= 0, got ", temperature);
  KESTREL_CHECK(top_k >= 0, "sampling: top_k must be >= 0 (0 = off), got ", top_k);
  KESTREL_CHECK(top_p > 0.0f && top_p <= 1.0f, "sampling: top_p must be in (0, 1], got ", top_p);
  KESTREL_CHECK(min_p >= 0.0f && min_p <= 1.0f, "sampling: min_p must be in [0, 1], got ", min_p);
  KESTREL_CHECK(std::isfinite(repeat_penalty) && repeat_penalty > 0.0f,
                "sampling: repeat_penalty must be finite and > 0, got ", repeat_penalty);
  KESTREL_CHECK(repeat_last_n >= -1,
                "sampling: repeat_last_n must be >= -1 (-1 = all, 0 = off), got ", repeat_last_n);
  KESTREL_CHECK(std::isfinite(frequency_penalty),
                "sampling: frequency_penalty must be finite, got ", frequency_penalty);
  KESTREL_CHECK(std::isfinite(presence_penalty), "sampling: presence_penalty must be finite, got ",
                presence_penalty);
}

}  // namespace kestrel::sample
