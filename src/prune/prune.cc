#include "prune/prune.h"

#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/thread_pool.h"
#include "io/gguf/gguf_file.h"
#include "model/arch/registry.h"
#include "model/hparams.h"
#include "prune/calibration.h"
#include "prune/structured.h"
#include "prune/unstructured.h"
#include "tokenizer/tokenizer.h"
#include "train/dense_model.h"

namespace kestrel::prune {
namespace {

struct MethodName {
  Method method;
  const char* name;
};
constexpr MethodName kMethods[] = {
    {Method::kMagnitude, "magnitude"}, {Method::kWanda, "wanda"}, {Method::kSemi24, "2:4"},
    {Method::kFfn, "ffn"},             {Method::kHeads, "heads"}, {Method::kLayers, "layers"},
};

// The linear layers unstructured pruning touches, with the calibration input each one reads.
struct Linear {
  const char* name;
  std::vector<double> LayerStats::*input;
};
constexpr Linear kLinears[] = {
    {"attn_q.weight", &LayerStats::attn_in},   {"attn_k.weight", &LayerStats::attn_in},
    {"attn_v.weight", &LayerStats::attn_in},   {"attn_output.weight", &LayerStats::wo_in},
    {"ffn_gate.weight", &LayerStats::ffn_in},  {"ffn_up.weight", &LayerStats::ffn_in},
    {"ffn_down.weight", &LayerStats::down_in},
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KESTREL_CHECK(in.good(), path, ": cannot open calibration text");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every method that ranks by importance measures it on calibration text. (Weight norms alone are
// a poor proxy: SmolLM2's FFN has low-norm channels that carry its massive activations, and removing
// 128 of 1536 channels by weight norm leaves a model that no longer predicts anything.)
bool needs_calibration(Method m) { return m != Method::kMagnitude && m != Method::kSemi24; }

// Number of units to remove out of n: the count, or round(fraction * n).
int64_t removal_count(const PruneOptions& o, int64_t n, const char* unit) {
  const int64_t k = o.remove >= 0 ? o.remove : std::llround(o.sparsity * static_cast<double>(n));
  KESTREL_CHECK(k < n, "prune: removing ", k, " of ", n, " ", unit, " would leave none");
  return k;
}

}  // namespace

Method parse_method(const std::string& name) {
  for (const MethodName& m : kMethods) {
    if (name == m.name) return m.method;
  }
  fail("prune: unknown method '", name, "' (magnitude, wanda, 2:4, ffn, heads, layers)");
}

const char* method_name(Method m) {
  for (const MethodName& e : kMethods) {
    if (e.method == m) return e.name;
  }
  return "?";
}

bool is_structured(Method m) {
  return m == Method::kFfn || m == Method::kHeads || m == Method::kLayers;
}

void validate(const PruneOptions& o) {
  KESTREL_CHECK(o.out_type == tensor::DType::F32 || o.out_type == tensor::DType::F16,
                "prune: output type must be f32 or f16");
  KESTREL_CHECK(o.calib_tokens > 0 && o.calib_chunk > 0, "prune: calibration sizes must be > 0");
  if (needs_calibration(o.method)) {
    KESTREL_CHECK(!o.calib_path.empty(), "prune: --method ", method_name(o.method),
                  " needs calibration text (--calib FILE)");
  }
  if (o.method == Method::kSemi24) {
    KESTREL_CHECK(o.sparsity < 0 || o.sparsity == 0.5, "prune: 2:4 has sparsity 0.5, not ",
                  o.sparsity);
    KESTREL_CHECK(o.remove < 0, "prune: --remove is for structured methods");
    return;
  }
  if (!is_structured(o.method)) {
    KESTREL_CHECK(o.remove < 0, "prune: --remove is for structured methods (ffn, heads, layers)");
    KESTREL_CHECK(o.sparsity >= 0 && o.sparsity <= 1, "prune: --sparsity must lie in 0..1, not ",
                  o.sparsity);
    return;
  }
  KESTREL_CHECK((o.sparsity >= 0) != (o.remove >= 0),
                "prune: give exactly one of --sparsity (a fraction) and --remove (a count)");
  if (o.sparsity >= 0) {
    KESTREL_CHECK(o.sparsity < 1, "prune: --sparsity must lie in 0..1 (below 1), not ", o.sparsity);
  }
}

void prune_file(const std::string& in, const std::string& out, const PruneOptions& o,
                const std::function<void(const std::string&)>& log) {
  // The CLI gives -1 for an unset sparsity; anything else outside 0..1 is an error.
  KESTREL_CHECK(o.sparsity == -1 || (o.sparsity >= 0 && o.sparsity <= 1),
                "prune: --sparsity must lie in 0..1, not ", o.sparsity);
  validate(o);
  std::unique_ptr<io::GgufFile> file = io::GgufFile::open(in);
  train::DenseModel m = train::DenseModel::from_gguf(*file);
  log("loaded " + in + ", dequantized");
  prune_model(*file, m, o, log);
  m.write(out, o.out_type);
  log("wrote " + out);
}

void prune_model(const io::GgufFile& f, train::DenseModel& m, const PruneOptions& o,
                 const std::function<void(const std::string&)>& log) {
  validate(o);
  const io::GgufFile* file = &f;
  const std::string arch = file->get_string_or("general.architecture", "");
  const model::ArchSpec* spec = model::find_arch(arch);
  KESTREL_CHECK(spec != nullptr, "prune: unsupported architecture '", arch, "'");
  model::HParams hp = model::read_common_hparams(*file, arch);
  spec->read_hparams(*file, hp);
  // The dense model may already be pruned (distillation prunes layers, then FFN channels): its
  // own metadata has the current shape.
  hp.n_layer = static_cast<int32_t>(m.get_int(arch + ".block_count"));
  hp.n_ff = static_cast<int32_t>(m.get_int(arch + ".feed_forward_length"));
  hp.n_head = static_cast<int32_t>(m.get_int(arch + ".attention.head_count"));
  KESTREL_CHECK(!(o.method == Method::kLayers && arch == "gemma3"),
                "prune: gemma3 fixes its sliding-window pattern by layer index, so removing layers "
                "would change which layers attend globally; use ffn or heads");

  // Counts are checked before the (slow) calibration pass.
  int64_t k_units = 0;  // FFN channels or layers removed
  int64_t r_heads = 0;  // query heads removed from each KV group
  const int64_t group = hp.n_head / hp.n_head_kv;
  if (o.method == Method::kFfn) k_units = removal_count(o, hp.n_ff, "FFN channels");
  if (o.method == Method::kLayers) k_units = removal_count(o, hp.n_layer, "layers");
  if (o.method == Method::kHeads) {
    if (o.remove >= 0) {
      KESTREL_CHECK(o.remove % hp.n_head_kv == 0, "prune: --remove ", o.remove,
                    " heads must be a multiple of the ", hp.n_head_kv,
                    " KV groups (each group loses the same number of query heads)");
      r_heads = o.remove / hp.n_head_kv;
    } else {
      r_heads = std::llround(o.sparsity * static_cast<double>(group));
    }
    KESTREL_CHECK(r_heads < group, "prune: removing ", r_heads, " of the ", group,
                  " query heads of each KV group would leave none");
  }
  ThreadPool pool(o.threads > 0 ? o.threads
                                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  CalibStats stats;
  const bool calibrated = !o.calib_path.empty();
  if (calibrated) {
    train::Config cfg = train::llama_config(*file);
    cfg.n_layer = hp.n_layer;
    cfg.n_ff = hp.n_ff;
    cfg.n_head = hp.n_head;
    const std::unique_ptr<tokenizer::Tokenizer> tok = tokenizer::Tokenizer::from_gguf(*file);
    std::vector<int32_t> tokens = tok->encode(read_text(o.calib_path), true, false);
    if (static_cast<int64_t>(tokens.size()) > o.calib_tokens) tokens.resize(o.calib_tokens);
    train::Params<float> params = train::take_params(cfg, m);
    stats = collect_stats(cfg, params, tokens, o.calib_chunk, o.method == Method::kHeads, &pool);
    train::put_params(cfg, params, m);
    log("calibration: " + std::to_string(stats.n_tokens) + " tokens of " + o.calib_path);
  }
  auto blk = [](int il, const char* name) { return "blk." + std::to_string(il) + "." + name; };
  const std::string p = arch + ".";
  switch (o.method) {
    case Method::kMagnitude:
    case Method::kWanda:
    case Method::kSemi24: {
      int64_t zeros = 0, total = 0;
      for (int il = 0; il < hp.n_layer; ++il) {
        for (const Linear& lin : kLinears) {
          train::DenseTensor& t = m.get(blk(il, lin.name));
          const std::vector<double> none;
          const std::vector<double>& in_sq = calibrated ? stats.layers[il].*lin.input : none;
          if (o.method == Method::kMagnitude) prune_magnitude(t.data, t.rows(), t.ne[0], o.sparsity);
          if (o.method == Method::kWanda) prune_wanda(t.data, t.rows(), t.ne[0], o.sparsity, in_sq);
          if (o.method == Method::kSemi24) prune_2_4(t.data, t.rows(), t.ne[0], in_sq);
          for (float v : t.data) zeros += v == 0.0f;
          total += static_cast<int64_t>(t.data.size());
        }
      }
      log("zeroed weights in the block matrices: " + std::to_string(zeros) + " of " +
          std::to_string(total));
      break;
    }
    case Method::kFfn: {
      const int64_t k = k_units;
      for (int il = 0; il < hp.n_layer; ++il) {
        slice_ffn(m, il, keep_top(stats.layers[il].ffn_channel, hp.n_ff - k));
      }
      m.set_u32(p + "feed_forward_length", static_cast<uint32_t>(hp.n_ff - k));
      log("removed " + std::to_string(k) + " of " + std::to_string(hp.n_ff) +
          " FFN channels in every layer");
      break;
    }
    case Method::kHeads: {
      const int64_t r = r_heads;
      for (int il = 0; il < hp.n_layer; ++il) {
        const std::vector<double>& score = stats.layers[il].head;
        std::vector<int64_t> keep;
        for (int64_t g = 0; g < hp.n_head_kv; ++g) {
          const std::vector<double> sub(score.begin() + g * group, score.begin() + (g + 1) * group);
          for (int64_t h : keep_top(sub, group - r)) keep.push_back(g * group + h);
        }
        slice_heads(m, il, keep, hp.head_dim);
      }
      const int64_t n_head = hp.n_head_kv * (group - r);
      m.set_u32(p + "attention.head_count", static_cast<uint32_t>(n_head));
      // The head size no longer follows from n_embd / n_head: state it.
      m.set_u32(p + "attention.key_length", static_cast<uint32_t>(hp.head_dim));
      m.set_u32(p + "attention.value_length", static_cast<uint32_t>(hp.head_dim));
      log("removed " + std::to_string(hp.n_head - n_head) + " of " + std::to_string(hp.n_head) +
          " query heads in every layer");
      break;
    }
    case Method::kLayers: {
      const int64_t k = k_units;
      std::vector<double> bi(hp.n_layer);
      for (int il = 0; il < hp.n_layer; ++il) bi[il] = stats.layers[il].block_influence;
      std::vector<int> keep;
      std::string removed;
      const std::vector<int64_t> kept = keep_top(bi, hp.n_layer - k);
      for (int il = 0; il < hp.n_layer; ++il) {
        if (std::find(kept.begin(), kept.end(), il) != kept.end()) {
          keep.push_back(il);
        } else {
          if (!removed.empty()) removed += ',';
          removed += std::to_string(il);
        }
      }
      keep_layers(m, keep);
      m.set_u32(p + "block_count", static_cast<uint32_t>(keep.size()));
      log("removed layers " + (removed.empty() ? std::string("(none)") : removed));
      break;
    }
  }
}

}  // namespace kestrel::prune
