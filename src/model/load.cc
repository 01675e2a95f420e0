// Model::load: map the file, find the architecture in the registry, read its hyper-parameters.
#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "model/arch/registry.h"
#include "model/decoder_model.h"

namespace kestrel::model {

std::unique_ptr<Model> Model::load(const std::string& path, const ModelOptions& options) {
  std::unique_ptr<io::GgufFile> file = io::GgufFile::open(path);
  const std::string arch = file->get_string_or("general.architecture", "");
  KESTREL_CHECK(!arch.empty(), path, ": no general.architecture key");
  const ArchSpec* spec = find_arch(arch);
  KESTREL_CHECK(spec != nullptr, path, ": unsupported architecture '", arch,
                "' (supported: ", supported_archs(), ")");
  HParams hp = read_common_hparams(*file, arch);
  spec->read_hparams(*file, hp);
  return std::make_unique<DecoderModel>(std::move(file), std::move(hp), options);
}

}  // namespace kestrel::model
