#include "io/gguf/gguf_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace kestrel::io {
namespace {

constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;  // the reader's limit

uint64_t align_up(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

// Little-endian encoder into a byte vector (the host is little-endian; see byte_reader.h).
class Encoder {
 public:
  template <class T>
  void put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  std::vector<uint8_t>& bytes() { return out_; }

 private:
  std::vector<uint8_t> out_;
};

// Writes one integer, float or bool element of type t.
void put_number(Encoder& e, GgufType t, int64_t i, double f) {
  switch (t) {
    case GgufType::kUint8: e.put(static_cast<uint8_t>(i)); return;
    case GgufType::kInt8: e.put(static_cast<int8_t>(i)); return;
    case GgufType::kUint16: e.put(static_cast<uint16_t>(i)); return;
    case GgufType::kInt16: e.put(static_cast<int16_t>(i)); return;
    case GgufType::kUint32: e.put(static_cast<uint32_t>(i)); return;
    case GgufType::kInt32: e.put(static_cast<int32_t>(i)); return;
    case GgufType::kUint64: e.put(static_cast<uint64_t>(i)); return;
    case GgufType::kInt64: e.put(i); return;
    case GgufType::kFloat32: e.put(static_cast<float>(f)); return;
    case GgufType::kFloat64: e.put(f); return;
    case GgufType::kBool: e.put(static_cast<uint8_t>(i != 0)); return;
    case GgufType::kString:
    case GgufType::kArray:
      break;
  }
  fail("gguf writer: internal error: not a number type");
}

void put_value(Encoder& e, const std::string& key, const GgufValue& v) {
  auto raw = static_cast<uint32_t>(v.type);
  KESTREL_CHECK(raw <= static_cast<uint32_t>(GgufType::kFloat64), "gguf writer: key '", key,
                "' has unknown type ", raw);
  e.put(raw);
  if (v.type == GgufType::kString) {
    e.put_string(v.str);
    return;
  }
  if (v.type != GgufType::kArray) {
    put_number(e, v.type, v.i, v.f);
    return;
  }
  auto elem = static_cast<uint32_t>(v.array_type);
  KESTREL_CHECK(elem <= static_cast<uint32_t>(GgufType::kFloat64) &&
                    v.array_type != GgufType::kArray,
                "gguf writer: key '", key, "' has an unsupported array element type ", elem);
  e.put(elem);
  e.put<uint64_t>(v.array_size());
  if (v.array_type == GgufType::kString) {
    for (const std::string& s : v.strs) e.put_string(s);
  } else if (v.array_type == GgufType::kFloat32 || v.array_type == GgufType::kFloat64) {
    for (double f : v.floats) put_number(e, v.array_type, 0, f);
  } else {
    for (int64_t i : v.ints) put_number(e, v.array_type, i, 0);
  }
}

GgufValue scalar(GgufType type, int64_t i, double f) {
  GgufValue v;
  v.type = type;
  v.i = i;
  v.f = f;
  return v;
}

}  // namespace

void GgufWriter::set(const std::string& key, const GgufValue& value) {
  for (GgufKeyValue& kv : kv_) {
    if (kv.key == key) {
      kv.value = value;
      return;
    }
  }
  kv_.push_back({key, value});
}

void GgufWriter::set_string(const std::string& key, const std::string& value) {
  GgufValue v;
  v.type = GgufType::kString;
  v.str = value;
  set(key, v);
}

void GgufWriter::set_u32(const std::string& key, uint32_t value) {
  set(key, scalar(GgufType::kUint32, value, 0));
}
void GgufWriter::set_i32(const std::string& key, int32_t value) {
  set(key, scalar(GgufType::kInt32, value, 0));
}
void GgufWriter::set_f32(const std::string& key, float value) {
  set(key, scalar(GgufType::kFloat32, 0, value));
}
void GgufWriter::set_bool(const std::string& key, bool value) {
  set(key, scalar(GgufType::kBool, value ? 1 : 0, 0));
}

void GgufWriter::copy_metadata(const GgufFile& file) {
  for (const GgufKeyValue& kv : file.metadata()) set(kv.key, kv.value);
}

void GgufWriter::add_tensor(const std::string& name, tensor::DType type, int n_dims,
                            const int64_t* ne, const void* data, size_t nbytes) {
  for (const PendingTensor& t : tensors_) {
    KESTREL_CHECK(t.name != name, "gguf writer: duplicate tensor '", name, "'");
  }
  KESTREL_CHECK(n_dims >= 1 && n_dims <= 4, "gguf writer: tensor '", name, "' n_dims ", n_dims,
                " is not in [1, 4]");
  const tensor::DTypeTraits& traits = tensor::traits(type);
  PendingTensor t{name, type, n_dims, {1, 1, 1, 1}, data, nbytes};
  int64_t rows = 1;
  for (int d = 0; d < n_dims; ++d) {
    KESTREL_CHECK(ne[d] > 0, "gguf writer: tensor '", name, "' ne[", d, "] = ", ne[d],
                  " is not positive");
    if (d > 0) {
      KESTREL_CHECK(!__builtin_mul_overflow(rows, ne[d], &rows), "gguf writer: tensor '", name,
                    "' shape overflows");
    }
    t.ne[d] = ne[d];
  }
  KESTREL_CHECK(ne[0] % traits.block_size == 0, "gguf writer: tensor '", name, "' ne[0] ", ne[0],
                " is not a multiple of the ", traits.name, " block size ", traits.block_size);
  size_t expected = 0;
  KESTREL_CHECK(!__builtin_mul_overflow(tensor::row_bytes(type, ne[0]), static_cast<size_t>(rows),
                                        &expected) &&
                    expected == nbytes,
                "gguf writer: tensor '", name, "' has ", nbytes, " bytes, its shape needs ",
                expected);
  KESTREL_CHECK(data != nullptr, "gguf writer: tensor '", name, "' has no data");
  tensors_.push_back(t);
}

void GgufWriter::emit(const Sink& sink) const {
  KESTREL_CHECK(alignment_ > 0 && (alignment_ & (alignment_ - 1)) == 0 &&
                    alignment_ <= kMaxAlignment,
                "gguf writer: alignment ", alignment_, " is not a power of two in [1, ",
                kMaxAlignment, "]");
  // general.alignment must agree with the padding actually written.
  std::vector<GgufKeyValue> kv = kv_;
  bool has_alignment = false;
  for (GgufKeyValue& entry : kv) {
    if (entry.key == "general.alignment") {
      entry.value = scalar(GgufType::kUint32, static_cast<int64_t>(alignment_), 0);
      has_alignment = true;
    }
  }
  if (!has_alignment && alignment_ != kDefaultAlignment) {
    kv.push_back({"general.alignment", scalar(GgufType::kUint32,
                                              static_cast<int64_t>(alignment_), 0)});
  }

  // Header, metadata and tensor table are small: build them in memory, then stream the data.
  Encoder e;
  e.put<uint32_t>(0x46554747);  // "GGUF" read as a little-endian uint32
  e.put<uint32_t>(kVersion);
  e.put<uint64_t>(tensors_.size());
  e.put<uint64_t>(kv.size());
  for (const GgufKeyValue& entry : kv) {
    e.put_string(entry.key);
    put_value(e, entry.key, entry.value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    e.put_string(t.name);
    e.put<uint32_t>(static_cast<uint32_t>(t.n_dims));
    for (int d = 0; d < t.n_dims; ++d) e.put<int64_t>(t.ne[d]);
    e.put<uint32_t>(static_cast<uint32_t>(t.type));
    e.put<uint64_t>(offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  e.bytes().resize(align_up(e.bytes().size(), alignment_), 0);
  sink(e.bytes().data(), e.bytes().size());

  static const std::vector<uint8_t> kZeros(kMaxAlignment > 4096 ? 4096 : kMaxAlignment, 0);
  for (const PendingTensor& t : tensors_) {
    sink(t.data, t.nbytes);
    uint64_t pad = align_up(t.nbytes, alignment_) - t.nbytes;
    while (pad > 0) {
      size_t n = pad < kZeros.size() ? static_cast<size_t>(pad) : kZeros.size();
      sink(kZeros.data(), n);
      pad -= n;
    }
  }
}

std::vector<uint8_t> GgufWriter::serialize() const {
  std::vector<uint8_t> out;
  emit([&out](const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + n);
  });
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) fail(tmp, ": cannot create: ", std::strerror(errno));
  try {
    emit([&](const void* data, size_t n) {
      if (n > 0 && std::fwrite(data, 1, n, f) != n) {
        fail(tmp, ": write failed: ", std::strerror(errno));
      }
    });
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) {
      fail(tmp, ": write failed: ", std::strerror(errno));
    }
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fail(tmp, ": close failed: ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot rename from ", tmp, ": ", std::strerror(err));
  }
}

}  // namespace kestrel::io
