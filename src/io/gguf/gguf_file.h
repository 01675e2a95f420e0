// GGUF v2/v3 reader: parses the header, metadata and tensor table of an untrusted file, then gives
// zero-copy views of tensor data inside the memory map.
//
// Every length, count, type and offset a file declares is validated before use; any violation
// throws kestrel::Error with one line naming the field and its byte offset, e.g.
//   "gguf: tensor 'blk.0.attn_q.weight' data [offset 1234, 4096 bytes] runs past the end of the file (size 2000)"
// Allocation is bounded by the file size (a declared count can never make the reader reserve more
// than the bytes that remain).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/dtype.h"

namespace kestrel::io {

class MappedFile;  // io/mapped_file.h

enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
const char* gguf_type_name(GgufType type);

// One metadata value. Scalars: integers in `i` (uint64 values above INT64_MAX wrap; no model key
// needs them), floats in `f`, bools in `i` (0/1), strings in `str`. Arrays: array_type names the
// element type; elements land in `strs` (strings), `ints` (integers, bools) or `floats`. Nested
// arrays are rejected.
struct GgufValue {
  GgufType type = GgufType::kUint32;
  GgufType array_type = GgufType::kUint32;
  int64_t i = 0;
  double f = 0;
  std::string str;
  std::vector<std::string> strs;
  std::vector<int64_t> ints;
  std::vector<double> floats;

  size_t array_size() const;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  tensor::DType type = tensor::DType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the innermost (contiguous) dimension
  uint64_t offset = 0;           // from the start of the data section
  size_t nbytes = 0;
  const void* data = nullptr;    // inside the mapping; valid while the GgufFile lives

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  // Maps and parses a file. Throws kestrel::Error naming the path and the problem.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Parses an in-memory image (for fuzzing and tests); the bytes must outlive the result.
  static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size);
  ~GgufFile();

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }  // start of the tensor data section
  size_t file_size() const { return size_; }

  const std::vector<GgufKeyValue>& metadata() const { return kv_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  // MappedFile::release for tensor bytes of a file opened with open(); no-op for parse().
  void release_pages(const void* p, size_t n) const;

  // nullptr when absent.
  const GgufValue* find(std::string_view key) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Typed getters. The `_or` forms return the fallback when the key is absent; every form throws
  // when the key is present with an incompatible type (any integer type converts to any other
  // integer accessor when the value fits).
  std::string get_string(std::string_view key) const;
  std::string get_string_or(std::string_view key, std::string fallback) const;
  int64_t get_int(std::string_view key) const;
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float(std::string_view key) const;  // accepts float32/float64 values
  double get_float_or(std::string_view key, double fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  // Arrays; throw when absent or of the wrong element type.
  const std::vector<std::string>& get_string_array(std::string_view key) const;
  const std::vector<int64_t>& get_int_array(std::string_view key) const;
  const std::vector<double>& get_float_array(std::string_view key) const;

 private:
  GgufFile() = default;
  void parse_all();

  std::unique_ptr<MappedFile> map_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<GgufKeyValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
  // Name -> index into kv_ / tensors_ (built while parsing; also how duplicates are caught).
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace kestrel::io
