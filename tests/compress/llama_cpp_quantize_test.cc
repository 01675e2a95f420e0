// Kestrel's quantization of the SmolLM2 F16 base against llama.cpp's, tensor by tensor: the same
// type and the same bytes (golden: tests/golden/quantize/smollm2.json, written by generate.py
// beside it with llama-cpp-python's llama_model_quantize).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "compress/quantize_model.h"
#include "io/gguf/gguf_file.h"
#include "test_paths.h"

namespace kestrel::compress {
namespace {

namespace fs = std::filesystem;

// generate.py's tensor_hash: sum_i w_i (2i + 1) mod 2^64 over little-endian u64 words
// (zero-padded), xor the byte count.
std::string tensor_hash(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 0;
  for (size_t i = 0; i * 8 < n; ++i) {
    uint64_t w = 0;
    std::memcpy(&w, p + i * 8, std::min<size_t>(8, n - i * 8));  // little-endian host
    h += w * (2 * static_cast<uint64_t>(i) + 1);
  }
  h ^= n;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

class LlamaCppQuantize : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(testing::smollm2_path())) return;
    dir_ = fs::temp_directory_path() / ("kestrel_llama_cpp_quantize_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    QuantizeOptions o;
    o.recipe = parse_recipe("f16");
    o.allow_requantize = true;
    o.progress = false;
    quantize_model(testing::smollm2_path(), base(), o);
    std::ifstream in(testing::golden_dir() + "/quantize/smollm2.json");
    golden_ = nlohmann::json::parse(in);
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  static std::string base() { return (dir_ / "base.f16.gguf").string(); }
  static fs::path dir_;
  static nlohmann::json golden_;
};
fs::path LlamaCppQuantize::dir_;
nlohmann::json LlamaCppQuantize::golden_;

TEST_P(LlamaCppQuantize, SameTypesAndBytesAsLlamaCpp) {
  if (dir_.empty()) GTEST_SKIP() << "model not fetched";
  const std::string name = GetParam();
  const nlohmann::json& want = golden_.at(name);
  const std::string out = (dir_ / (name + ".gguf")).string();
  QuantizeOptions o;
  o.recipe = parse_recipe(name);
  o.progress = false;
  quantize_model(base(), out, o);
  const auto file = io::GgufFile::open(out);
  ASSERT_EQ(file->tensors().size(), want.size());
  int mismatched = 0;
  for (const io::GgufTensorInfo& t : file->tensors()) {
    ASSERT_TRUE(want.contains(t.name)) << t.name;
    const auto& w = want.at(t.name);
    EXPECT_EQ(tensor::dtype_name(t.type), w[0].get<std::string>()) << name << " " << t.name;
    if (tensor_hash(t.data, t.nbytes) != w[1].get<std::string>()) {
      if (++mismatched <= 5) ADD_FAILURE() << name << " " << t.name << ": bytes differ";
    }
  }
  EXPECT_EQ(mismatched, 0);
}

INSTANTIATE_TEST_SUITE_P(Recipes, LlamaCppQuantize,
                         ::testing::Values("q8_0", "q4_0", "q5_1", "q4_k_m", "q5_k_s"));

}  // namespace
}  // namespace kestrel::compress
