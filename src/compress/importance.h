// Calibration statistics for importance-weighted quantization: for every weight matrix, the mean
// of the squared input activation of each input channel (column) over a calibration text, as
// llama.cpp's imatrix collects them. Quantizers weight each element's squared error by its
// column's value, so channels that carry large activations are reproduced more faithfully.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kestrel::compress {

struct ImportanceMatrix {
  // Tensor name -> F32 [n_in] mean of x_j^2 over the calibration tokens.
  std::map<std::string, std::vector<float>> columns;
  int64_t n_tokens = 0;   // calibration tokens seen
  std::string dataset;    // where the text came from (file name), for the output's metadata

  const std::vector<float>* find(const std::string& tensor) const {
    const auto it = columns.find(tensor);
    return it == columns.end() ? nullptr : &it->second;
  }
};

}  // namespace kestrel::compress
