// Helpers for GGUF tests: a raw byte builder that can write anything (including the lies a hostile
// file tells), and a matcher-free way to check that parsing throws a message naming a field.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "io/gguf/gguf_file.h"

namespace kestrel::io::testing {

// Little-endian byte builder. Nothing is validated: tests use it to build broken files.
class RawGguf {
 public:
  template <class T>
  RawGguf& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  RawGguf& str(std::string_view s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  // Magic, version, tensor count, metadata count.
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    bytes_.insert(bytes_.end(), {'G', 'G', 'U', 'F'});
    return put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  }
  // A key with a uint32 value.
  RawGguf& kv_u32(std::string_view key, uint32_t v) {
    return str(key).put<uint32_t>(static_cast<uint32_t>(GgufType::kUint32)).put<uint32_t>(v);
  }
  // One tensor info: name, dims, type, offset.
  RawGguf& tensor(std::string_view name, std::vector<int64_t> ne, uint32_t type,
                  uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) put<int64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  RawGguf& pad(size_t alignment = 32) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  RawGguf& zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

inline std::unique_ptr<GgufFile> parse(const std::vector<uint8_t>& b) {
  return GgufFile::parse(b.data(), b.size());
}

// Parses and returns the kestrel::Error message ("" when parsing succeeded; the test then fails).
inline std::string parse_error(const std::vector<uint8_t>& b) {
  try {
    parse(b);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parse succeeded on a malformed file";
  return "";
}

// Expects parse to throw kestrel::Error whose message contains every fragment.
#define EXPECT_GGUF_ERROR(bytes, ...)                                                \
  do {                                                                               \
    std::string msg_ = ::kestrel::io::testing::parse_error(bytes);                   \
    for (std::string_view frag_ : {__VA_ARGS__}) {                                   \
      EXPECT_NE(msg_.find(frag_), std::string::npos) << "'" << frag_ << "' not in: " << msg_; \
    }                                                                                \
    EXPECT_EQ(msg_.find('\n'), std::string::npos) << msg_;                           \
  } while (0)

}  // namespace kestrel::io::testing
