// Writes a seed corpus for fuzz_gguf into OUT_DIR: a few small synthetic GGUF files covering every
// value type and several tensor types, plus, for each MODEL given, a miniature of it (its metadata
// with arrays cut to a few elements and its three smallest tensors).
//   usage: gguf_seed_gen OUT_DIR [MODEL...]
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "io/gguf/gguf_writer.h"

namespace {

using kestrel::io::GgufFile;
using kestrel::io::GgufTensorInfo;
using kestrel::io::GgufType;
using kestrel::io::GgufValue;
using kestrel::io::GgufWriter;
using kestrel::tensor::DType;

constexpr size_t kMaxArray = 6;

void write_synthetic(const std::string& dir) {
  static std::vector<uint8_t> data(4096, 0x5a);
  for (uint64_t alignment : {32u, 8u, 64u}) {
    GgufWriter w(alignment);
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.block_count", 2);
    w.set_i32("t.i32", -7);
    w.set_f32("t.f32", 1e-5f);
    w.set_bool("t.bool", true);
    for (uint32_t raw = 0; raw <= 12; ++raw) {
      if (raw == 8 || raw == 9) continue;
      GgufValue v;
      v.type = static_cast<GgufType>(raw);
      v.i = 1;
      v.f = 0.5;
      w.set("scalar." + std::to_string(raw), v);
      GgufValue a;
      a.type = GgufType::kArray;
      a.array_type = v.type;
      if (raw == 6 || raw == 12) {
        a.floats = {0.25, -1};
      } else {
        a.ints = {0, 1};
      }
      w.set("array." + std::to_string(raw), a);
    }
    GgufValue strs;
    strs.type = GgufType::kArray;
    strs.array_type = GgufType::kString;
    strs.strs = {"<s>", "</s>", "hello"};
    w.set("tokenizer.ggml.tokens", strs);
    const int64_t ne_f32[2] = {4, 2};
    const int64_t ne_q[1] = {32};
    const int64_t ne_k[3] = {256, 1, 1};
    w.add_tensor("a.weight", DType::F32, 2, ne_f32, data.data(), 32);
    w.add_tensor("b.weight", DType::Q4_0, 1, ne_q, data.data(), 18);
    w.add_tensor("c.weight", DType::Q4_K, 3, ne_k, data.data(), 144);
    w.write(dir + "/synthetic_align" + std::to_string(alignment) + ".gguf");
  }
  GgufWriter empty;
  empty.write(dir + "/empty.gguf");
}

void write_miniature(const std::string& dir, const std::string& model) {
  auto f = GgufFile::open(model);
  GgufWriter w(f->alignment());
  for (const auto& kv : f->metadata()) {
    GgufValue v = kv.value;
    if (v.strs.size() > kMaxArray) v.strs.resize(kMaxArray);
    if (v.ints.size() > kMaxArray) v.ints.resize(kMaxArray);
    if (v.floats.size() > kMaxArray) v.floats.resize(kMaxArray);
    if (v.str.size() > 64) v.str.resize(64);
    w.set(kv.key, v);
  }
  std::vector<const GgufTensorInfo*> tensors;
  for (const GgufTensorInfo& t : f->tensors()) tensors.push_back(&t);
  std::sort(tensors.begin(), tensors.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->nbytes < b->nbytes; });
  for (size_t k = 0; k < tensors.size() && k < 3; ++k) {
    const GgufTensorInfo& t = *tensors[k];
    w.add_tensor(t.name, t.type, t.n_dims, t.ne, t.data, t.nbytes);
  }
  std::string base = model.substr(model.find_last_of('/') + 1);
  w.write(dir + "/mini_" + base);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gguf_seed_gen OUT_DIR [MODEL...]\n");
    return 2;
  }
  try {
    write_synthetic(argv[1]);
    for (int i = 2; i < argc; ++i) write_miniature(argv[1], argv[i]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gguf_seed_gen: %s\n", e.what());
    return 1;
  }
  return 0;
}
