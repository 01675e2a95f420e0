// The engine loop with a fake forward (tests/engine/fake_model.h): continuous batching, chunked
// prefill, prefix caching, preemption and cancellation, each checked against a cache-free
// reference generation and against the KV bookkeeping.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"
#include "fake_model.h"

namespace kestrel::engine {
namespace {

using testing::FakeModel;

std::vector<int32_t> prompt_of(int32_t seed, int32_t n) {
  std::vector<int32_t> p;
  for (int32_t i = 0; i < n; ++i) p.push_back(1 + (seed * 31 + i * 7) % (FakeModel::kVocab - 1));
  return p;
}

GenerationRequest greedy(std::vector<int32_t> prompt, int32_t max_tokens, uint64_t salt = 0) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.max_tokens = max_tokens;
  r.cache_salt = salt;
  return r;
}

struct Collector {
  std::map<SeqId, std::vector<int32_t>> tokens;
  std::map<SeqId, FinishReason> finish;
  TokenCallback callback() {
    return [this](SeqId s, int32_t t, FinishReason f) {
      if (t >= 0) tokens[s].push_back(t);
      if (f != FinishReason::kNone) finish[s] = f;
    };
  }
};

EngineOptions small_options() {
  EngineOptions o;
  o.n_ctx = 256;
  o.n_seq_max = 8;
  o.block_size = 4;
  o.token_budget = 64;
  o.max_running = 16;
  return o;
}

TEST(Engine, ManySequencesMatchTheReference) {
  FakeModel model;
  Engine engine(model, small_options());
  Collector c;
  std::map<SeqId, std::vector<int32_t>> prompts;
  for (int32_t i = 0; i < 12; ++i) {
    auto p = prompt_of(i, 5 + i * 9);  // 5 .. 104 tokens: some prompts span several steps
    prompts[engine.add(greedy(p, 20), c.callback())] = p;
  }
  engine.run_until_idle();
  for (const auto& [id, p] : prompts) {
    EXPECT_EQ(c.tokens[id], FakeModel::reference(p, 20)) << "sequence " << id;
    EXPECT_EQ(c.finish[id], FinishReason::kLength);
  }
  EXPECT_EQ(model.kv_mismatches, 0);
  EXPECT_LE(model.max_tokens_per_call, 64);
  EXPECT_EQ(engine.kv().usage().used_blocks, 0);
  EXPECT_EQ(engine.kv().n_seqs(), 0);
}

TEST(Engine, StopsAtEndOfGeneration) {
  FakeModel model;
  model.eos_every = 5;
  Engine engine(model, small_options());
  Collector c;
  std::map<SeqId, std::vector<int32_t>> prompts;
  for (int32_t i = 0; i < 6; ++i) {
    auto p = prompt_of(i, 10);
    prompts[engine.add(greedy(p, 40), c.callback())] = p;
  }
  engine.run_until_idle();
  int stopped = 0;
  for (const auto& [id, p] : prompts) {
    const auto ref = FakeModel::reference(p, 40, 5);
    EXPECT_EQ(c.tokens[id], ref);
    const bool eos = !ref.empty() && ref.back() == FakeModel::kEos;
    EXPECT_EQ(c.finish[id], eos ? FinishReason::kStop : FinishReason::kLength);
    stopped += eos;
  }
  EXPECT_GT(stopped, 0);  // the hash gives some eos within 40 tokens
}

TEST(Engine, DecodesRunInEveryStepBesideAChunkedPrompt) {
  FakeModel model;
  EngineOptions o = small_options();
  o.token_budget = 16;
  Engine engine(model, o);
  Collector c;
  const SeqId a = engine.add(greedy(prompt_of(1, 4), 30), c.callback());
  engine.step();  // a's prompt, first token
  ASSERT_EQ(c.tokens[a].size(), 1u);
  engine.add(greedy(prompt_of(2, 100), 5), c.callback());  // needs 7 steps of 15 prompt tokens
  for (int i = 0; i < 6; ++i) {
    engine.step();
    EXPECT_EQ(c.tokens[a].size(), 2u + i) << "a decodes one token per step while b prefills";
  }
  EXPECT_LE(model.max_tokens_per_call, 16);
}

TEST(Engine, MaxRunningLimitsAdmission) {
  FakeModel model;
  EngineOptions o = small_options();
  o.max_running = 3;
  Engine engine(model, o);
  Collector c;
  for (int32_t i = 0; i < 7; ++i) engine.add(greedy(prompt_of(i, 6), 10), c.callback());
  engine.step();
  EXPECT_EQ(engine.n_running(), 3);
  EXPECT_EQ(engine.n_waiting(), 4);
  engine.run_until_idle();
  EXPECT_EQ(c.finish.size(), 7u);
}

TEST(Engine, PrefixCacheReusesBlocksAndGivesTheSameTokens) {
  FakeModel model;
  Engine engine(model, small_options());
  Collector c;
  auto shared = prompt_of(3, 40);
  auto p1 = shared, p2 = shared;
  p1.push_back(7);
  p2.push_back(9);
  const SeqId a = engine.add(greedy(p1, 8), c.callback());
  engine.run_until_idle();
  const int64_t before = model.tokens_computed;
  const SeqId b = engine.add(greedy(p2, 8), c.callback());
  engine.run_until_idle();
  EXPECT_EQ(c.tokens[a], FakeModel::reference(p1, 8));
  EXPECT_EQ(c.tokens[b], FakeModel::reference(p2, 8));
  // 40 shared tokens = 10 full blocks of 4 came from the cache: b computed its last prompt token
  // plus 7 decode tokens.
  EXPECT_EQ(model.tokens_computed - before, 1 + 7);
  EXPECT_EQ(engine.kv().prefix_hit_tokens(), 40);
  EXPECT_EQ(engine.scheduler().stats().cached_tokens, 40);
  EXPECT_EQ(model.kv_mismatches, 0);
}

TEST(Engine, PrefixCacheIsIsolatedBySalt) {
  FakeModel model;
  Engine engine(model, small_options());
  Collector c;
  auto p = prompt_of(4, 33);
  engine.add(greedy(p, 4, /*salt=*/1), c.callback());
  engine.run_until_idle();
  const int64_t before = model.tokens_computed;
  const SeqId other = engine.add(greedy(p, 4, /*salt=*/2), c.callback());
  engine.run_until_idle();
  EXPECT_EQ(model.tokens_computed - before, 33 + 3);  // nothing reused across tenants
  EXPECT_EQ(c.tokens[other], FakeModel::reference(p, 4));
  const SeqId same = engine.add(greedy(p, 4, /*salt=*/1), c.callback());
  const int64_t before_same = model.tokens_computed;
  engine.run_until_idle();
  EXPECT_EQ(model.tokens_computed - before_same, 1 + 3);  // 32 of 33 tokens from salt 1's blocks
  EXPECT_EQ(c.tokens[same], FakeModel::reference(p, 4));
}

TEST(Engine, IdenticalPromptsAtOnceAreCorrect) {
  // Both compute the same blocks in the same step; only one copy gets registered.
  FakeModel model;
  Engine engine(model, small_options());
  Collector c;
  auto p = prompt_of(5, 30);
  const SeqId a = engine.add(greedy(p, 12), c.callback());
  const SeqId b = engine.add(greedy(p, 12), c.callback());
  engine.run_until_idle();
  EXPECT_EQ(c.tokens[a], FakeModel::reference(p, 12));
  EXPECT_EQ(c.tokens[b], c.tokens[a]);
}

TEST(Engine, PreemptionByRecomputeKeepsOutputsExact) {
  FakeModel model;
  EngineOptions o = small_options();
  o.n_ctx = 64;
  o.n_blocks = 24;  // 96 token slots for 6 sequences growing to 60 tokens each
  o.token_budget = 32;
  Engine engine(model, o);
  Collector c;
  std::map<SeqId, std::vector<int32_t>> prompts;
  for (int32_t i = 0; i < 6; ++i) {
    auto p = prompt_of(10 + i, 10);
    prompts[engine.add(greedy(p, 50), c.callback())] = p;
  }
  engine.run_until_idle();
  EXPECT_GT(engine.scheduler().stats().preemptions, 0);
  for (const auto& [id, p] : prompts) {
    EXPECT_EQ(c.tokens[id], FakeModel::reference(p, 50)) << "sequence " << id;
    EXPECT_EQ(c.finish[id], FinishReason::kLength);
  }
  EXPECT_EQ(model.kv_mismatches, 0);
  EXPECT_EQ(engine.kv().usage().used_blocks, 0);
}

TEST(Engine, EvictedPrefixIsRecomputed) {
  FakeModel model;
  EngineOptions o = small_options();
  o.n_ctx = 64;
  o.n_blocks = 16;
  Engine engine(model, o);
  Collector c;
  auto pa = prompt_of(20, 41);
  engine.add(greedy(pa, 2), c.callback());
  engine.run_until_idle();
  EXPECT_EQ(engine.kv().pool().n_cached_idle(), 10);
  // Other prompts fill every block, evicting a's cached blocks (least recently used first).
  for (int32_t i = 0; i < 3; ++i) engine.add(greedy(prompt_of(30 + i, 60), 1), c.callback());
  engine.run_until_idle();
  EXPECT_GT(engine.kv().pool().evictions(), 0);
  const int64_t before = model.tokens_computed;
  const SeqId again = engine.add(greedy(pa, 2), c.callback());
  engine.run_until_idle();
  EXPECT_GT(model.tokens_computed - before, 2);  // some of the prefix had to be recomputed
  EXPECT_EQ(c.tokens[again], FakeModel::reference(pa, 2));
  EXPECT_EQ(model.kv_mismatches, 0);
}

TEST(Engine, CancelFreesTheSequence) {
  FakeModel model;
  Engine engine(model, small_options());
  Collector c;
  const SeqId a = engine.add(greedy(prompt_of(1, 9), 100), c.callback());
  const SeqId b = engine.add(greedy(prompt_of(2, 9), 5), c.callback());
  engine.step();
  engine.step();
  engine.cancel(a);
  engine.run_until_idle();
  EXPECT_EQ(c.finish[a], FinishReason::kAborted);
  EXPECT_EQ(c.tokens[a].size(), 2u);
  EXPECT_EQ(c.finish[b], FinishReason::kLength);
  EXPECT_EQ(engine.kv().usage().used_blocks, 0);
  EXPECT_TRUE(engine.idle());
}

TEST(Engine, CancelWhileWaiting) {
  FakeModel model;
  EngineOptions o = small_options();
  o.max_running = 1;
  Engine engine(model, o);
  Collector c;
  engine.add(greedy(prompt_of(1, 9), 3), c.callback());
  const SeqId w = engine.add(greedy(prompt_of(2, 9), 3), c.callback());
  engine.step();
  EXPECT_EQ(engine.n_waiting(), 1);
  engine.cancel(w);
  engine.run_until_idle();
  EXPECT_EQ(c.finish[w], FinishReason::kAborted);
  EXPECT_TRUE(c.tokens[w].empty());
}

TEST(Engine, LogprobsAreLogSoftmaxOfTheLogits) {
  FakeModel model;
  Engine engine(model, small_options());
  auto p = prompt_of(6, 7);
  GenerationRequest r = greedy(p, 3);
  r.logprobs = 2;
  std::vector<TokenLogprobs> got;
  engine.add(std::move(r), [&](const TokenEvent& e) {
    ASSERT_NE(e.logprobs, nullptr);
    got.push_back(*e.logprobs);
  });
  engine.run_until_idle();
  ASSERT_EQ(got.size(), 3u);
  // One-hot logits of 10 over 200 tokens: log p = 10 - log(e^10 + 199), others - that.
  const double log_z = std::log(std::exp(10.0) + 199.0);
  const auto ref = FakeModel::reference(p, 3);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].logprob, 10.0 - log_z, 1e-4);
    ASSERT_EQ(got[i].top.size(), 2u);
    EXPECT_EQ(got[i].top[0].first, ref[i]);
    EXPECT_NEAR(got[i].top[1].second, -log_z, 1e-4);
  }
}

// Prompt log-probabilities: each prompt token p + 1 scored under the logits after token p, over
// several steps (the prompt spans more rows than one step keeps), computed in full even when the
// prefix cache holds the prompt, delivered once on the first event; max_tokens 0 generates
// nothing.
TEST(Engine, PromptLogprobsScoreEveryPromptToken) {
  FakeModel model;
  Engine engine(model, small_options());
  const auto p = prompt_of(3, 150);
  // Warm the prefix cache with the same prompt first.
  Collector warm;
  engine.add(greedy(p, 1), warm.callback());
  engine.run_until_idle();
  const int64_t computed_before = model.tokens_computed;

  const double log_z = std::log(std::exp(10.0) + FakeModel::kVocab - 1);
  for (int32_t max_tokens : {0, 3}) {
    GenerationRequest r = greedy(p, max_tokens);
    r.prompt_logprobs = 1;
    std::vector<TokenLogprobs> scored;
    int events = 0, with_prompt = 0, generated = 0;
    FinishReason finish = FinishReason::kNone;
    engine.add(std::move(r), [&](const TokenEvent& e) {
      ++events;
      if (e.prompt_logprobs != nullptr) {
        ++with_prompt;
        scored = *e.prompt_logprobs;
      }
      if (e.token >= 0) ++generated;
      finish = e.finish;
    });
    engine.run_until_idle();
    EXPECT_EQ(with_prompt, 1);
    EXPECT_EQ(generated, max_tokens);
    EXPECT_EQ(finish, FinishReason::kLength);
    ASSERT_EQ(scored.size(), p.size() - 1);
    for (size_t i = 0; i + 1 < p.size(); ++i) {
      const std::vector<int32_t> ctx(p.begin(), p.begin() + i + 1);
      const int32_t expected = FakeModel::next_token(ctx);
      EXPECT_NEAR(scored[i].logprob, p[i + 1] == expected ? 10.0 - log_z : -log_z, 1e-4) << i;
      ASSERT_EQ(scored[i].top.size(), 1u);
      EXPECT_EQ(scored[i].top[0].first, expected) << i;
    }
  }
  // Both scored prompts were computed in full despite the cached blocks.
  EXPECT_GE(model.tokens_computed - computed_before, 2 * static_cast<int64_t>(p.size()));
  EXPECT_EQ(model.kv_mismatches, 0);
}

TEST(Engine, RejectsBadRequests) {
  FakeModel model;
  Engine engine(model, small_options());
  Collector c;
  EXPECT_THROW(engine.add(greedy({}, 3), c.callback()), Error);
  EXPECT_THROW(engine.add(greedy(prompt_of(1, 256), 3), c.callback()), Error);
  EXPECT_THROW(engine.add(greedy({FakeModel::kVocab}, 3), c.callback()), Error);
  EngineOptions o = small_options();
  o.n_blocks = 10;  // < 256 / 4
  EXPECT_THROW(Engine(model, o), Error);
}

}  // namespace
}  // namespace kestrel::engine
