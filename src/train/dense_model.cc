#include "train/dense_model.h"

#include <cstring>

#include "core/error.h"
#include "io/gguf/gguf_writer.h"
#include "model/arch/registry.h"
#include "quant/type_ops.h"

namespace kestrel::train {

DenseModel DenseModel::from_gguf(const io::GgufFile& file) {
  DenseModel m;
  m.arch_ = file.get_string_or("general.architecture", "");
  KESTREL_CHECK(!m.arch_.empty(), "model has no general.architecture key");
  m.metadata_ = file.metadata();
  for (const io::GgufTensorInfo& t : file.tensors()) {
    KESTREL_CHECK(quant::has_type_ops(t.type), "tensor '", t.name, "' has type ",
                  tensor::dtype_name(t.type), ", which Kestrel cannot dequantize");
    DenseTensor d;
    d.name = t.name;
    d.n_dims = t.n_dims;
    std::copy(t.ne, t.ne + 4, d.ne);
    d.data.resize(t.n_elements());
    const quant::TypeOps& ops = quant::generic_type_ops(t.type);
    const size_t rb = tensor::row_bytes(t.type, t.ne[0]);
    const auto* src = static_cast<const uint8_t*>(t.data);
    for (int64_t r = 0; r < d.rows(); ++r) {
      ops.dequantize_row(src + r * rb, d.data.data() + r * t.ne[0], t.ne[0]);
    }
    m.tensors_.push_back(std::move(d));
  }
  return m;
}

DenseTensor* DenseModel::find(const std::string& name) {
  for (DenseTensor& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

DenseTensor& DenseModel::get(const std::string& name) {
  DenseTensor* t = find(name);
  KESTREL_CHECK(t != nullptr, "model has no tensor '", name, "'");
  return *t;
}

int64_t DenseModel::get_int(const std::string& key) const {
  for (const io::GgufKeyValue& kv : metadata_) {
    if (kv.key == key) {
      KESTREL_CHECK(kv.value.type != io::GgufType::kString && kv.value.type != io::GgufType::kArray,
                    "metadata key '", key, "' is not an integer");
      return kv.value.i;
    }
  }
  fail("model has no metadata key '", key, "'");
}

void DenseModel::set_u32(const std::string& key, uint32_t value) {
  io::GgufValue v;
  v.type = io::GgufType::kUint32;
  v.i = value;
  for (io::GgufKeyValue& kv : metadata_) {
    if (kv.key == key) {
      kv.value = v;
      return;
    }
  }
  metadata_.push_back({key, v});
}

void DenseModel::write(const std::string& path, tensor::DType matrix_type) const {
  KESTREL_CHECK(matrix_type == tensor::DType::F32 || matrix_type == tensor::DType::F16,
                "dense output type must be f32 or f16");
  io::GgufWriter w;
  for (const io::GgufKeyValue& kv : metadata_) w.set(kv.key, kv.value);
  // GGUF's llama_ftype: 0 = all F32, 1 = mostly F16.
  w.set_u32("general.file_type", matrix_type == tensor::DType::F16 ? 1 : 0);
  std::vector<std::vector<uint8_t>> converted;
  converted.reserve(tensors_.size());
  for (const DenseTensor& t : tensors_) {
    const tensor::DType type = t.n_dims >= 2 ? matrix_type : tensor::DType::F32;
    const int64_t n = static_cast<int64_t>(t.data.size());
    converted.emplace_back(tensor::row_bytes(type, n));
    quant::generic_type_ops(type).quantize_row(t.data.data(), converted.back().data(), n);
    w.add_tensor(t.name, type, t.n_dims, t.ne, converted.back().data(), converted.back().size());
  }
  w.write(path);
}

Config llama_config(const io::GgufFile& file) {
  const std::string arch = file.get_string_or("general.architecture", "");
  KESTREL_CHECK(arch == "llama", "training and calibration support the llama architecture, not '",
                arch, "'");
  model::HParams hp = model::read_common_hparams(file, arch);
  model::find_arch(arch)->read_hparams(file, hp);
  Config c;
  c.n_vocab = hp.n_vocab;
  c.n_embd = hp.n_embd;
  c.n_layer = hp.n_layer;
  c.n_head = hp.n_head;
  c.n_head_kv = hp.n_head_kv;
  c.head_dim = hp.head_dim;
  c.n_ff = hp.n_ff;
  c.n_rot = hp.n_rot;
  c.norm_eps = hp.norm_eps;
  c.rope_base = hp.rope_base;
  c.rope_neox = hp.rope_style == backend::RopeStyle::kNeox;
  c.tied_output = file.find_tensor("output.weight") == nullptr;
  return c;
}

Params<float> take_params(const Config& cfg, DenseModel& model) {
  Params<float> p;
  if (!cfg.tied_output) p.output.resize(1);  // for_each_tensor visits it only when untied
  p.layers.resize(cfg.n_layer);
  for_each_tensor<float>(cfg, p, [&](const TensorRef& ref, std::vector<float>& dst) {
    DenseTensor& t = model.get(ref.name);
    KESTREL_CHECK(t.ne[0] == ref.ne[0] && t.rows() == ref.ne[1], "tensor '", ref.name,
                  "' has shape [", t.ne[0], ", ", t.rows(), "], expected [", ref.ne[0], ", ",
                  ref.ne[1], "]");
    dst = std::move(t.data);
  });
  return p;
}

void put_params(const Config& cfg, Params<float>& params, DenseModel& model) {
  for_each_tensor<float>(cfg, params, [&](const TensorRef& ref, std::vector<float>& src) {
    DenseTensor* t = model.find(ref.name);
    if (t == nullptr) {
      model.tensors().push_back({});
      t = &model.tensors().back();
      t->name = ref.name;
    }
    t->n_dims = ref.n_dims;
    t->ne[0] = ref.ne[0];
    t->ne[1] = ref.n_dims >= 2 ? ref.ne[1] : 1;
    t->ne[2] = t->ne[3] = 1;
    t->data = std::move(src);
  });
}

}  // namespace kestrel::train
