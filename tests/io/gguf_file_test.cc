// The reader on the real models, their truncations, and the typed getters.
#include "io/gguf/gguf_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gguf_test_util.h"
#include "io/gguf/gguf_writer.h"
#include "test_paths.h"

namespace kestrel::io {
namespace {

std::vector<uint8_t> read_prefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> b(n);
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n));
  b.resize(static_cast<size_t>(in.gcount()));
  return b;
}

void require_model(const std::string& path) {
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing (scripts/fetch_models.sh)";
}

// Every tensor view lies inside the file and matches the bytes on disk.
void check_views(const GgufFile& f, const std::string& path) {
  uint64_t end = 0;
  for (const GgufTensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.n_elements() * static_cast<int64_t>(tensor::traits(t.type).type_size) /
                  tensor::traits(t.type).block_size,
              static_cast<int64_t>(t.nbytes))
        << t.name;
    EXPECT_LE(f.data_offset() + t.offset + t.nbytes, f.file_size()) << t.name;
    end = std::max<uint64_t>(end, f.data_offset() + t.offset + t.nbytes);
  }
  EXPECT_EQ(end, f.file_size());
  const GgufTensorInfo& last = f.tensors().back();
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(f.data_offset() + last.offset));
  std::vector<char> disk(last.nbytes);
  in.read(disk.data(), static_cast<std::streamsize>(disk.size()));
  EXPECT_EQ(std::memcmp(disk.data(), last.data, last.nbytes), 0);
}

TEST(GgufRealModel, SmolLM2) {
  const std::string path = kestrel::testing::smollm2_path();
  require_model(path);
  if (IsSkipped()) return;
  auto f = GgufFile::open(path);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->tensors().size(), 272u);
  EXPECT_EQ(f->metadata().size(), 33u);
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_int("llama.block_count"), 30);
  EXPECT_EQ(f->get_int("llama.embedding_length"), 576);
  EXPECT_NEAR(f->get_float("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-9);
  const auto& tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 49152u);
  EXPECT_EQ(tokens[0], "<|endoftext|>");
  EXPECT_EQ(f->get_int_array("tokenizer.ggml.token_type").size(), 49152u);
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.merges").size(), 48900u);

  const GgufTensorInfo* embd = f->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, tensor::DType::Q8_0);
  EXPECT_EQ(embd->n_dims, 2);
  EXPECT_EQ(embd->ne[0], 576);
  EXPECT_EQ(embd->ne[1], 49152);
  EXPECT_EQ(embd->nbytes, 49152u * 576 / 32 * 34);
  const GgufTensorInfo* down = f->find_tensor("blk.0.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->type, tensor::DType::Q4_1);
  EXPECT_EQ(down->ne[0], 1536);
  EXPECT_EQ(down->ne[1], 576);
  EXPECT_EQ(f->find_tensor("no.such.tensor"), nullptr);
  check_views(*f, path);
}

TEST(GgufRealModel, Gemma3) {
  const std::string path = kestrel::testing::gemma3_path();
  require_model(path);
  if (IsSkipped()) return;
  auto f = GgufFile::open(path);
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->tensors().size(), 236u);
  EXPECT_EQ(f->get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f->get_int("gemma3.block_count"), 18);
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens").size(), 262144u);
  EXPECT_EQ(f->get_float_array("tokenizer.ggml.scores").size(), 262144u);
  const GgufTensorInfo* embd = f->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type, tensor::DType::Q8_0);
  EXPECT_EQ(embd->ne[0], 640);
  EXPECT_EQ(embd->ne[1], 262144);
  const GgufTensorInfo* norm = f->find_tensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, tensor::DType::F32);
  EXPECT_EQ(norm->n_dims, 1);
  EXPECT_EQ(norm->ne[0], 640);
  check_views(*f, path);
}

TEST(GgufRealModel, MissingFileNamesThePath) {
  try {
    GgufFile::open("/nonexistent/model.gguf");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}

TEST(GgufRealModel, ErrorsFromOpenNameThePath) {
  const std::string path = ::testing::TempDir() + "gguf_not_a_model.gguf";
  std::ofstream(path, std::ios::binary) << "not a gguf file at all";
  try {
    GgufFile::open(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": gguf: magic", 0), 0u) << e.what();
  }
  std::remove(path.c_str());
}

// Every prefix of a real file shorter than the whole must be refused: every offset in the first
// 4 KiB, a spread through the metadata (mostly the vocabulary) and the tensor table, and every
// offset around the start of the data section.
TEST(MalformedGgufTruncated, SmolLM2HeaderRegion) {
  const std::string path = kestrel::testing::smollm2_path();
  require_model(path);
  if (IsSkipped()) return;
  size_t data_offset = GgufFile::open(path)->data_offset();
  std::vector<uint8_t> head = read_prefix(path, data_offset + 64);
  ASSERT_EQ(head.size(), data_offset + 64);
  std::vector<size_t> cuts;
  for (size_t n = 0; n < 4096; ++n) cuts.push_back(n);
  // Cuts past the vocabulary each parse ~1.7 MB, so they are spread thinner (the test also runs
  // under AddressSanitizer).
  for (size_t k = 0; k < 100; ++k) cuts.push_back(4096 + k * (data_offset - 4096) / 100);
  const size_t table_bytes = 272 * 40;  // about 40 bytes per tensor info
  for (size_t k = 0; k < 150; ++k) {
    cuts.push_back(data_offset - table_bytes + k * table_bytes / 150);
  }
  for (size_t n = data_offset - 40; n < head.size(); ++n) cuts.push_back(n);
  for (size_t n : cuts) {
    try {
      GgufFile::parse(head.data(), n);
      ADD_FAILURE() << "prefix of " << n << " bytes parsed";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind("gguf: ", 0), 0u) << msg;
      EXPECT_NE(msg.find("offset"), std::string::npos) << msg;
    }
  }
}

TEST(GgufGetters, TypeConversions) {
  GgufWriter w;
  w.set_string("s", "hello");
  w.set_u32("u32", 7);
  w.set_i32("i32", -3);
  w.set_f32("f32", 0.5f);
  w.set_bool("b", true);
  GgufValue big;
  big.type = GgufType::kUint64;
  big.i = static_cast<int64_t>(~uint64_t{0});
  w.set("u64", big);
  GgufValue bools;
  bools.type = GgufType::kArray;
  bools.array_type = GgufType::kBool;
  bools.ints = {1, 0, 1};
  w.set("bools", bools);
  std::vector<uint8_t> bytes = w.serialize();
  auto f = GgufFile::parse(bytes.data(), bytes.size());

  EXPECT_EQ(f->get_string("s"), "hello");
  EXPECT_EQ(f->get_string_or("absent", "x"), "x");
  EXPECT_EQ(f->get_int("u32"), 7);
  EXPECT_EQ(f->get_int("i32"), -3);
  EXPECT_EQ(f->get_int_or("absent", 42), 42);
  EXPECT_EQ(f->get_float("f32"), 0.5);
  EXPECT_EQ(f->get_float_or("absent", 2.5), 2.5);
  EXPECT_TRUE(f->get_bool_or("b", false));
  EXPECT_TRUE(f->get_bool_or("absent", true));
  EXPECT_EQ(f->get_int_array("bools"), (std::vector<int64_t>{1, 0, 1}));

  EXPECT_THROW(f->get_string("absent"), Error);
  EXPECT_THROW(f->get_int("s"), Error);
  EXPECT_THROW(f->get_int("f32"), Error);
  EXPECT_THROW(f->get_int("u64"), Error);  // does not fit int64
  EXPECT_THROW(f->get_float("u32"), Error);
  EXPECT_THROW(f->get_bool_or("u32", false), Error);
  EXPECT_THROW(f->get_string_array("bools"), Error);
  EXPECT_THROW(f->get_float_array("bools"), Error);
  EXPECT_THROW(f->get_int_array("s"), Error);
  try {
    f->get_int("s");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "gguf: key 's' has type string, expected an integer");
  }
}

}  // namespace
}  // namespace kestrel::io
