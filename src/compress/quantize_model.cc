#include "compress/quantize_model.h"

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "io/gguf/gguf_file.h"
#include "io/gguf/gguf_writer.h"
#include "quant/type_ops.h"
#include "quant/weighted.h"

namespace kestrel::compress {
namespace {

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

struct Plan {
  const io::GgufTensorInfo* info;
  bool convert;
  DType out_type;
  const std::vector<float>* importance;  // null: plain quantizer
};

std::vector<Plan> make_plan(const io::GgufFile& in, const QuantizeOptions& o) {
  const int n_layer = static_cast<int>(
      in.get_int_or(in.get_string_or("general.architecture", "") + ".block_count", 0));
  const bool tied = in.find_tensor("output.weight") == nullptr;
  std::vector<Plan> plan;
  for (const io::GgufTensorInfo& t : in.tensors()) {
    const TensorSlot slot{t.name, t.n_dims, t.ne[0], n_layer, tied};
    Plan p{&t, is_quantizable(slot), t.type, nullptr};
    if (p.convert) {
      KESTREL_CHECK(o.allow_requantize || is_float_type(t.type), "tensor '", t.name, "' is already ",
                    tensor::dtype_name(t.type),
                    "; requantizing loses accuracy twice (pass --allow-requantize to do it anyway)");
      KESTREL_CHECK(quant::has_type_ops(t.type), "tensor '", t.name, "' has type ",
                    tensor::dtype_name(t.type), ", which Kestrel cannot dequantize");
      p.out_type = choose_type(o.recipe, slot, o.allow_fallback);
      if (o.importance != nullptr && quant::has_weighted_quantizer(p.out_type)) {
        p.importance = o.importance->find(t.name);
        KESTREL_CHECK(p.importance == nullptr ||
                          static_cast<int64_t>(p.importance->size()) == t.ne[0],
                      "calibration statistics for '", t.name, "' have ", p.importance->size(),
                      " columns, the tensor ", t.ne[0]);
      }
    }
    plan.push_back(p);
  }
  return plan;
}

// Converts one matrix row by row on the pool; each thread dequantizes into its own float row.
void convert(const Plan& p, ThreadPool& pool, std::vector<uint8_t>& out) {
  const io::GgufTensorInfo& t = *p.info;
  const int64_t n_in = t.ne[0];
  const int64_t n_rows = t.n_elements() / n_in;
  const size_t in_row = tensor::row_bytes(t.type, n_in);
  const size_t out_row = tensor::row_bytes(p.out_type, n_in);
  out.resize(out_row * n_rows);
  const quant::TypeOps& src = quant::generic_type_ops(t.type);
  const quant::TypeOps& dst = quant::generic_type_ops(p.out_type);
  KESTREL_CHECK(dst.quantize_row != nullptr, "no quantizer for ", tensor::dtype_name(p.out_type));
  const auto* in = static_cast<const uint8_t*>(t.data);
  pool.parallel_for(n_rows, 1, [&](int64_t r0, int64_t r1, int) {
    std::vector<float> row(n_in);
    for (int64_t r = r0; r < r1; ++r) {
      src.dequantize_row(in + r * in_row, row.data(), n_in);
      uint8_t* y = out.data() + r * out_row;
      if (p.importance != nullptr) {
        quant::quantize_row_weighted(p.out_type, row.data(), y, n_in, p.importance->data());
      } else {
        dst.quantize_row(row.data(), y, n_in);
      }
    }
  });
}

}  // namespace

QuantizeSummary quantize_model(const std::string& in_path, const std::string& out_path,
                               const QuantizeOptions& o) {
  const std::unique_ptr<io::GgufFile> in = io::GgufFile::open(in_path);
  const std::vector<Plan> plan = make_plan(*in, o);  // every check before any work

  io::GgufWriter writer(in->alignment());
  writer.copy_metadata(*in);
  writer.set_u32("general.file_type", o.recipe.file_type);
  if (!is_float_type(o.recipe.base)) writer.set_u32("general.quantization_version", 2);
  if (o.importance != nullptr) {
    writer.set_string("quantize.imatrix.dataset", o.importance->dataset);
    writer.set_i32("quantize.imatrix.entries_count",
                   static_cast<int32_t>(o.importance->columns.size()));
    writer.set_i32("quantize.imatrix.chunks_count", static_cast<int32_t>(o.importance->n_tokens));
  }

  const int n_threads = o.n_threads > 0 ? o.n_threads
                                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(n_threads);
  QuantizeSummary s;
  std::vector<std::vector<uint8_t>> buffers(plan.size());
  ProgressBar bar("quantize", static_cast<int64_t>(plan.size()), o.progress ? stderr : nullptr);
  for (size_t i = 0; i < plan.size(); ++i) {
    const Plan& p = plan[i];
    const io::GgufTensorInfo& t = *p.info;
    const void* data = t.data;
    size_t nbytes = t.nbytes;
    if (p.convert && p.out_type != t.type) {
      convert(p, pool, buffers[i]);
      data = buffers[i].data();
      nbytes = buffers[i].size();
      ++s.n_converted;
      if (p.importance != nullptr) ++s.n_weighted;
    }
    writer.add_tensor(t.name, p.out_type, t.n_dims, t.ne, data, nbytes);
    ++s.n_tensors;
    s.bytes_in += t.nbytes;
    s.bytes_out += nbytes;
    ++s.type_counts[tensor::dtype_name(p.out_type)];
    bar.update(static_cast<int64_t>(i + 1), t.name);
  }
  bar.finish();
  writer.write(out_path);
  return s;
}

}  // namespace kestrel::compress
