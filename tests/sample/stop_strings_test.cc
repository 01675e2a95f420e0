#include "sample/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kestrel::sample {
namespace {

struct Outcome {
  std::string text;  // everything emitted, flush included when not stopped
  bool stopped = false;
  int stop_index = -1;
};

// Feeds chunks in order, collecting what is emitted, as a streaming server would.
Outcome run(const std::vector<std::string>& stops, const std::vector<std::string>& chunks) {
  StopStringMatcher m(stops);
  Outcome o;
  for (const std::string& c : chunks) {
    const StopStringMatcher::Result r = m.feed(c);
    o.text += r.text;
    if (r.stopped && !o.stopped) {
      o.stopped = true;
      o.stop_index = r.stop_index;
    }
  }
  if (!o.stopped) o.text += m.flush();
  return o;
}

// Every way to cut text into pieces of 1..3 bytes (cyclically) gives the same outcome as one chunk.
void expect_chunking_invariant(const std::vector<std::string>& stops, const std::string& text) {
  const Outcome whole = run(stops, {text});
  for (size_t a = 1; a <= 3; ++a) {
    for (size_t b = 1; b <= 3; ++b) {
      std::vector<std::string> chunks;
      for (size_t i = 0, k = 0; i < text.size(); ++k) {
        const size_t len = k % 2 ? a : b;
        chunks.push_back(text.substr(i, len));
        i += len;
      }
      const Outcome o = run(stops, chunks);
      EXPECT_EQ(o.text, whole.text) << text << " cut " << a << "/" << b;
      EXPECT_EQ(o.stopped, whole.stopped) << text;
      EXPECT_EQ(o.stop_index, whole.stop_index) << text;
    }
  }
}

TEST(StopStrings, NoStopsPassesEverythingThrough) {
  StopStringMatcher m({});
  EXPECT_EQ(m.feed("hello ").text, "hello ");
  EXPECT_EQ(m.feed("world").text, "world");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.flush(), "");
  StopStringMatcher empty_only({""});
  EXPECT_EQ(empty_only.feed("abc").text, "abc");
}

TEST(StopStrings, HoldsBackAPossiblePrefixAndReleasesIt) {
  StopStringMatcher m({"</s>"});
  StopStringMatcher::Result r = m.feed("Hello <");
  EXPECT_EQ(r.text, "Hello ");
  EXPECT_FALSE(r.stopped);
  r = m.feed("/");
  EXPECT_EQ(r.text, "");
  r = m.feed("x> ok");  // "</x" is not a prefix: released
  EXPECT_EQ(r.text, "</x> ok");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, StopSplitAcrossChunks) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.feed("abc ST").text, "abc ");
  const StopStringMatcher::Result r = m.feed("OP and more");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(r.stop_index, 0);
  EXPECT_TRUE(m.stopped());
  EXPECT_TRUE(m.feed("later").stopped);
  EXPECT_EQ(m.feed("later").text, "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, StopAtTheVeryStart) {
  const Outcome o = run({"\n\n"}, {"\n\nHello"});
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "");
  expect_chunking_invariant({"\n\n"}, "\n\nHello");
}

TEST(StopStrings, TextAfterTheStopIsDiscarded) {
  const Outcome o = run({"User:"}, {"Sure. User: next", " question"});
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.text, "Sure. ");
}

TEST(StopStrings, OverlappingPrefixes) {
  // "aab" inside "aaab": the held-back "aa" must slide, not be dropped.
  expect_chunking_invariant({"aab"}, "xaaab");
  EXPECT_EQ(run({"aab"}, {"x", "a", "a", "a", "b", "y"}).text, "xa");
  // Two stops sharing a prefix; the first to complete wins.
  const Outcome o = run({"abcd", "bc"}, {"xab", "cd"});
  EXPECT_TRUE(o.stopped);
  EXPECT_EQ(o.stop_index, 1);
  EXPECT_EQ(o.text, "xa");
  expect_chunking_invariant({"abcd", "bc"}, "xabcd");
  // Two stops ending at the same byte: the longer one (earlier start) wins.
  const Outcome same_end = run({"cd", "bcd"}, {"abcde"});
  EXPECT_EQ(same_end.stop_index, 1);
  EXPECT_EQ(same_end.text, "a");
  expect_chunking_invariant({"cd", "bcd"}, "abcde");
  expect_chunking_invariant({"ab", "abab", "ba"}, "cabbaab");
  expect_chunking_invariant({"<|im_end|>", "<|endoftext|>"}, "Hi <|im <|im_end");
  expect_chunking_invariant({"<|im_end|>"}, "answer<|im_end|>tail");
}

TEST(StopStrings, FlushReturnsHeldBackTextAtTheEnd) {
  StopStringMatcher m({"###"});
  EXPECT_EQ(m.feed("done ##").text, "done ");
  EXPECT_EQ(m.flush(), "##");
  m.reset();
  EXPECT_EQ(m.feed("#").text, "");
  EXPECT_TRUE(m.feed("##").stopped);
  m.reset();
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.feed("x").text, "x");
}

TEST(StopStrings, NeverSplitsAUtf8CodePoint) {
  // The stop starts with the same lead byte as the emitted "é" (0xC3 0xA9 vs 0xC3 0xA0).
  StopStringMatcher m({"\xC3\xA0!"});
  EXPECT_EQ(m.feed("caf\xC3\xA9\xC3").text, "caf\xC3\xA9");
  EXPECT_EQ(m.feed("\xA0").text, "");
  EXPECT_TRUE(m.feed("!").stopped);
}

}  // namespace
}  // namespace kestrel::sample
