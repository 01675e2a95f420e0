// kestrel quantize end to end on the real SmolLM2 file: the F16 base made from the shipped Q4_1
// weights, a recipe that Kestrel then runs, and every kind of bad input giving exit code 2 and no
// output file (neither OUT nor OUT.tmp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "kestrel_cli.h"

namespace kestrel {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args) { return testing::run_kestrel(args); }

class QuantizeCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("kestrel_quantize_cli_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static void expect_no_output(const std::string& out) {
    EXPECT_FALSE(fs::exists(out)) << out;
    EXPECT_FALSE(fs::exists(out + ".tmp")) << out;
  }
  static fs::path dir_;
};
fs::path QuantizeCli::dir_;

TEST_F(QuantizeCli, BaseThenRecipeThenRun) {
  if (!fs::exists(testing::smollm2_path())) GTEST_SKIP() << "model not fetched";
  const std::string base = path("base.f16.gguf");
  // The shipped file is Q4_1: making the F16 base is a requantization and needs the flag.
  EXPECT_EQ(run("quantize -q " + testing::smollm2_path() + " " + base + " f16"), 2);
  expect_no_output(base);
  ASSERT_EQ(run("quantize -q --allow-requantize " + testing::smollm2_path() + " " + base + " f16"), 0);
  ASSERT_TRUE(fs::exists(base));
  EXPECT_FALSE(fs::exists(base + ".tmp"));

  const std::string q = path("q4_0.gguf");
  ASSERT_EQ(run("quantize -q " + base + " " + q + " q4_0"), 0);
  EXPECT_LT(fs::file_size(q), fs::file_size(base) / 3);
  EXPECT_EQ(run("run -m " + q + " -p Hello -n 4 -t 2"), 0);

  // Rows of 576 elements do not fit Q4_K's 256-element super-blocks.
  const std::string k = path("q4_k.gguf");
  EXPECT_EQ(run("quantize -q " + base + " " + k + " q4_k"), 2);
  expect_no_output(k);
  // An already quantized input without --allow-requantize.
  const std::string r = path("requant.gguf");
  EXPECT_EQ(run("quantize -q " + q + " " + r + " q8_0"), 2);
  expect_no_output(r);
}

TEST_F(QuantizeCli, BadArgumentsExitWithTwoAndWriteNothing) {
  const std::string out = path("bad.gguf");
  EXPECT_EQ(run("quantize -q " + testing::smollm2_path() + " " + out + " q3_xyz"), 2);
  expect_no_output(out);
  EXPECT_EQ(run("quantize -q " + path("missing.gguf") + " " + out + " q8_0"), 2);
  expect_no_output(out);
  EXPECT_EQ(run("quantize -q " + testing::smollm2_path() + " " + out), 2);
  expect_no_output(out);
}

}  // namespace
}  // namespace kestrel
