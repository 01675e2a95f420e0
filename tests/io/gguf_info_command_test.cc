// `kestrel info` on good and bad files (skipped when the kestrel binary is not built).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test_paths.h"

namespace {

int run(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void require_binary_and_model() {
  if (!std::filesystem::exists(kestrel::testing::kestrel_binary())) {
    GTEST_SKIP() << "kestrel binary not built";
  }
  if (!std::filesystem::exists(kestrel::testing::smollm2_path())) GTEST_SKIP() << "model missing";
}

TEST(GgufInfoCommand, PrintsTheModel) {
  require_binary_and_model();
  if (IsSkipped()) return;
  const std::string out = ::testing::TempDir() + "kestrel_info.txt";
  ASSERT_EQ(run(kestrel::testing::kestrel_binary() + " info '" + kestrel::testing::smollm2_path() +
                "' > '" + out + "'"),
            0);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("version:    3"), std::string::npos);
  EXPECT_NE(text.find("general.architecture"), std::string::npos);
  EXPECT_NE(text.find("[49152 strings: \"<|endoftext|>\""), std::string::npos);
  EXPECT_NE(text.find("token_embd.weight"), std::string::npos);
  EXPECT_NE(text.find("total: 272 tensors"), std::string::npos);
  std::remove(out.c_str());
}

TEST(GgufInfoCommand, TruncatedFileExitsWithCode2) {
  require_binary_and_model();
  if (IsSkipped()) return;
  const std::string cut = ::testing::TempDir() + "kestrel_info_truncated.gguf";
  {
    std::ifstream in(kestrel::testing::smollm2_path(), std::ios::binary);
    std::vector<char> head(3000);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream out(cut, std::ios::binary);
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
  }
  EXPECT_EQ(run(kestrel::testing::kestrel_binary() + " info '" + cut + "' 2>/dev/null"), 2);
  EXPECT_EQ(run(kestrel::testing::kestrel_binary() + " info /nonexistent.gguf 2>/dev/null"), 2);
  std::remove(cut.c_str());
}

}  // namespace
