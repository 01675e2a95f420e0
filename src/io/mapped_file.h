// Read-only memory map of a whole file. Throws kestrel::Error when the file cannot be opened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kestrel::io {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Drops this process's copies of the whole pages inside [p, p + n) (a range of data()): for
  // bytes a backend has copied into its own layout, so the model is not resident twice. The bytes
  // stay readable: a later read faults them back in from the file.
  void release(const void* p, size_t n) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kestrel::io
