// Bit-for-bit agreement with GGUF's reference through the golden files that
// tests/golden/quant/generate.py writes with gguf-py (see manifest.txt there):
//   quantize   our quantize_row of input.f32 gives the reference bytes, and our dequantize_row of
//              those bytes gives the reference floats exactly;
//   dequantize reference blocks (random bytes and rows of the test models) dequantize to the
//              reference floats exactly.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "quant/quant_test_util.h"
#include "quant/type_ops.h"
#include "test_paths.h"

namespace kestrel::quant {
namespace {

std::string golden_path(const std::string& name) {
  return kestrel::testing::golden_dir() + "/quant/" + name;
}

std::vector<unsigned char> read_bytes(const std::string& name) {
  std::ifstream f(golden_path(name), std::ios::binary);
  EXPECT_TRUE(f.good()) << "missing golden file " << name;
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<float> read_floats(const std::string& name) {
  const std::vector<unsigned char> b = read_bytes(name);
  std::vector<float> v(b.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
  return v;
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

struct Case {
  std::string kind, type, bytes_file, floats_file;
  int64_t n = 0;
};

std::vector<Case> read_manifest() {
  std::ifstream f(golden_path("manifest.txt"));
  std::vector<Case> cases;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    Case c;
    is >> c.kind >> c.type >> c.n >> c.bytes_file >> c.floats_file;
    cases.push_back(c);
  }
  return cases;
}

// Compares float bit patterns (so -0.0 != 0.0) and reports the first mismatch.
void expect_same_floats(const std::vector<float>& got, const std::vector<float>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(float_bits(got[i]), float_bits(want[i]))
        << what << " element " << i << ": got " << got[i] << " want " << want[i];
  }
}

TEST(GoldenTest, ManifestCoversEveryFormat) {
  const std::vector<Case> cases = read_manifest();
  ASSERT_GE(cases.size(), 17u) << "run tests/golden/quant/generate.py";
  std::vector<std::string> quantized, dequantized;
  for (const Case& c : cases) (c.kind == "quantize" ? quantized : dequantized).push_back(c.type);
  for (const char* t : {"f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q8_1", "q8_k"}) {
    EXPECT_NE(std::find(quantized.begin(), quantized.end(), t), quantized.end()) << t;
  }
  for (const char* t : {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_k", "q5_k", "q6_k"}) {
    EXPECT_NE(std::find(dequantized.begin(), dequantized.end(), t), dequantized.end()) << t;
  }
}

TEST(GoldenTest, MatchesReferenceBitForBit) {
  const std::vector<float> input = read_floats("input.f32");
  for (const Case& c : read_manifest()) {
    SCOPED_TRACE(c.kind + " " + c.type + " " + c.bytes_file);
    const tensor::DTypeTraits* t = tensor::find_dtype(c.type);
    ASSERT_NE(t, nullptr);
    const std::vector<unsigned char> ref_bytes = read_bytes(c.bytes_file);
    const std::vector<float> ref_floats = read_floats(c.floats_file);
    ASSERT_EQ(ref_bytes.size(), tensor::row_bytes(t->type, c.n));
    if (c.kind == "quantize") {
      ASSERT_EQ(static_cast<int64_t>(input.size()), c.n);
      const std::vector<unsigned char> ours = testing::quantize(t->type, input);
      for (size_t i = 0; i < ours.size(); ++i) {
        ASSERT_EQ(ours[i], ref_bytes[i]) << "byte " << i << " (block " << i / t->type_size
                                         << ", offset " << i % t->type_size << ")";
      }
    }
    // Dequantize from a misaligned copy as well as in place.
    expect_same_floats(testing::dequantize(t->type, ref_bytes.data(), c.n), ref_floats, "dequant");
    testing::OffsetBuffer shifted(ref_bytes.size(), 1);
    std::memcpy(shifted.data(), ref_bytes.data(), ref_bytes.size());
    expect_same_floats(testing::dequantize(t->type, shifted.data(), c.n), ref_floats,
                       "misaligned dequant");
  }
}

}  // namespace
}  // namespace kestrel::quant
