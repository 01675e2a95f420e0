// Hostile GGUF files: each lie must end in a one-line kestrel::Error naming the field, never a
// crash or an unbounded allocation.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "gguf_test_util.h"
#include "tensor/dtype.h"

namespace kestrel::io {
namespace {

using testing::RawGguf;

constexpr uint64_t k2p63 = uint64_t{1} << 63;
constexpr uint64_t k2p40 = uint64_t{1} << 40;
constexpr uint32_t kF32 = static_cast<uint32_t>(tensor::DType::F32);
constexpr uint32_t kQ4_0 = static_cast<uint32_t>(tensor::DType::Q4_0);
constexpr uint32_t kTypeU32 = static_cast<uint32_t>(GgufType::kUint32);
constexpr uint32_t kTypeArray = static_cast<uint32_t>(GgufType::kArray);

// One F32 tensor "w" of ne0 elements at data offset 0, with its data.
RawGguf one_tensor(std::vector<int64_t> ne, uint32_t type = kF32, uint64_t offset = 0,
                   size_t data_bytes = 64) {
  RawGguf g;
  g.header(1, 0).tensor("w", std::move(ne), type, offset).pad().zeros(data_bytes);
  return g;
}

TEST(MalformedGguf, MinimalFileParses) {
  auto f = testing::parse(one_tensor({16}).bytes());
  ASSERT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(f->tensors()[0].nbytes, 64u);
  EXPECT_EQ(f->data_offset() % 32, 0u);
}

TEST(MalformedGguf, EmptyAndTinyInputs) {
  EXPECT_GGUF_ERROR(std::vector<uint8_t>{}, "magic", "offset 0");
  EXPECT_GGUF_ERROR((std::vector<uint8_t>{'G', 'G', 'U'}), "magic");
  EXPECT_GGUF_ERROR((std::vector<uint8_t>{'G', 'G', 'U', 'F', 3}), "version", "offset 4");
}

TEST(MalformedGguf, WrongMagic) {
  RawGguf g;
  g.put<uint32_t>(0x46554746).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(0);
  EXPECT_GGUF_ERROR(g.bytes(), "magic", "offset 0", "not a GGUF file");
}

TEST(MalformedGguf, Versions) {
  EXPECT_GGUF_ERROR(RawGguf().header(0, 0, 1).bytes(), "version", "v1 is not supported");
  EXPECT_GGUF_ERROR(RawGguf().header(0, 0, 99).bytes(), "version", "99");
  EXPECT_GGUF_ERROR(RawGguf().header(0, 0, 0x03000000).bytes(), "version", "big-endian");
  // v2 has the same layout as v3.
  EXPECT_EQ(testing::parse(RawGguf().header(0, 0, 2).bytes())->version(), 2u);
}

TEST(MalformedGguf, AbsurdCounts) {
  for (uint64_t n : {k2p63, k2p40, ~uint64_t{0}, uint64_t{1000}}) {
    EXPECT_GGUF_ERROR(RawGguf().header(n, 0).zeros(64).bytes(), "tensor count", "offset 8");
    EXPECT_GGUF_ERROR(RawGguf().header(0, n).zeros(64).bytes(), "metadata count", "offset 16");
  }
  // Each count fits alone, the two together do not.
  EXPECT_GGUF_ERROR(RawGguf().header(2, 3).zeros(64).bytes(), "metadata count");
}

TEST(MalformedGguf, AbsurdStringLengths) {
  for (uint64_t n : {k2p63, k2p40, ~uint64_t{0}, uint64_t{100}}) {
    RawGguf key;
    key.header(0, 1).put<uint64_t>(n).zeros(20);
    EXPECT_GGUF_ERROR(key.bytes(), "metadata[0] key", "offset 24", "string length");

    RawGguf value;
    value.header(0, 1).str("k").put<uint32_t>(8).put<uint64_t>(n).zeros(8);
    EXPECT_GGUF_ERROR(value.bytes(), "metadata 'k' value", "string length");

    RawGguf name;
    name.header(1, 0).put<uint64_t>(n).zeros(40);
    EXPECT_GGUF_ERROR(name.bytes(), "tensor[0] name", "string length");
  }
}

TEST(MalformedGguf, AbsurdArrayLengths) {
  for (uint32_t elem : {0u, 8u, 12u}) {
    for (uint64_t n : {k2p63, k2p40, ~uint64_t{0}}) {
      RawGguf g;
      g.header(0, 1).str("a").put<uint32_t>(kTypeArray).put<uint32_t>(elem).put<uint64_t>(n);
      g.zeros(32);
      EXPECT_GGUF_ERROR(g.bytes(), "metadata 'a' array length", "cannot fit");
    }
  }
  // An array string element that lies about its length.
  RawGguf g;
  g.header(0, 1).str("a").put<uint32_t>(kTypeArray).put<uint32_t>(8).put<uint64_t>(2);
  g.str("ok").put<uint64_t>(k2p40).zeros(8);
  EXPECT_GGUF_ERROR(g.bytes(), "metadata 'a' array element", "string length");
}

TEST(MalformedGguf, BadMetadataTypes) {
  for (uint32_t type : {13u, 255u, 0xffffffffu}) {
    RawGguf g;
    g.header(0, 1).str("k").put<uint32_t>(type).zeros(16);
    EXPECT_GGUF_ERROR(g.bytes(), "metadata 'k' type", "offset 33", "unknown value type");
  }
  RawGguf nested;
  nested.header(0, 1).str("k").put<uint32_t>(kTypeArray).put<uint32_t>(kTypeArray).zeros(32);
  EXPECT_GGUF_ERROR(nested.bytes(), "metadata 'k' array element type", "nested arrays");

  RawGguf elem;
  elem.header(0, 1).str("k").put<uint32_t>(kTypeArray).put<uint32_t>(13).zeros(32);
  EXPECT_GGUF_ERROR(elem.bytes(), "array element type", "unknown value type 13");

  RawGguf boolean;
  boolean.header(0, 1).str("b").put<uint32_t>(7).put<uint8_t>(2);
  EXPECT_GGUF_ERROR(boolean.bytes(), "metadata 'b' value", "bool");

  RawGguf truncated;
  truncated.header(0, 1).str("k").put<uint32_t>(kTypeU32).put<uint16_t>(1);
  EXPECT_GGUF_ERROR(truncated.bytes(), "metadata 'k' value", "needs 4 bytes");
}

TEST(MalformedGguf, UnprintableKeyStaysOneLine) {
  RawGguf g;
  g.header(0, 1).str(std::string("bad\nkey\x01", 8)).put<uint32_t>(99).zeros(8);
  EXPECT_GGUF_ERROR(g.bytes(), "metadata 'bad?key?' type");
}

TEST(MalformedGguf, DuplicateKey) {
  RawGguf g;
  g.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2);
  EXPECT_GGUF_ERROR(g.bytes(), "metadata[1] key", "offset 43", "duplicate key 'a.b'");
}

TEST(MalformedGguf, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u, 0x80000000u}) {
    RawGguf g;
    g.header(0, 1).kv_u32("general.alignment", a);
    EXPECT_GGUF_ERROR(g.bytes(), "general.alignment", "offset 24", "power of two");
  }
  RawGguf s;
  s.header(0, 1).str("general.alignment").put<uint32_t>(8).str("32");
  EXPECT_GGUF_ERROR(s.bytes(), "general.alignment", "expected an integer");

  RawGguf ok;
  ok.header(0, 1).kv_u32("general.alignment", 64);
  EXPECT_EQ(testing::parse(ok.bytes())->alignment(), 64u);
}

TEST(MalformedGguf, BadTensorType) {
  for (uint32_t type : {4u, 5u, 31u, 99u, 0xffffffffu}) {
    EXPECT_GGUF_ERROR(one_tensor({16}, type).bytes(), "tensor 'w' type", "offset 45",
                      "unknown tensor type");
  }
}

TEST(MalformedGguf, BadDimCount) {
  for (uint32_t n : {0u, 5u, 1000u, 0xffffffffu}) {
    RawGguf g;
    g.header(1, 0).str("w").put<uint32_t>(n).zeros(64);
    EXPECT_GGUF_ERROR(g.bytes(), "tensor 'w' n_dims", "offset 33", "not in [1, 4]");
  }
}

TEST(MalformedGguf, BadDimensions) {
  EXPECT_GGUF_ERROR(one_tensor({16, 0}).bytes(), "tensor 'w' ne[1]", "offset 45", "not positive");
  EXPECT_GGUF_ERROR(one_tensor({-16}).bytes(), "tensor 'w' ne[0]", "not positive");
  EXPECT_GGUF_ERROR(one_tensor({std::numeric_limits<int64_t>::min()}).bytes(), "ne[0]",
                    "not positive");
  // Element count overflows int64.
  EXPECT_GGUF_ERROR(one_tensor({int64_t{1} << 32, int64_t{1} << 32}).bytes(), "tensor 'w' ne[1]",
                    "overflows int64");
  EXPECT_GGUF_ERROR(one_tensor({1, 1, int64_t{1} << 40, int64_t{1} << 40}).bytes(), "ne[3]",
                    "overflows int64");
  // Element count fits, byte size does not (4 bytes per F32 element).
  EXPECT_GGUF_ERROR(one_tensor({int64_t{1} << 62}).bytes(), "tensor 'w' type", "overflows");
  // Byte size fits but the data is nowhere near.
  EXPECT_GGUF_ERROR(one_tensor({int64_t{1} << 40}).bytes(), "tensor 'w'", "runs past the end");
  // Not a whole number of blocks.
  EXPECT_GGUF_ERROR(one_tensor({33}, kQ4_0).bytes(), "tensor 'w' ne[0]", "block size 32");
}

TEST(MalformedGguf, MisalignedOffset) {
  EXPECT_GGUF_ERROR(one_tensor({4}, kF32, 4).bytes(), "tensor 'w' offset", "offset 49",
                    "alignment 32");
}

TEST(MalformedGguf, TensorPastEnd) {
  // 16 F32 need 64 bytes; give 63.
  EXPECT_GGUF_ERROR(one_tensor({16}, kF32, 0, 63).bytes(), "tensor 'w'", "info at offset 24",
                    "runs past the end");
  // Offsets that would overflow an unchecked offset + size.
  for (uint64_t off : {k2p63, ~uint64_t{31}, uint64_t{64}}) {
    EXPECT_GGUF_ERROR(one_tensor({16}, kF32, off).bytes(), "tensor 'w'", "runs past the end");
  }
  // Tensor table ends exactly at the end of the file: no room for the padding or the data.
  RawGguf g;
  g.header(1, 0).tensor("w", {8}, kF32, 0);
  EXPECT_GGUF_ERROR(g.bytes(), "tensor 'w'", "runs past the end");
}

TEST(MalformedGguf, DuplicateTensorNames) {
  RawGguf g;
  g.header(2, 0).tensor("w", {8}, kF32, 0).tensor("w", {8}, kF32, 32).pad().zeros(64);
  EXPECT_GGUF_ERROR(g.bytes(), "tensor 'w'", "duplicate tensor name");
}

TEST(MalformedGguf, TruncatedTensorInfo) {
  RawGguf full;
  full.header(1, 0).tensor("w", {8, 2}, kF32, 0);
  const std::vector<uint8_t>& b = full.bytes();
  for (size_t n = 24; n < b.size(); ++n) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_GGUF_ERROR(cut, "tensor", "offset");
  }
}

}  // namespace
}  // namespace kestrel::io
