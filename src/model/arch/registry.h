// The architectures Kestrel runs, as an explicit table: each entry reads its hyper-parameters
// (the keys and rules specific to that family) and says which optional tensors it expects.
#pragma once

#include <string>

#include "model/hparams.h"

namespace kestrel::model {

struct ArchSpec {
  const char* name;  // general.architecture
  void (*read_hparams)(const io::GgufFile& file, HParams& hp);  // after read_common_hparams
};

// nullptr when the architecture is not supported.
const ArchSpec* find_arch(const std::string& name);
std::string supported_archs();  // "llama, qwen2, gemma3" for error messages

// One function per family, each in its own file.
void read_llama_hparams(const io::GgufFile& file, HParams& hp);
void read_qwen2_hparams(const io::GgufFile& file, HParams& hp);
void read_gemma3_hparams(const io::GgufFile& file, HParams& hp);

}  // namespace kestrel::model
