// Whole-model speed of the CUDA decoder on one GPU, with the GPU's own ceilings measured in the same
// run (roofline.h):
//   prefill  one sequence of --prompt tokens in one batch (logits of the last token only):
//            tokens/s and matrix TFLOP/s against the measured BF16 cuBLAS rate;
//   decode   --batches B sequences of --context cached tokens each, then --steps steps of one
//            token per sequence (CUDA graphs unless --no-graphs): tokens/s, and at batch 1 the
//            weight bytes read per second against the measured copy rate (bytes read + written
//            per second: HBM bandwidth is shared by both directions, so that is the read ceiling).
// Token ids are arbitrary (every id below 1000): speed does not depend on them.
// Prints one JSON object per line.
//
// Usage: cuda_model_bench -m MODEL.gguf [--prompt 2048] [--context 128] [--steps 32]
//                          [--batches 1,8,32,128] [--no-graphs] [--gemm-min-rows N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "backend/cuda/device.h"
#include "bench/cuda/roofline.h"
#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "model/device/cuda_decoder_model.h"

namespace kestrel {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string model;
  int64_t prompt = 2048;
  int32_t context = 128;
  int steps = 32;
  std::vector<int64_t> batches = {1, 8, 32, 128};
  bool graphs = true;
  int64_t gemm_min_rows = 0;  // 0: the backend's default
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      KESTREL_CHECK(i + 1 < argc, a, " needs a value");
      return argv[++i];
    };
    if (a == "-m") {
      o.model = next();
    } else if (a == "--prompt") {
      o.prompt = std::stoll(next());
    } else if (a == "--context") {
      o.context = std::stoi(next());
    } else if (a == "--steps") {
      o.steps = std::stoi(next());
    } else if (a == "--batches") {
      o.batches.clear();
      std::stringstream ss(next());
      for (std::string item; std::getline(ss, item, ',');) o.batches.push_back(std::stoll(item));
    } else if (a == "--no-graphs") {
      o.graphs = false;
    } else if (a == "--gemm-min-rows") {
      o.gemm_min_rows = std::stoll(next());
    } else {
      fail("unknown argument ", a);
    }
  }
  KESTREL_CHECK(!o.model.empty(), "usage: cuda_model_bench -m MODEL.gguf [options]");
  return o;
}

// Bytes of the matrices one decode step reads (every layer matrix and the output matrix), and the
// multiply-adds per token of the layer matrices.
struct ModelCost {
  double step_bytes = 0;
  double layer_macs_per_token = 0;
  double output_macs = 0;
};

ModelCost model_cost(const io::GgufFile& f) {
  ModelCost c;
  const bool tied = f.find_tensor("output.weight") == nullptr;
  for (const io::GgufTensorInfo& t : f.tensors()) {
    if (t.n_dims != 2) continue;
    const bool layer = t.name.rfind("blk.", 0) == 0;
    const bool output = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
    if (layer) {
      c.step_bytes += static_cast<double>(t.nbytes);
      c.layer_macs_per_token += static_cast<double>(t.ne[0]) * t.ne[1];
    } else if (output) {
      c.step_bytes += static_cast<double>(t.nbytes);
      c.output_macs = static_cast<double>(t.ne[0]) * t.ne[1];
    }
  }
  return c;
}

// B sequences, each with its own run of blocks, laid out once; batches are built from them.
struct Sequences {
  int32_t block = 16;
  int32_t blocks_per_seq = 0;
  std::vector<std::vector<int32_t>> tables;
  std::vector<backend::SeqKvView> views;
  Sequences(int64_t n, int32_t max_len) {
    blocks_per_seq = (max_len + block - 1) / block;
    tables.resize(n);
    for (int64_t s = 0; s < n; ++s) {
      tables[s].resize(blocks_per_seq);
      std::iota(tables[s].begin(), tables[s].end(), static_cast<int32_t>(s * blocks_per_seq));
      views.push_back({tables[s].data(), blocks_per_seq});
    }
  }
  int64_t n_slots() const { return static_cast<int64_t>(tables.size()) * blocks_per_seq * block; }
  int32_t slot(int64_t s, int32_t pos) const { return tables[s][pos / block] * block + pos % block; }
};

// Runs `n` tokens: token i belongs to sequence seq[i] at position pos[i]; logits for `logit_rows`.
struct BatchBuilder {
  std::vector<int32_t> ids, pos, seq, slots, rows;
  model::BatchView view(const Sequences& s) {
    for (size_t i = 0; i < pos.size(); ++i) slots[i] = s.slot(seq[i], pos[i]);
    model::BatchView b;
    b.n_tokens = static_cast<int64_t>(ids.size());
    b.token_ids = ids.data();
    b.positions = pos.data();
    b.seq_of_token = seq.data();
    b.slots = slots.data();
    b.n_seqs = static_cast<int32_t>(s.views.size());
    b.seqs = s.views.data();
    b.block_size = s.block;
    b.n_logits = static_cast<int64_t>(rows.size());
    b.logit_rows = rows.data();
    return b;
  }
  void add(int32_t id, int32_t p, int32_t s) {
    ids.push_back(id);
    pos.push_back(p);
    seq.push_back(s);
    slots.push_back(0);
  }
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (backend::cuda::device_count() == 0) {
    std::fprintf(stderr, "cuda_model_bench: no CUDA device\n");
    return 2;
  }
  std::printf("{\"device\":\"%s\"}\n", backend::cuda::device_description().c_str());
  double copy_gbps = 0, bf16_tflops = 0;
  {
    cudaStream_t s;
    KESTREL_CUDA_CHECK(cudaStreamCreate(&s));
    copy_gbps = backend::cuda::probe_copy(s, size_t{1} << 30);
    bf16_tflops = backend::cuda::probe_gemm(s, 8192, CUDA_R_16BF, "bf16");
    cudaStreamDestroy(s);
  }
  const int64_t max_batch = std::max<int64_t>(
      o.prompt, *std::max_element(o.batches.begin(), o.batches.end()));
  model::CudaModelOptions mo;
  mo.max_batch = max_batch;
  mo.max_context = static_cast<int32_t>(std::max<int64_t>(o.prompt, o.context + o.steps) + 16);
  mo.use_graphs = o.graphs;
  auto m = model::load_cuda_model(o.model, mo);
  auto& cm = static_cast<model::CudaDecoderModel&>(*m);
  if (o.gemm_min_rows > 0) cm.ops().set_gemm_min_rows(o.gemm_min_rows);
  const model::HParams& hp = m->hparams();
  const ModelCost cost = model_cost(m->gguf());
  std::printf("{\"model\":\"%s\",\"step_weight_bytes\":%.0f,\"layer_macs_per_token\":%.0f,"
              "\"graphs\":%s,\"gemm_min_rows\":%lld}\n",
              o.model.c_str(), cost.step_bytes, cost.layer_macs_per_token,
              o.graphs ? "true" : "false", static_cast<long long>(cm.ops().gemm_min_rows()));
  std::vector<float> logits(static_cast<size_t>(max_batch) * hp.n_vocab);

  // Prefill: one sequence, the whole prompt in one batch, last token's logits.
  {
    Sequences seqs(1, static_cast<int32_t>(o.prompt));
    backend::KvStorage kv(1, seqs.n_slots(), hp.kv_row());  // shape only: the cache is on the GPU
    BatchBuilder bb;
    for (int32_t p = 0; p < o.prompt; ++p) bb.add(p % 1000, p, 0);
    bb.rows = {static_cast<int32_t>(o.prompt - 1)};
    const model::BatchView b = bb.view(seqs);
    m->forward(b, kv, logits.data());  // warm-up (and scratch growth)
    const int reps = 3;
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r) m->forward(b, kv, logits.data());
    const double s = seconds_since(t0) / reps;
    const double n = static_cast<double>(o.prompt);
    const double attn_macs =
        2.0 * hp.n_layer * hp.n_head * hp.head_dim * (n * (n + 1) / 2);  // q.k and p.v
    const double mat_tflops = 2.0 * (cost.layer_macs_per_token * n + cost.output_macs) / s / 1e12;
    std::printf("{\"bench\":\"prefill\",\"tokens\":%lld,\"seconds\":%.4f,\"tokens_per_s\":%.1f,"
                "\"matmul_TFLOPs\":%.1f,\"fraction_of_bf16\":%.3f,\"attention_TFLOPs\":%.1f}\n",
                static_cast<long long>(o.prompt), s, n / s, mat_tflops, mat_tflops / bf16_tflops,
                2.0 * attn_macs / s / 1e12);
  }

  // Decode at each batch size.
  for (int64_t batch : o.batches) {
    Sequences seqs(batch, o.context + o.steps);
    // Note: KvStorage allocates host memory of the same size; it is never written.
    backend::KvStorage kv(1, seqs.n_slots(), hp.kv_row());
    // Fill each sequence's context with prompt batches of up to max_batch tokens.
    {
      BatchBuilder bb;
      for (int64_t s = 0; s < batch; ++s) {
        for (int32_t p = 0; p < o.context; ++p) {
          bb.add(p % 1000, p, static_cast<int32_t>(s));
          if (static_cast<int64_t>(bb.ids.size()) == max_batch) {
            bb.rows = {0};
            m->forward(bb.view(seqs), kv, logits.data());
            bb = BatchBuilder{};
          }
        }
      }
      if (!bb.ids.empty()) {
        bb.rows = {0};
        m->forward(bb.view(seqs), kv, logits.data());
      }
    }
    auto step = [&](int32_t p) {
      BatchBuilder bb;
      for (int64_t s = 0; s < batch; ++s) bb.add(7, p, static_cast<int32_t>(s));
      bb.rows.resize(batch);
      std::iota(bb.rows.begin(), bb.rows.end(), 0);
      m->forward(bb.view(seqs), kv, logits.data());
    };
    step(o.context);  // warm-up: captures the graph
    const auto t0 = Clock::now();
    for (int i = 1; i < o.steps; ++i) step(o.context + i);
    const double s = seconds_since(t0) / (o.steps - 1);
    const double tps = static_cast<double>(batch) / s;
    const double weight_gbps = cost.step_bytes / s / 1e9;
    std::printf("{\"bench\":\"decode\",\"batch\":%lld,\"context\":%d,\"step_seconds\":%.6f,"
                "\"tokens_per_s\":%.1f,\"weight_GBps\":%.1f,\"fraction_of_copy\":%.3f}\n",
                static_cast<long long>(batch), o.context, s, tps, weight_gbps,
                weight_gbps / copy_gbps);
  }
  return 0;
}

}  // namespace
}  // namespace kestrel

int main(int argc, char** argv) {
  try {
    return kestrel::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_model_bench: %s\n", e.what());
    return 2;
  }
}
