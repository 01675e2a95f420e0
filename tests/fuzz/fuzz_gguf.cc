// libFuzzer target for the GGUF reader: any input must either parse or throw kestrel::Error.
// A parsed file must give tensor views inside the input (their first and last bytes are read, so
// AddressSanitizer catches a view that leaves it) and must survive a write -> read round trip.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "io/gguf/gguf_writer.h"

namespace {

void check_round_trip(const kestrel::io::GgufFile& f) {
  kestrel::io::GgufWriter w(f.alignment());
  w.copy_metadata(f);
  for (const kestrel::io::GgufTensorInfo& t : f.tensors()) {
    w.add_tensor(t.name, t.type, t.n_dims, t.ne, t.data, t.nbytes);
  }
  std::vector<uint8_t> bytes = w.serialize();
  auto g = kestrel::io::GgufFile::parse(bytes.data(), bytes.size());  // must not throw
  if (g->tensors().size() != f.tensors().size()) __builtin_trap();
  if (g->metadata().size() != f.metadata().size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<kestrel::io::GgufFile> f;
  try {
    f = kestrel::io::GgufFile::parse(data, size);
  } catch (const kestrel::Error&) {
    return 0;
  }
  volatile uint8_t sum = 0;
  for (const kestrel::io::GgufTensorInfo& t : f->tensors()) {
    const auto* p = static_cast<const uint8_t*>(t.data);
    sum = sum + p[0] + p[t.nbytes - 1];
    if (f->find_tensor(t.name) == nullptr) __builtin_trap();
  }
  for (const kestrel::io::GgufKeyValue& kv : f->metadata()) {
    if (f->find(kv.key) == nullptr) __builtin_trap();
    sum = sum + static_cast<uint8_t>(kv.value.array_size());
  }
  check_round_trip(*f);
  return 0;
}
