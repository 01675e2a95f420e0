#include "train/trainer.h"

#include <cmath>
#include <memory>

#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "io/gguf/gguf_writer.h"
#include "train/loss.h"

namespace kestrel::train {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Trainer::Trainer(const Config& cfg, Params<float> params, const TrainOptions& opts,
                 ThreadPool* pool)
    : cfg_(cfg), params_(std::move(params)), opts_(opts), pool_(pool) {
  KESTREL_CHECK(opts.seq_len >= 2, "distill: sequence length must be at least 2");
  KESTREL_CHECK(opts.lr > 0, "distill: learning rate must be positive");
  KESTREL_CHECK(opts.temperature > 0, "distill: temperature must be positive");
  grads_ = zero_params<float>(cfg);
  m_ = zero_params<float>(cfg);
  v_ = zero_params<float>(cfg);
  // Frozen tensors need neither gradients nor moments.
  for (Params<float>* p : {&grads_, &m_, &v_}) {
    for_each_tensor<float>(cfg_, *p, [&](const TensorRef& r, std::vector<float>& t) {
      if (!trainable(r)) std::vector<float>().swap(t);
    });
  }
}

int64_t Trainer::window_start(int64_t s, int64_t n) const {
  const int64_t span = n - opts_.seq_len;
  KESTREL_CHECK(span >= 0, "distill: the training text has ", n, " tokens, fewer than a window of ",
                opts_.seq_len);
  return static_cast<int64_t>(splitmix64(opts_.seed * 0x100000001b3ULL + static_cast<uint64_t>(s)) %
                              static_cast<uint64_t>(span + 1));
}

double Trainer::step(const std::vector<int32_t>& data, const TeacherFn& teacher) {
  const int64_t n = opts_.seq_len;
  const int64_t start = window_start(step_, static_cast<int64_t>(data.size()));
  const std::vector<int32_t> window(data.begin() + start, data.begin() + start + n);
  std::vector<float> t_logits;
  teacher(window, t_logits);
  KESTREL_CHECK(static_cast<int64_t>(t_logits.size()) == n * cfg_.n_vocab,
                "distill: teacher logits of the wrong size");
  std::vector<float> logits(n * cfg_.n_vocab), dlogits(logits.size());
  forward<float>(cfg_, params_, window.data(), n, pool_, cache_, logits.data());
  const double loss = kl_loss<float>(logits.data(), t_logits.data(), n, cfg_.n_vocab,
                                     opts_.temperature, dlogits.data());
  for_each_tensor<float>(cfg_, grads_, [](const TensorRef&, std::vector<float>& g) {
    std::fill(g.begin(), g.end(), 0.0f);
  });
  backward<float>(cfg_, params_, cache_, dlogits.data(), pool_, opts_.train_embeddings, grads_);
  ++step_;
  // Adam with bias correction.
  const double bc1 = 1.0 - std::pow(opts_.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(opts_.beta2, static_cast<double>(step_));
  const float lr_t = static_cast<float>(opts_.lr * std::sqrt(bc2) / bc1);
  const float b1 = static_cast<float>(opts_.beta1), b2 = static_cast<float>(opts_.beta2);
  const float eps = static_cast<float>(opts_.adam_eps * std::sqrt(bc2));
  std::vector<std::vector<float>*> gs, ms, vs;
  for_each_tensor<float>(cfg_, grads_, [&](const TensorRef&, std::vector<float>& t) { gs.push_back(&t); });
  for_each_tensor<float>(cfg_, m_, [&](const TensorRef&, std::vector<float>& t) { ms.push_back(&t); });
  for_each_tensor<float>(cfg_, v_, [&](const TensorRef&, std::vector<float>& t) { vs.push_back(&t); });
  size_t i = 0;
  for_each_tensor<float>(cfg_, params_, [&](const TensorRef& r, std::vector<float>& w) {
    std::vector<float>& g = *gs[i];
    std::vector<float>& m = *ms[i];
    std::vector<float>& v = *vs[i];
    ++i;
    if (!trainable(r)) return;
    for (size_t j = 0; j < w.size(); ++j) {
      m[j] = b1 * m[j] + (1 - b1) * g[j];
      v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
      w[j] -= lr_t * m[j] / (std::sqrt(v[j]) + eps);
    }
  });
  return loss;
}

void Trainer::save_checkpoint(const std::string& path) const {
  io::GgufWriter w;
  w.set_string("general.architecture", "kestrel-distill-checkpoint");
  w.set_u32("distill.step", static_cast<uint32_t>(step_));
  w.set_u32("distill.n_layer", static_cast<uint32_t>(cfg_.n_layer));
  w.set_u32("distill.n_ff", static_cast<uint32_t>(cfg_.n_ff));
  auto add = [&](const char* prefix, const Params<float>& p) {
    for_each_tensor<float>(cfg_, const_cast<Params<float>&>(p),
                           [&](const TensorRef& r, std::vector<float>& t) {
                             // Frozen tensors come from the teacher again on resume.
                             if (!trainable(r)) return;
                             w.add_tensor(prefix + r.name, tensor::DType::F32, r.n_dims, r.ne,
                                          t.data(), t.size() * sizeof(float));
                           });
  };
  add("param.", params_);
  add("adam_m.", m_);
  add("adam_v.", v_);
  w.write(path);
}

void Trainer::load_checkpoint(const std::string& path) {
  const std::unique_ptr<io::GgufFile> f = io::GgufFile::open(path);
  KESTREL_CHECK(f->get_string_or("general.architecture", "") == "kestrel-distill-checkpoint",
                path, ": not a distillation checkpoint");
  KESTREL_CHECK(f->get_int("distill.n_layer") == cfg_.n_layer && f->get_int("distill.n_ff") == cfg_.n_ff,
                path, ": checkpoint of another student shape (", f->get_int("distill.n_layer"),
                " layers, FFN ", f->get_int("distill.n_ff"), ")");
  auto load = [&](const char* prefix, Params<float>& p) {
    for_each_tensor<float>(cfg_, p, [&](const TensorRef& r, std::vector<float>& t) {
      if (!trainable(r)) return;
      const io::GgufTensorInfo* ti = f->find_tensor(prefix + r.name);
      KESTREL_CHECK(ti != nullptr && ti->type == tensor::DType::F32 &&
                        ti->n_elements() == static_cast<int64_t>(t.size()),
                    path, ": checkpoint lacks or misshapes '", prefix, r.name, "'");
      const auto* src = static_cast<const float*>(ti->data);
      std::copy(src, src + t.size(), t.begin());
    });
  };
  load("param.", params_);
  load("adam_m.", m_);
  load("adam_v.", v_);
  step_ = f->get_int("distill.step");
}

}  // namespace kestrel::train
