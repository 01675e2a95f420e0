#include "model/arch/registry.h"

namespace kestrel::model {
namespace {

constexpr ArchSpec kArchs[] = {
    {"llama", read_llama_hparams},    // Llama 2/3, SmolLM2, Mistral
    {"qwen2", read_qwen2_hparams},    // llama with q/k/v biases and NeoX RoPE
    {"gemma3", read_gemma3_hparams},  // sliding-window and global layers, extra norms
};

}  // namespace

const ArchSpec* find_arch(const std::string& name) {
  for (const ArchSpec& spec : kArchs) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

std::string supported_archs() {
  std::string out;
  for (const ArchSpec& spec : kArchs) {
    if (!out.empty()) out += ", ";
    out += spec.name;
  }
  return out;
}

}  // namespace kestrel::model
