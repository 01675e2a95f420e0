// A model held as dense F32 tensors: every tensor of a GGUF file dequantized (whatever its type),
// plus the file's metadata. Pruning edits it in place; write() stores it as a new GGUF file with
// matrices in F32 or F16 (vectors stay F32), through a temporary file renamed on success.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf/gguf_file.h"
#include "tensor/dtype.h"
#include "train/params.h"

namespace kestrel::train {

struct DenseTensor {
  std::string name;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0] innermost
  std::vector<float> data;

  int64_t rows() const { return ne[1] * ne[2] * ne[3]; }
};

class DenseModel {
 public:
  // Dequantizes every tensor; throws for a type Kestrel cannot dequantize.
  static DenseModel from_gguf(const io::GgufFile& file);

  const std::string& arch() const { return arch_; }
  std::vector<io::GgufKeyValue>& metadata() { return metadata_; }
  std::vector<DenseTensor>& tensors() { return tensors_; }
  // nullptr when absent.
  DenseTensor* find(const std::string& name);
  DenseTensor& get(const std::string& name);  // throws when absent
  int64_t get_int(const std::string& key) const;
  void set_u32(const std::string& key, uint32_t value);  // adds or replaces

  // matrix_type: F32 or F16.
  void write(const std::string& path, tensor::DType matrix_type) const;

 private:
  std::string arch_;
  std::vector<io::GgufKeyValue> metadata_;
  std::vector<DenseTensor> tensors_;
};

// Llama-family hyper-parameters for training and calibration; throws for another architecture.
Config llama_config(const io::GgufFile& file);
// Moves the tensors of a llama model into Params (the DenseModel loses them) and back.
Params<float> take_params(const Config& cfg, DenseModel& model);
void put_params(const Config& cfg, Params<float>& params, DenseModel& model);

}  // namespace kestrel::train
