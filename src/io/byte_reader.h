// Bounds-checked little-endian reader over an untrusted byte range.
//
// Every read names the field it reads; when the range is too short it throws kestrel::Error
// "<prefix>: <field> at offset N: needs K bytes, only R remain". Offsets are from the start of the
// range (for a whole-file reader, file offsets). Never reads or allocates past the range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"

namespace kestrel::io {

class ByteReader {
 public:
  // `prefix` starts every error message (e.g. "gguf"); it must outlive the reader.
  ByteReader(const uint8_t* data, size_t size, std::string_view prefix)
      : data_(data), size_(size), prefix_(prefix) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  const uint8_t* data() const { return data_; }

  // Throws unless n more bytes are available at the current position.
  void need(size_t n, std::string_view field) const {
    if (n > remaining()) {
      fail(prefix_, ": ", field, " at offset ", pos_, ": needs ", n, " bytes, only ", remaining(),
           " remain (truncated file?)");
    }
  }

  // One little-endian scalar (integers and IEEE floats). The host is assumed little-endian, as
  // every platform Kestrel targets is.
  template <class T>
  T read(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), field);
    T value;
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  // A view of the next n bytes; advances past them.
  std::string_view bytes(size_t n, std::string_view field) {
    need(n, field);
    std::string_view v(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return v;
  }

  // GGUF string: uint64 length, then that many bytes (no terminator). The length is checked
  // against the bytes that remain before anything is copied.
  std::string read_string(std::string_view field) {
    size_t at = pos_;
    uint64_t len = read<uint64_t>(field);
    if (len > remaining()) {
      fail(prefix_, ": ", field, " at offset ", at, ": string length ", len, " exceeds the ",
           remaining(), " bytes that remain");
    }
    return std::string(bytes(static_cast<size_t>(len), field));
  }

  void skip(size_t n, std::string_view field) {
    need(n, field);
    pos_ += n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string_view prefix_;
};

}  // namespace kestrel::io
