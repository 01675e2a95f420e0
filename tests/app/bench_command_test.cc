// `kestrel bench`: the JSON report's shape on a tiny run, and exit code 2 for bad flags (skipped
// when the kestrel binary or the model is missing). No timing is asserted beyond "positive".
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "test_paths.h"

namespace {

int run(const std::string& cmd) {
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string bench_cmd(const std::string& flags) {
  return kestrel::testing::kestrel_binary() + " bench -m '" + kestrel::testing::smollm2_path() +
         "' " + flags;
}

#define REQUIRE_BINARY_AND_MODEL()                                                      \
  do {                                                                                  \
    if (!std::filesystem::exists(kestrel::testing::kestrel_binary()))                   \
      GTEST_SKIP() << "kestrel binary not built";                                       \
    if (!std::filesystem::exists(kestrel::testing::smollm2_path()))                     \
      GTEST_SKIP() << "model missing";                                                  \
  } while (0)

TEST(BenchCommand, JsonReportHasOneObjectPerTest) {
  REQUIRE_BINARY_AND_MODEL();
  const std::string out = ::testing::TempDir() + "kestrel_bench.json";
  ASSERT_EQ(run(bench_cmd("-p 4 -n 2 -t 1,2 -r 2 -d 0,4 --no-warmup -o json > '" + out + "'")),
            0);
  std::ifstream in(out);
  const nlohmann::json j = nlohmann::json::parse(in);
  std::remove(out.c_str());
  // 2 thread counts x 2 depths x (pp4, tg2), in that nesting order.
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 8u);
  int i = 0;
  for (int threads : {1, 2}) {
    for (int depth : {0, 4}) {
      for (const char* test : {"pp4", "tg2"}) {
        const nlohmann::json& r = j[i++];
        SCOPED_TRACE(r.dump());
        EXPECT_EQ(r.at("model").get<std::string>(), kestrel::testing::smollm2_path());
        EXPECT_EQ(r.at("n_threads").get<int>(), threads);
        EXPECT_EQ(r.at("test").get<std::string>(), test);
        EXPECT_EQ(r.at("depth").get<int>(), depth);
        EXPECT_EQ(r.at("n_prompt").get<int>(), test[0] == 'p' ? 4 : 0);
        EXPECT_EQ(r.at("n_gen").get<int>(), test[0] == 't' ? 2 : 0);
        EXPECT_EQ(r.at("model_n_params").get<int64_t>(), 134515008);
        ASSERT_EQ(r.at("samples_ts").size(), 2u);
        const double a = r.at("samples_ts")[0].get<double>();
        const double b = r.at("samples_ts")[1].get<double>();
        EXPECT_GT(a, 0.0);
        EXPECT_GT(b, 0.0);
        EXPECT_NEAR(r.at("avg_ts").get<double>(), (a + b) / 2, 1e-9 * (a + b));
        // Sample standard deviation of two values: |a - b| / sqrt(2).
        EXPECT_NEAR(r.at("stddev_ts").get<double>(), std::abs(a - b) / std::sqrt(2.0),
                    1e-9 * (a + b));
      }
    }
  }
}

// --parallel S: S sequences decode together, and tokens/s counts all of their tokens.
TEST(BenchCommand, ParallelDecodeCountsEverySequencesTokens) {
  REQUIRE_BINARY_AND_MODEL();
  const std::string out = ::testing::TempDir() + "kestrel_bench_parallel.json";
  ASSERT_EQ(run(bench_cmd("-p 0 -n 3 -t 1 -r 1 -d 2 --parallel 1,3 --no-warmup -o json > '" +
                          out + "'")),
            0);
  std::ifstream in(out);
  const nlohmann::json j = nlohmann::json::parse(in);
  std::remove(out.c_str());
  ASSERT_EQ(j.size(), 2u);
  int i = 0;
  for (int seqs : {1, 3}) {
    const nlohmann::json& r = j[i++];
    SCOPED_TRACE(r.dump());
    EXPECT_EQ(r.at("test").get<std::string>(), seqs == 1 ? "tg3" : "tg3 x3");
    EXPECT_EQ(r.at("n_parallel").get<int>(), seqs);
    EXPECT_EQ(r.at("depth").get<int>(), 2);
    const double seconds = r.at("avg_ns").get<double>() * 1e-9;
    EXPECT_NEAR(r.at("avg_ts").get<double>(), 3.0 * seqs / seconds, 1e-6 * 3 * seqs / seconds);
  }
}

TEST(BenchCommand, MarkdownTableNamesTheTests) {
  REQUIRE_BINARY_AND_MODEL();
  const std::string out = ::testing::TempDir() + "kestrel_bench.md";
  ASSERT_EQ(run(bench_cmd("-p 4 -n 1 -t 1 -r 1 -d 2 > '" + out + "'")), 0);
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(out.c_str());
  EXPECT_EQ(text.rfind("| model |", 0), 0u) << text;
  EXPECT_NE(text.find("| pp4 @ d2 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| tg1 @ d2 |"), std::string::npos) << text;
}

TEST(BenchCommand, BadFlagsExitWithCode2) {
  REQUIRE_BINARY_AND_MODEL();
  const std::string quiet = " > /dev/null 2>&1";
  EXPECT_EQ(run(bench_cmd("-p 4 -n 1 -o xml" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p 4 -n 1 -r 0" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p -1 -n 1" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p 4 -n 1 -t 0" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p 4 -n 1 -d -3" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p 0 -n 0" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p 0 -n 1 --parallel 0" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("-p 4,x" + quiet)), 2);
  EXPECT_EQ(run(bench_cmd("--no-such-flag" + quiet)), 2);
  EXPECT_EQ(run(kestrel::testing::kestrel_binary() + " bench -m /nonexistent.gguf -p 4" + quiet),
            2);
  EXPECT_EQ(run(kestrel::testing::kestrel_binary() + " bench -p 4" + quiet), 2);  // no -m
}

}  // namespace
