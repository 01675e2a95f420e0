// kestrel distill on SmolLM2-135M with two layers removed: a few Adam steps with a fixed seed make
// the student closer to the teacher on held-out text (KL) and a better language model there
// (perplexity) than the same student before training; the student GGUF loads in Kestrel.
// Training text: Apache-2.0, evaluation text: GPL-3 (both Debian base-files), disjoint.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "io/gguf/gguf_file.h"
#include "model/model.h"
#include "test_paths.h"

namespace kestrel::prune {
namespace {

namespace fs = std::filesystem;

struct Eval {
  double kl = 0, ppl = 0;
};

Eval parse(const std::string& log, const std::string& when) {
  const std::regex re(when + " training: KL ([0-9.]+) nats, top-1 [0-9.]+%, perplexity ([0-9.]+)");
  std::smatch m;
  EXPECT_TRUE(std::regex_search(log, m, re)) << log;
  return m.empty() ? Eval{} : Eval{std::stod(m[1]), std::stod(m[2])};
}

TEST(DistillCommand, TrainedStudentBeatsUntrainedOnKlAndPerplexity) {
  const std::string teacher = kestrel::testing::smollm2_path();
  if (!fs::exists(teacher)) GTEST_SKIP() << "model not fetched";
  const fs::path dir = fs::path(::testing::TempDir()) / "kestrel_distill_test";
  fs::create_directories(dir);
  const std::string out = (dir / "student.gguf").string();
  const std::string log = (dir / "log.txt").string();
  const std::string cmd = kestrel::testing::kestrel_binary() + " distill -m " + teacher + " -o " +
                          out + " --layers 28 --data /usr/share/common-licenses/Apache-2.0" +
                          " --eval /usr/share/common-licenses/GPL-3 --eval-tokens 96" +
                          " --calib-tokens 64 --steps 4 --seq-len 32 --lr 1e-4 --seed 3 -t 2 2> " +
                          log;
  const int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << ss.str();
  const Eval before = parse(ss.str(), "before");
  const Eval after = parse(ss.str(), "after");
  EXPECT_LT(after.kl, before.kl);
  EXPECT_LT(after.ppl, before.ppl);
  EXPECT_NE(ss.str().find("4/4 loss"), std::string::npos);  // the progress line

  const auto f = io::GgufFile::open(out);
  EXPECT_EQ(f->get_int("llama.block_count"), 28);
  model::ModelOptions mo;
  mo.n_threads = 2;
  EXPECT_NO_THROW(model::Model::load(out, mo));
  fs::remove_all(dir);
}

TEST(DistillCommand, BadFlagsExitWithTwo) {
  const std::string bin = kestrel::testing::kestrel_binary();
  const std::string teacher = kestrel::testing::smollm2_path();
  auto rc = [](const std::string& c) {
    const int r = std::system((c + " 2>/dev/null").c_str());
    return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
  };
  const std::string base = bin + " distill -m " + teacher + " -o /nonexistent/s.gguf " +
                           "--data /usr/share/common-licenses/Apache-2.0 ";
  EXPECT_EQ(rc(base + "--steps 1"), 2);                    // no student size
  EXPECT_EQ(rc(base + "--layers 2 --lr -1"), 2);           // bad learning rate
  EXPECT_EQ(rc(base + "--layers 2 --temperature 0"), 2);   // bad temperature
  EXPECT_EQ(rc(base + "--layers 2 --resume"), 2);          // resume without a checkpoint dir
  EXPECT_EQ(rc(bin + " distill -m " + teacher + " -o x.gguf --layers 2 --data /nonexistent"), 2);
}

}  // namespace
}  // namespace kestrel::prune
