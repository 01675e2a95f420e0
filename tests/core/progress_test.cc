#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace kestrel {
namespace {

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

TEST(ProgressBar, RenderShowsFractionPercentAndNote) {
  EXPECT_EQ(ProgressBar::render("ppl", 5, 10, 10, 1.25, "7.91"),
            "ppl [#####-----] 5/10  50%    1.2s  7.91");
  EXPECT_EQ(ProgressBar::render("q", 0, 3, 6, 0, ""), "q [------] 0/3   0%    0.0s");
  EXPECT_EQ(ProgressBar::render("q", 3, 3, 6, 0, ""), "q [######] 3/3 100%    0.0s");
}

TEST(ProgressBar, RenderClampsOutOfRangeCounts) {
  EXPECT_EQ(ProgressBar::render("x", 12, 10, 4, 0, ""), "x [####] 10/10 100%    0.0s");
  EXPECT_EQ(ProgressBar::render("x", -1, 10, 4, 0, ""), "x [----] 0/10   0%    0.0s");
  EXPECT_EQ(ProgressBar::render("x", 0, 0, 4, 0, ""), "x [----] 0/1   0%    0.0s");
}

TEST(ProgressBar, SilentWhenTheStreamIsNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("job", 4, f);
    EXPECT_FALSE(bar.enabled());
    for (int i = 1; i <= 4; ++i) bar.update(i);
  }
  EXPECT_EQ(read_all(f), "");
  std::fclose(f);
}

TEST(ProgressBar, ForcedBarDrawsTheFinalStateAndEndsTheLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("job", 4, f, /*force=*/true);
    for (int i = 1; i <= 4; ++i) bar.update(i, "t" + std::to_string(i));
    bar.finish();
    bar.finish();  // idempotent
  }
  const std::string out = read_all(f);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);  // one line, redrawn with carriage returns
  EXPECT_NE(out.rfind("4/4 100%"), std::string::npos);
  EXPECT_NE(out.rfind("t4"), std::string::npos);
  std::fclose(f);
}

}  // namespace
}  // namespace kestrel
