// kestrel distill: build a smaller student from a teacher (fewer layers and/or a narrower FFN,
// initialized by structured pruning on the training text), train it on the CPU to match the
// teacher's next-token distributions (KL loss with an optional temperature, Adam), and write it as
// GGUF. With --eval, the student is measured against the teacher (KL, top-1 agreement, perplexity)
// before and after training.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "commands.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "io/gguf/gguf_file.h"
#include "prune/prune.h"
#include "tokenizer/tokenizer.h"
#include "train/dense_model.h"
#include "train/loss.h"
#include "train/trainer.h"

namespace kestrel::app {
namespace {

struct DistillFlags {
  std::string teacher;
  std::string out;
  int32_t layers = 0;
  int32_t ffn = 0;
  std::string data;
  std::string eval;
  int64_t eval_tokens = 512;
  int64_t calib_tokens = 512;
  int64_t steps = 100;
  std::string checkpoint_dir;
  int64_t checkpoint_every = 50;
  bool resume = false;
  std::string type = "f16";
  int threads = 0;
  train::TrainOptions train;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KESTREL_CHECK(in.good(), "distill: cannot open '", path, "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void log_line(const std::string& s) { std::fprintf(stderr, "distill: %s\n", s.c_str()); }

// Teacher logits from the teacher's dequantized F32 weights through the same forward pass as the
// student; each call is a fresh sequence.
train::TeacherFn teacher_fn(const train::Config& cfg, const train::Params<float>& teacher,
                            ThreadPool* pool) {
  auto cache = std::make_shared<train::ForwardCache<float>>();
  return [&cfg, &teacher, pool, cache](const std::vector<int32_t>& tokens,
                                       std::vector<float>& logits) {
    logits.resize(tokens.size() * cfg.n_vocab);
    train::forward<float>(cfg, teacher, tokens.data(), static_cast<int64_t>(tokens.size()), pool,
                          *cache, logits.data());
  };
}

// KL to the teacher, top-1 agreement and perplexity over consecutive windows of the eval tokens.
train::EvalTotals evaluate(const train::Config& cfg, const train::Params<float>& params,
                           const train::TeacherFn& teacher, const std::vector<int32_t>& tokens,
                           int64_t window, ThreadPool* pool) {
  train::EvalTotals t;
  train::ForwardCache<float> cache;
  std::vector<float> s_logits, t_logits;
  for (size_t p0 = 0; p0 + 1 < tokens.size(); p0 += window) {
    const size_t n = std::min<size_t>(window, tokens.size() - p0);
    const std::vector<int32_t> w(tokens.begin() + p0, tokens.begin() + p0 + n);
    teacher(w, t_logits);
    s_logits.resize(n * cfg.n_vocab);
    train::forward<float>(cfg, params, w.data(), n, pool, cache, s_logits.data());
    for (size_t i = 0; i < n; ++i) {
      const int32_t next = p0 + i + 1 < tokens.size() ? tokens[p0 + i + 1] : -1;
      train::add_position(t, s_logits.data() + i * cfg.n_vocab, t_logits.data() + i * cfg.n_vocab,
                          cfg.n_vocab, next);
    }
  }
  return t;
}

std::string describe(const train::EvalTotals& t) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "KL %.4f nats, top-1 %.1f%%, perplexity %.3f (%lld positions)",
                t.kl(), 100.0 * t.top1(), t.perplexity(), static_cast<long long>(t.n));
  return buf;
}

void run_distill(DistillFlags& f) {
  KESTREL_CHECK(f.layers > 0 || f.ffn > 0, "distill: give the student's size: --layers N and/or --ffn F");
  KESTREL_CHECK(f.steps >= 0, "distill: --steps must be >= 0");
  KESTREL_CHECK(f.checkpoint_every > 0, "distill: --checkpoint-every must be > 0");
  KESTREL_CHECK(f.eval_tokens > 1, "distill: --eval-tokens must be > 1");
  KESTREL_CHECK(f.calib_tokens > 0, "distill: --calib-tokens must be > 0");
  KESTREL_CHECK(f.type == "f16" || f.type == "f32", "distill: --type must be f16 or f32");
  KESTREL_CHECK(!f.resume || !f.checkpoint_dir.empty(), "distill: --resume needs --checkpoint DIR");
  KESTREL_CHECK(f.out != f.teacher, "distill: the output must be another file than the teacher");
  KESTREL_CHECK(f.train.seq_len >= 2 && f.train.seq_len <= 4096, "distill: --seq-len must be 2..4096");
  KESTREL_CHECK(f.train.lr > 0 && f.train.temperature > 0, "distill: --lr and --temperature must be > 0");
  const std::string data_text = read_text(f.data);
  const std::string eval_text = f.eval.empty() ? std::string() : read_text(f.eval);

  const int n_threads = f.threads > 0 ? f.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(n_threads);
  std::unique_ptr<io::GgufFile> file = io::GgufFile::open(f.teacher);
  const train::Config tcfg = train::llama_config(*file);
  KESTREL_CHECK(f.layers <= tcfg.n_layer && f.ffn <= tcfg.n_ff, "distill: the student (",
                f.layers, " layers, FFN ", f.ffn, ") is not smaller than the teacher (",
                tcfg.n_layer, " layers, FFN ", tcfg.n_ff, ")");
  train::DenseModel m = train::DenseModel::from_gguf(*file);
  train::Config scfg = tcfg;
  // The student starts as the teacher pruned by the importance measured on the training text.
  prune::PruneOptions po;
  po.calib_path = f.data;
  po.calib_tokens = f.calib_tokens;
  po.threads = n_threads;
  if (f.layers > 0 && f.layers < tcfg.n_layer) {
    po.method = prune::Method::kLayers;
    po.remove = tcfg.n_layer - f.layers;
    prune::prune_model(*file, m, po, log_line);
    scfg.n_layer = f.layers;
  }
  if (f.ffn > 0 && f.ffn < tcfg.n_ff) {
    po.method = prune::Method::kFfn;
    po.remove = tcfg.n_ff - f.ffn;
    prune::prune_model(*file, m, po, log_line);
    scfg.n_ff = f.ffn;
  }
  train::Params<float> params = train::take_params(scfg, m);

  train::DenseModel tm = train::DenseModel::from_gguf(*file);
  const train::Params<float> teacher = train::take_params(tcfg, tm);
  const train::TeacherFn tfn = teacher_fn(tcfg, teacher, &pool);
  const std::unique_ptr<tokenizer::Tokenizer> tok = tokenizer::Tokenizer::from_gguf(*file);
  const std::vector<int32_t> data = tok->encode(data_text, false, false);
  std::vector<int32_t> eval_tokens;
  if (!eval_text.empty()) {
    eval_tokens = tok->encode(eval_text, true, false);
    if (static_cast<int64_t>(eval_tokens.size()) > f.eval_tokens) eval_tokens.resize(f.eval_tokens);
  }
  log_line("student: " + std::to_string(scfg.n_layer) + " layers, FFN " + std::to_string(scfg.n_ff) +
           " (teacher " + std::to_string(tcfg.n_layer) + ", " + std::to_string(tcfg.n_ff) + "); " +
           std::to_string(data.size()) + " training tokens");

  train::Trainer trainer(scfg, std::move(params), f.train, &pool);
  const std::string ckpt = f.checkpoint_dir.empty() ? std::string() : f.checkpoint_dir + "/checkpoint.gguf";
  if (!ckpt.empty()) std::filesystem::create_directories(f.checkpoint_dir);
  if (f.resume && std::filesystem::exists(ckpt)) {
    trainer.load_checkpoint(ckpt);
    log_line("resumed from " + ckpt + " at step " + std::to_string(trainer.steps_done()));
  }
  constexpr int64_t eval_window = 128;
  if (!eval_tokens.empty()) {
    log_line("before training: " + describe(evaluate(scfg, trainer.params(), tfn, eval_tokens, eval_window, &pool)));
  }
  // On a terminal the shared progress bar; into a log, a line every 10 steps.
  const bool tty = isatty(fileno(stderr)) != 0;
  ProgressBar bar("distill", std::max<int64_t>(1, f.steps));
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t first = trainer.steps_done();
  double avg = -1;
  while (trainer.steps_done() < f.steps) {
    const double loss = trainer.step(data, tfn);
    avg = avg < 0 ? loss : 0.9 * avg + 0.1 * loss;
    const int64_t s = trainer.steps_done();
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double per = el / static_cast<double>(s - first);
    char note[120];
    std::snprintf(note, sizeof note, "loss %.4f (avg %.4f) %.2f s/step", loss, avg, per);
    bar.update(s, note);
    if (!tty && (s == first + 1 || s % 10 == 0 || s == f.steps)) {
      std::fprintf(stderr, "distill %lld/%lld %s, ETA %.0f s\n", static_cast<long long>(s),
                   static_cast<long long>(f.steps), note, per * static_cast<double>(f.steps - s));
    }
    if (!ckpt.empty() && (s % f.checkpoint_every == 0 || s == f.steps)) trainer.save_checkpoint(ckpt);
  }
  bar.finish();
  if (!eval_tokens.empty()) {
    log_line("after training: " + describe(evaluate(scfg, trainer.params(), tfn, eval_tokens, eval_window, &pool)));
  }
  train::put_params(scfg, trainer.params(), m);
  m.write(f.out, f.type == "f16" ? tensor::DType::F16 : tensor::DType::F32);
  log_line("wrote " + f.out);
}

void add_distill_command(CLI::App& app) {
  auto f = std::make_shared<DistillFlags>();
  CLI::App* cmd = app.add_subcommand("distill", "Train a smaller student to match a teacher (KL)");
  cmd->add_option("-m,--model", f->teacher, "Teacher GGUF (llama family, any type)")->required();
  cmd->add_option("-o,--output", f->out, "Student GGUF to write")->required();
  cmd->add_option("--layers", f->layers, "Student layers (the least influential are removed)");
  cmd->add_option("--ffn", f->ffn, "Student FFN width (the least important channels are removed)");
  cmd->add_option("--data", f->data, "Training text file")->required();
  cmd->add_option("--eval", f->eval, "Evaluation text: KL/top-1/perplexity before and after");
  cmd->add_option("--eval-tokens", f->eval_tokens, "Evaluation tokens (default 512)");
  cmd->add_option("--calib-tokens", f->calib_tokens,
                  "Training-text tokens that rank layers/channels for the student (default 512)");
  cmd->add_option("--steps", f->steps, "Total optimizer steps (default 100)");
  cmd->add_option("--seq-len", f->train.seq_len, "Tokens per training window (default 64)");
  cmd->add_option("--lr", f->train.lr, "Adam learning rate (default 1e-4)");
  cmd->add_option("--temperature", f->train.temperature, "Softmax temperature of the KL loss (default 1)");
  cmd->add_option("--seed", f->train.seed, "Seed of the window order (default 1)");
  cmd->add_flag("--train-embeddings", f->train.train_embeddings,
                "Also train the token embedding / output matrix (frozen by default)");
  cmd->add_option("--checkpoint", f->checkpoint_dir, "Directory for checkpoint.gguf");
  cmd->add_option("--checkpoint-every", f->checkpoint_every, "Steps between checkpoints (default 50)");
  cmd->add_flag("--resume", f->resume, "Continue from the checkpoint in --checkpoint DIR if present");
  cmd->add_option("--type", f->type, "Output matrix type: f16 (default) or f32");
  cmd->add_option("-t,--threads", f->threads, "Threads (default: all)");
  cmd->callback([f] { run_distill(*f); });
}

}  // namespace

KESTREL_COMMAND("distill", add_distill_command);

}  // namespace kestrel::app
