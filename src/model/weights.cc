#include "model/weights.h"

#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "quant/type_ops.h"

namespace kestrel::model {

bool WeightLoader::has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

backend::WeightMatrix WeightLoader::matrix(const std::string& name, int64_t n_in,
                                           int64_t n_out) const {
  const io::GgufTensorInfo* t = file_.find_tensor(name);
  KESTREL_CHECK(t != nullptr, "model: missing tensor '", name, "'");
  KESTREL_CHECK(t->n_dims == 2 && t->ne[0] == n_in && t->ne[1] == n_out, "model: tensor '", name,
                "' has shape [", t->ne[0], ", ", t->ne[1], "], expected [", n_in, ", ", n_out, "]");
  KESTREL_CHECK(quant::has_type_ops(t->type), "model: tensor '", name, "' has type ",
                tensor::dtype_name(t->type), ", which Kestrel cannot compute with yet");
  backend::WeightMatrix w;
  w.data = t->data;
  w.type = t->type;
  w.n_in = n_in;
  w.n_out = n_out;
  w.row_bytes = tensor::row_bytes(t->type, n_in);
  return w;
}

const float* WeightLoader::vector(const std::string& name, int64_t n) const {
  const io::GgufTensorInfo* t = file_.find_tensor(name);
  KESTREL_CHECK(t != nullptr, "model: missing tensor '", name, "'");
  KESTREL_CHECK(t->type == tensor::DType::F32, "model: tensor '", name, "' has type ",
                tensor::dtype_name(t->type), ", expected f32");
  KESTREL_CHECK(t->n_elements() == n, "model: tensor '", name, "' has ", t->n_elements(),
                " elements, expected ", n);
  return static_cast<const float*>(t->data);
}

const float* WeightLoader::optional_vector(const std::string& name, int64_t n) const {
  return has(name) ? vector(name, n) : nullptr;
}

}  // namespace kestrel::model
