#include "compress/recipe.h"

#include <charconv>

#include "core/error.h"

namespace kestrel::compress {
namespace {

struct RecipeEntry {
  const char* name;
  DType base;
  bool mixed;
  bool small;
  uint32_t file_type;
};

// file_type values are llama.cpp's LLAMA_FTYPE_MOSTLY_* numbers, so tools that read the key
// describe our files the way they describe theirs.
constexpr RecipeEntry kRecipes[] = {
    {"f32", DType::F32, false, false, 0},     {"f16", DType::F16, false, false, 1},
    {"bf16", DType::BF16, false, false, 32},  {"q8_0", DType::Q8_0, false, false, 7},
    {"q4_0", DType::Q4_0, false, false, 2},   {"q4_1", DType::Q4_1, false, false, 3},
    {"q5_0", DType::Q5_0, false, false, 8},   {"q5_1", DType::Q5_1, false, false, 9},
    {"q4_k", DType::Q4_K, false, false, 15},  {"q5_k", DType::Q5_K, false, false, 17},
    {"q6_k", DType::Q6_K, false, false, 18},  {"q4_k_s", DType::Q4_K, true, true, 14},
    {"q4_k_m", DType::Q4_K, true, false, 15}, {"q5_k_s", DType::Q5_K, true, true, 16},
    {"q5_k_m", DType::Q5_K, true, false, 17},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool fits(DType type, int64_t n_in) { return n_in % tensor::traits(type).block_size == 0; }

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// GGUF's substitute for a K-quant whose 256-element super-block does not divide the row.
DType fallback(DType type) {
  switch (type) {
    case DType::Q4_K: return DType::Q5_0;
    case DType::Q5_K: return DType::Q5_1;
    case DType::Q6_K: return DType::Q8_0;
    default: return DType::F16;
  }
}

DType mixed_type(const Recipe& r, const TensorSlot& t) {
  const bool is_output =
      t.name == "output.weight" || (t.tied_output && t.name == "token_embd.weight");
  if (is_output) return fits(DType::Q6_K, t.n_in) ? DType::Q6_K : DType::Q8_0;
  const int il = layer_of(t.name);
  if (il >= 0 && (ends_with(t.name, "attn_v.weight") || ends_with(t.name, "ffn_down.weight"))) {
    if (!r.small && use_more_bits(il, t.n_layer)) return DType::Q6_K;
    if (r.small && r.base == DType::Q4_K) {
      const bool first = ends_with(t.name, "attn_v.weight") ? il < 4 : il < t.n_layer / 8;
      if (first) return DType::Q5_K;
    }
  }
  return r.base;
}

}  // namespace

Recipe parse_recipe(std::string_view name) {
  for (const RecipeEntry& e : kRecipes) {
    if (name == e.name) return Recipe{e.name, e.base, e.mixed, e.small, e.file_type};
  }
  fail("unknown quantization type '", name, "' (known: ", recipe_names(), ")");
}

std::string recipe_names() {
  std::string s;
  for (const RecipeEntry& e : kRecipes) {
    if (!s.empty()) s += ", ";
    s += e.name;
  }
  return s;
}

int layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int il = -1;
  const auto [ptr, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), il);
  if (ec != std::errc() || ptr == name.data() + name.size() || *ptr != '.') return -1;
  return il;
}

bool is_quantizable(const TensorSlot& t) { return t.n_dims >= 2 && ends_with(t.name, "weight"); }

DType choose_type(const Recipe& recipe, const TensorSlot& t, bool allow_fallback) {
  DType type = recipe.mixed ? mixed_type(recipe, t) : recipe.base;
  KESTREL_CHECK(recipe.mixed || allow_fallback || fits(type, t.n_in), "tensor '", t.name,
                "' has rows of ", t.n_in, " elements, which ", tensor::dtype_name(type),
                " blocks of ", tensor::traits(type).block_size,
                " cannot hold (use a recipe such as q4_k_m, or --allow-fallback)");
  if (!fits(type, t.n_in)) type = fallback(type);
  if (!fits(type, t.n_in)) type = DType::F16;
  if (!fits(type, t.n_in)) type = DType::F32;
  return type;
}

}  // namespace kestrel::compress
