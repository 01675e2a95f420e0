// A loaded model: the GGUF file (mapped), its hyper-parameters and tokenizer, and a forward pass
// over a flat batch of tokens and the paged KV cache.
#pragma once

#include <memory>
#include <string>

#include "backend/kv_storage.h"
#include "model/batch.h"
#include "model/hparams.h"

namespace kestrel {
class ThreadPool;
}
namespace kestrel::io {
class GgufFile;
}
namespace kestrel::tokenizer {
class Tokenizer;
}

namespace kestrel::model {

struct ModelOptions {
  int n_threads = 0;       // 0: all hardware threads
  int64_t max_batch = 512;  // most tokens one forward call takes (sizes the scratch buffers)
};

class Model {
 public:
  // Loads and validates a GGUF model; throws kestrel::Error for a malformed file, an unsupported
  // architecture, or a missing/misshapen tensor.
  static std::unique_ptr<Model> load(const std::string& path, const ModelOptions& options);
  virtual ~Model() = default;

  virtual const HParams& hparams() const = 0;
  virtual const io::GgufFile& gguf() const = 0;
  virtual const tokenizer::Tokenizer& tokenizer() const = 0;
  virtual int64_t max_batch() const = 0;

  // Runs the batch: writes every token's k and v into `kv` at batch.slots, and the next-token
  // logits of the rows batch.logit_rows into logits: F32 [n_logits, n_vocab].
  virtual void forward(const BatchView& batch, backend::KvStorage& kv, float* logits) = 0;
};

}  // namespace kestrel::model
