#include "kernel_bench_util.h"

#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <tuple>

#include "backend/cpu/isa.h"
#include "backend/cpu/kernel_table.h"
#include "quant/type_ops.h"

namespace kestrel::bench {

backend::CpuOps& cpu_ops(int n_threads) {
  struct Entry {
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<backend::CpuOps> ops;
  };
  static std::map<int, Entry> entries;
  Entry& e = entries[n_threads];
  if (!e.ops) {
    e.pool = std::make_unique<ThreadPool>(n_threads);
    e.ops = std::make_unique<backend::CpuOps>(*e.pool);
  }
  return *e.ops;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

backend::WeightMatrix WeightCopies::matrix(int i) const {
  backend::WeightMatrix w;
  w.data = bytes.data() + static_cast<size_t>(i) * matrix_bytes;
  w.type = type;
  w.n_in = n_in;
  w.n_out = n_out;
  w.row_bytes = tensor::row_bytes(type, n_in);
  if (!packed.empty()) {
    w.packed = packed.data() + static_cast<size_t>(i) * packed_matrix_bytes;
    w.packed_rows = packed_rows;
    w.packed_group_bytes = packed_group_bytes;
  }
  return w;
}

const WeightCopies& weight_copies(tensor::DType type, int64_t n_out, int64_t n_in,
                                  size_t min_bytes) {
  using Key = std::tuple<tensor::DType, int64_t, int64_t, size_t>;
  static std::map<Key, WeightCopies> cache;
  const Key key{type, n_out, n_in, min_bytes};
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  // Keep one large (beyond-cache) set at a time: eight of them would hold gigabytes.
  for (auto it = cache.begin(); it != cache.end();) {
    it = std::get<3>(it->first) > 0 ? cache.erase(it) : std::next(it);
  }
  WeightCopies& c = cache[key];
  c.type = type;
  c.n_in = n_in;
  c.n_out = n_out;
  const size_t row = tensor::row_bytes(type, n_in);
  c.matrix_bytes = row * n_out;
  c.copies = static_cast<int>(std::max<size_t>(1, (min_bytes + c.matrix_bytes - 1) / c.matrix_bytes));
  c.bytes.resize(c.matrix_bytes * c.copies);
  const quant::TypeOps& ops = quant::generic_type_ops(type);
  const std::vector<float> w = random_floats(static_cast<size_t>(n_in), 7, 0.02f);
  // Rows differ by a rotation of one seeded row: quantizing every row from fresh random numbers
  // would cost seconds per type for K-quants, and the kernels do not care what the values are.
  std::vector<float> rotated(static_cast<size_t>(n_in));
  for (int64_t o = 0; o < n_out; ++o) {
    const int64_t shift = (o * 97) % n_in;
    for (int64_t i = 0; i < n_in; ++i) rotated[i] = w[(i + shift) % n_in];
    ops.quantize_row(rotated.data(), c.bytes.data() + o * row, n_in);
  }
  for (int k = 1; k < c.copies; ++k) {
    std::memcpy(c.bytes.data() + k * c.matrix_bytes, c.bytes.data(), c.matrix_bytes);
  }
  const backend::KernelTable& table = backend::kernel_table(backend::select_isa());
  if (table.pack != nullptr && table.packed_group_bytes(type, n_in) != 0 &&
      n_out % table.pack_rows == 0) {
    const std::vector<uint8_t> one = table.pack(type, c.bytes.data(), row, n_in, n_out);
    c.packed_matrix_bytes = one.size();
    c.packed_rows = table.pack_rows;
    c.packed_group_bytes = table.packed_group_bytes(type, n_in);
    c.packed.resize(one.size() * c.copies);
    for (int k = 0; k < c.copies; ++k) {
      std::memcpy(c.packed.data() + k * one.size(), one.data(), one.size());
    }
  }
  return c;
}

}  // namespace kestrel::bench
