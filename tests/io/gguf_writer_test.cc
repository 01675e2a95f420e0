// GgufWriter: write -> read gives back the same metadata and tensor bytes.
#include "io/gguf/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "gguf_test_util.h"
#include "test_paths.h"

namespace kestrel::io {
namespace {

GgufValue number(GgufType t, int64_t i, double f = 0) {
  GgufValue v;
  v.type = t;
  v.i = i;
  v.f = f;
  return v;
}

GgufValue array(GgufType elem) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.array_type = elem;
  return v;
}

void expect_same(const GgufValue& a, const GgufValue& b, const std::string& key) {
  SCOPED_TRACE(key);
  ASSERT_EQ(a.type, b.type);
  if (a.type == GgufType::kString) {
    EXPECT_EQ(a.str, b.str);
  }
  if (a.type == GgufType::kFloat32 || a.type == GgufType::kFloat64) {
    EXPECT_EQ(a.f, b.f);
  }
  if (a.type != GgufType::kArray) {
    EXPECT_EQ(a.i, b.i);
    return;
  }
  ASSERT_EQ(a.array_type, b.array_type);
  EXPECT_EQ(a.array_size(), b.array_size());
  EXPECT_EQ(a.strs, b.strs);
  EXPECT_EQ(a.ints, b.ints);
  EXPECT_EQ(a.floats, b.floats);
}

// A writer holding every scalar type, arrays of every element type, and three tensors.
struct Sample {
  GgufWriter writer{64};
  std::vector<std::pair<std::string, GgufValue>> values;
  std::vector<float> f32 = std::vector<float>(8 * 3);
  std::vector<uint8_t> q4 = std::vector<uint8_t>(2 * 18);
  std::vector<uint16_t> f16 = std::vector<uint16_t>(5);

  Sample() {
    values = {
        {"t.u8", number(GgufType::kUint8, 250)},
        {"t.i8", number(GgufType::kInt8, -120)},
        {"t.u16", number(GgufType::kUint16, 65000)},
        {"t.i16", number(GgufType::kInt16, -32000)},
        {"t.u32", number(GgufType::kUint32, 4000000000)},
        {"t.i32", number(GgufType::kInt32, -2000000000)},
        {"t.f32", number(GgufType::kFloat32, 0, 1.25)},
        {"t.bool", number(GgufType::kBool, 1)},
        {"t.u64", number(GgufType::kUint64, int64_t{1} << 62)},
        {"t.i64", number(GgufType::kInt64, -(int64_t{1} << 62))},
        {"t.f64", number(GgufType::kFloat64, 0, 3.141592653589793)},
    };
    GgufValue s;
    s.type = GgufType::kString;
    s.str = std::string("with \0 nul and utf-8 \xc3\xa9", 24);
    values.push_back({"t.string", s});
    GgufValue empty_str;
    empty_str.type = GgufType::kString;
    values.push_back({"t.empty_string", empty_str});

    GgufValue strs = array(GgufType::kString);
    strs.strs = {"<|endoftext|>", "", "a b", std::string(300, 'x')};
    values.push_back({"a.strings", strs});
    GgufValue i32s = array(GgufType::kInt32);
    i32s.ints = {0, -1, 2147483647, -2147483647 - 1};
    values.push_back({"a.i32", i32s});
    GgufValue u8s = array(GgufType::kUint8);
    u8s.ints = {0, 1, 255};
    values.push_back({"a.u8", u8s});
    GgufValue i64s = array(GgufType::kInt64);
    i64s.ints = {int64_t{1} << 40, -5};
    values.push_back({"a.i64", i64s});
    GgufValue bools = array(GgufType::kBool);
    bools.ints = {1, 0};
    values.push_back({"a.bool", bools});
    GgufValue f32s = array(GgufType::kFloat32);
    f32s.floats = {0.0, -1.5, 1e-6f, 65504.0};
    values.push_back({"a.f32", f32s});
    GgufValue f64s = array(GgufType::kFloat64);
    f64s.floats = {1e-300, -2.5};
    values.push_back({"a.f64", f64s});
    values.push_back({"a.empty", array(GgufType::kUint32)});

    for (const auto& [key, value] : values) writer.set(key, value);
    std::mt19937 rng(7);
    for (float& x : f32) x = static_cast<float>(rng()) / 1e6f;
    for (uint8_t& x : q4) x = static_cast<uint8_t>(rng());
    for (uint16_t& x : f16) x = static_cast<uint16_t>(rng());
    const int64_t ne_f32[2] = {8, 3};
    const int64_t ne_q4[1] = {64};
    const int64_t ne_f16[4] = {1, 1, 5, 1};
    writer.add_tensor("f32.weight", tensor::DType::F32, 2, ne_f32, f32.data(), 4 * f32.size());
    writer.add_tensor("q4.weight", tensor::DType::Q4_0, 1, ne_q4, q4.data(), q4.size());
    writer.add_tensor("f16.weight", tensor::DType::F16, 4, ne_f16, f16.data(), 2 * f16.size());
  }

  void check(const GgufFile& f) const {
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    EXPECT_EQ(f.get_int("general.alignment"), 64);
    for (const auto& [key, value] : values) {
      const GgufValue* got = f.find(key);
      ASSERT_NE(got, nullptr) << key;
      expect_same(value, *got, key);
    }
    ASSERT_EQ(f.tensors().size(), 3u);
    const GgufTensorInfo* t = f.find_tensor("f32.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->n_dims, 2);
    EXPECT_EQ(t->ne[1], 3);
    EXPECT_EQ(std::memcmp(t->data, f32.data(), 4 * f32.size()), 0);
    t = f.find_tensor("q4.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, tensor::DType::Q4_0);
    EXPECT_EQ(t->offset % 64, 0u);
    EXPECT_EQ(std::memcmp(t->data, q4.data(), q4.size()), 0);
    t = f.find_tensor("f16.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->n_dims, 4);
    EXPECT_EQ(t->ne[2], 5);
    EXPECT_EQ(std::memcmp(t->data, f16.data(), 2 * f16.size()), 0);
  }
};

TEST(GgufRoundTrip, AllValueTypesInMemory) {
  Sample s;
  std::vector<uint8_t> bytes = s.writer.serialize();
  EXPECT_EQ(bytes.size() % 64, 0u);
  s.check(*GgufFile::parse(bytes.data(), bytes.size()));
}

TEST(GgufRoundTrip, AllValueTypesThroughAFile) {
  Sample s;
  const std::string path = ::testing::TempDir() + "gguf_round_trip.gguf";
  s.writer.write(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto f = GgufFile::open(path);
  s.check(*f);
  std::vector<uint8_t> bytes = s.writer.serialize();
  EXPECT_EQ(f->file_size(), bytes.size());
  std::remove(path.c_str());
}

TEST(GgufRoundTrip, SetReplacesAndKeepsOrder) {
  GgufWriter w;
  w.set_u32("a", 1);
  w.set_string("b", "x");
  w.set_u32("a", 2);
  std::vector<uint8_t> bytes = w.serialize();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].key, "a");
  EXPECT_EQ(f->get_int("a"), 2);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->find("general.alignment"), nullptr);  // the default is not written
}

TEST(GgufRoundTrip, RealModelMetadataAndTensors) {
  const std::string path = kestrel::testing::smollm2_path();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing";
  auto src = GgufFile::open(path);
  GgufWriter w;
  w.copy_metadata(*src);
  for (const char* name : {"blk.0.attn_norm.weight", "blk.0.ffn_down.weight"}) {
    const GgufTensorInfo* t = src->find_tensor(name);
    ASSERT_NE(t, nullptr);
    w.add_tensor(t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes);
  }
  std::vector<uint8_t> bytes = w.serialize();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  ASSERT_EQ(f->metadata().size(), src->metadata().size());
  for (size_t k = 0; k < src->metadata().size(); ++k) {
    EXPECT_EQ(f->metadata()[k].key, src->metadata()[k].key);
    expect_same(src->metadata()[k].value, f->metadata()[k].value, src->metadata()[k].key);
  }
  ASSERT_EQ(f->tensors().size(), 2u);
  for (const GgufTensorInfo& t : f->tensors()) {
    const GgufTensorInfo* orig = src->find_tensor(t.name);
    ASSERT_EQ(t.nbytes, orig->nbytes);
    EXPECT_EQ(std::memcmp(t.data, orig->data, t.nbytes), 0) << t.name;
  }
}

TEST(GgufWriterErrors, RefusesBadInput) {
  GgufWriter w;
  float data[64] = {};
  const int64_t ne[2] = {16, 4};
  EXPECT_THROW(w.add_tensor("w", tensor::DType::F32, 0, ne, data, 64), Error);
  EXPECT_THROW(w.add_tensor("w", tensor::DType::F32, 2, ne, data, 100), Error);  // wrong size
  EXPECT_THROW(w.add_tensor("w", tensor::DType::Q4_0, 1, ne, data, 18), Error);  // 16 % 32
  const int64_t bad[1] = {0};
  EXPECT_THROW(w.add_tensor("w", tensor::DType::F32, 1, bad, data, 0), Error);
  w.add_tensor("w", tensor::DType::F32, 2, ne, data, sizeof(data));
  EXPECT_THROW(w.add_tensor("w", tensor::DType::F32, 2, ne, data, sizeof(data)), Error);

  GgufWriter nested;
  GgufValue v = array(GgufType::kArray);
  nested.set("n", v);
  EXPECT_THROW(nested.serialize(), Error);
  EXPECT_THROW(GgufWriter(48).serialize(), Error);
  EXPECT_THROW(GgufWriter(0).serialize(), Error);
}

TEST(GgufWriterErrors, FailedWriteLeavesNoFile) {
  GgufWriter w;
  w.set_u32("a", 1);
  const std::string path = ::testing::TempDir() + "no_such_dir/out.gguf";
  EXPECT_THROW(w.write(path), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

}  // namespace
}  // namespace kestrel::io
