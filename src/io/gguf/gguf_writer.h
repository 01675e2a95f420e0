// GGUF v3 writer: metadata and tensors in, a valid file out. Writes to PATH.tmp and renames on
// success, so a failure never leaves a partial file at PATH.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/gguf/gguf_file.h"

namespace kestrel::io {

class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  // Adds or replaces a key (the value is copied). Order of first insertion is kept.
  void set(const std::string& key, const GgufValue& value);
  void set_string(const std::string& key, const std::string& value);
  void set_u32(const std::string& key, uint32_t value);
  void set_i32(const std::string& key, int32_t value);
  void set_f32(const std::string& key, float value);
  void set_bool(const std::string& key, bool value);
  // Copies every key of an existing file (e.g. to rewrite a model with new tensors).
  void copy_metadata(const GgufFile& file);

  // The data pointer must stay valid until write(); nbytes must equal row_bytes(type, ne[0]) * rows.
  void add_tensor(const std::string& name, tensor::DType type, int n_dims, const int64_t* ne,
                  const void* data, size_t nbytes);

  // Throws kestrel::Error on I/O failure (the temporary file is removed).
  void write(const std::string& path) const;
  // The same bytes as write() would produce, in memory (tests, fuzz seeds, small files).
  std::vector<uint8_t> serialize() const;

 private:
  struct PendingTensor {
    std::string name;
    tensor::DType type;
    int n_dims;
    int64_t ne[4];
    const void* data;
    size_t nbytes;
  };
  using Sink = std::function<void(const void* data, size_t n)>;
  // Validates everything, then streams the whole file to the sink.
  void emit(const Sink& sink) const;

  uint64_t alignment_;
  std::vector<GgufKeyValue> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace kestrel::io
