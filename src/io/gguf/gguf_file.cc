#include "io/gguf/gguf_file.h"

#include <cstring>
#include <utility>

#include "core/error.h"
#include "io/byte_reader.h"
#include "io/mapped_file.h"

namespace kestrel::io {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint32_t kMaxType = static_cast<uint32_t>(GgufType::kFloat64);
// Smallest possible encodings, used to bound declared counts by the bytes that remain before
// anything is reserved: a key-value is a key length, a type and at least one value byte; a tensor
// info is a name length, n_dims, one dimension, a type and an offset.
constexpr size_t kMinKeyValueBytes = 8 + 4 + 1;
constexpr size_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
// Largest general.alignment accepted: far above any real value, small enough that padding
// arithmetic cannot overflow.
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;
constexpr int kMaxDims = 4;

// Bytes of one scalar element; 0 for strings and arrays (variable length).
size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64:
      return true;
    case GgufType::kFloat32:
    case GgufType::kFloat64:
    case GgufType::kBool:
    case GgufType::kString:
    case GgufType::kArray:
      return false;
  }
  return false;
}

bool is_float(GgufType t) { return t == GgufType::kFloat32 || t == GgufType::kFloat64; }

// Names from a hostile file go into one-line messages: keep them short and printable.
std::string printable(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    char c = s[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// Reads one integer, float or bool of type t (never a string or an array).
void read_number(ByteReader& r, GgufType t, std::string_view field, int64_t& i, double& f) {
  switch (t) {
    case GgufType::kUint8: i = r.read<uint8_t>(field); return;
    case GgufType::kInt8: i = r.read<int8_t>(field); return;
    case GgufType::kUint16: i = r.read<uint16_t>(field); return;
    case GgufType::kInt16: i = r.read<int16_t>(field); return;
    case GgufType::kUint32: i = r.read<uint32_t>(field); return;
    case GgufType::kInt32: i = r.read<int32_t>(field); return;
    case GgufType::kUint64: i = static_cast<int64_t>(r.read<uint64_t>(field)); return;
    case GgufType::kInt64: i = r.read<int64_t>(field); return;
    case GgufType::kFloat32: f = r.read<float>(field); return;
    case GgufType::kFloat64: f = r.read<double>(field); return;
    case GgufType::kBool: {
      size_t at = r.pos();
      uint8_t b = r.read<uint8_t>(field);
      KESTREL_CHECK(b <= 1, "gguf: ", field, " at offset ", at, ": bool value ", int{b},
                    " is neither 0 nor 1");
      i = b;
      return;
    }
    case GgufType::kString:
    case GgufType::kArray:
      break;
  }
  fail("gguf: ", field, ": internal error: not a number type");
}

// Reads a value type code; nested arrays are refused by the caller passing allow_array = false.
GgufType read_type(ByteReader& r, const std::string& field, bool allow_array) {
  size_t at = r.pos();
  uint32_t raw = r.read<uint32_t>(field);
  KESTREL_CHECK(raw <= kMaxType, "gguf: ", field, " at offset ", at, ": unknown value type ", raw);
  auto t = static_cast<GgufType>(raw);
  KESTREL_CHECK(allow_array || t != GgufType::kArray, "gguf: ", field, " at offset ", at,
                ": nested arrays are not supported");
  return t;
}

void read_array(ByteReader& r, const std::string& key, GgufValue& v) {
  const std::string type_field = str_cat("metadata '", key, "' array element type");
  v.array_type = read_type(r, type_field, /*allow_array=*/false);
  const std::string len_field = str_cat("metadata '", key, "' array length");
  size_t at = r.pos();
  uint64_t n = r.read<uint64_t>(len_field);
  size_t min_elem = v.array_type == GgufType::kString ? 8 : scalar_size(v.array_type);
  if (n > r.remaining() / min_elem) {
    fail("gguf: ", len_field, " at offset ", at, ": ", n, " ", gguf_type_name(v.array_type),
         " elements cannot fit in the ", r.remaining(), " bytes that remain");
  }
  const std::string elem_field = str_cat("metadata '", key, "' array element");
  if (v.array_type == GgufType::kString) {
    v.strs.reserve(n);
    for (uint64_t k = 0; k < n; ++k) v.strs.push_back(r.read_string(elem_field));
  } else if (is_float(v.array_type)) {
    v.floats.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      int64_t unused = 0;
      double f = 0;
      read_number(r, v.array_type, elem_field, unused, f);
      v.floats.push_back(f);
    }
  } else {
    v.ints.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      int64_t i = 0;
      double unused = 0;
      read_number(r, v.array_type, elem_field, i, unused);
      v.ints.push_back(i);
    }
  }
}

void read_value(ByteReader& r, const std::string& key, GgufValue& v) {
  v.type = read_type(r, str_cat("metadata '", key, "' type"), /*allow_array=*/true);
  const std::string field = str_cat("metadata '", key, "' value");
  switch (v.type) {
    case GgufType::kString: v.str = r.read_string(field); return;
    case GgufType::kArray: read_array(r, key, v); return;
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
    case GgufType::kBool:
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      read_number(r, v.type, field, v.i, v.f);
      return;
  }
}

// general.alignment: any integer type, non-zero power of two, at most kMaxAlignment.
uint64_t checked_alignment(const GgufValue& v, size_t at) {
  KESTREL_CHECK(is_integer(v.type), "gguf: metadata 'general.alignment' at offset ", at,
                ": has type ", gguf_type_name(v.type), ", expected an integer");
  KESTREL_CHECK(v.i > 0 && (v.i & (v.i - 1)) == 0 && static_cast<uint64_t>(v.i) <= kMaxAlignment,
                "gguf: metadata 'general.alignment' at offset ", at, ": ", v.i,
                " is not a power of two in [1, ", kMaxAlignment, "]");
  return static_cast<uint64_t>(v.i);
}

}  // namespace

const char* gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

size_t GgufValue::array_size() const {
  if (type != GgufType::kArray) return 0;
  if (array_type == GgufType::kString) return strs.size();
  if (is_float(array_type)) return floats.size();
  return ints.size();
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  auto map = std::make_unique<MappedFile>(path);
  std::unique_ptr<GgufFile> file;
  try {
    file = parse(map->data(), map->size());
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  file->map_ = std::move(map);
  return file;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->base_ = data;
  file->size_ = size;
  file->parse_all();
  return file;
}

GgufFile::~GgufFile() = default;

void GgufFile::release_pages(const void* p, size_t n) const {
  if (map_ != nullptr) map_->release(p, n);
}

void GgufFile::parse_all() {
  ByteReader r(base_, size_, "gguf");

  // Header: magic, version, tensor count, key-value count.
  std::string_view magic = r.bytes(4, "magic");
  if (std::memcmp(magic.data(), kMagic, 4) != 0) {
    fail("gguf: magic at offset 0: expected \"GGUF\", found \"", printable(magic),
         "\" (not a GGUF file)");
  }
  version_ = r.read<uint32_t>("version");
  if (version_ == 1) {
    fail("gguf: version at offset 4: GGUF v1 is not supported (convert the model again with a "
         "current converter)");
  }
  if (version_ != 2 && version_ != 3) {
    uint32_t swapped = __builtin_bswap32(version_);
    fail("gguf: version at offset 4: version ", version_, " is not supported (expected 2 or 3)",
         (swapped == 2 || swapped == 3) ? "; big-endian files are not supported" : "");
  }
  size_t at = r.pos();
  uint64_t n_tensors = r.read<uint64_t>("tensor count");
  KESTREL_CHECK(n_tensors <= r.remaining() / kMinTensorInfoBytes, "gguf: tensor count at offset ",
                at, ": ", n_tensors, " tensors cannot fit in a file of ", size_, " bytes");
  at = r.pos();
  uint64_t n_kv = r.read<uint64_t>("metadata count");
  // Both sections share the remaining bytes; each bound alone keeps the sum from overflowing.
  KESTREL_CHECK(n_kv <= r.remaining() / kMinKeyValueBytes &&
                    n_kv * kMinKeyValueBytes + n_tensors * kMinTensorInfoBytes <= r.remaining(),
                "gguf: metadata count at offset ", at, ": ", n_kv, " keys and ", n_tensors,
                " tensors cannot fit in a file of ", size_, " bytes");

  // Metadata.
  kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    size_t key_at = r.pos();
    GgufKeyValue kv;
    kv.key = r.read_string(str_cat("metadata[", k, "] key"));
    KESTREL_CHECK(!kv_index_.contains(kv.key), "gguf: metadata[", k, "] key at offset ", key_at,
                  ": duplicate key '", printable(kv.key), "'");
    read_value(r, printable(kv.key), kv.value);
    if (kv.key == "general.alignment") alignment_ = checked_alignment(kv.value, key_at);
    kv_index_.emplace(kv.key, kv_.size());
    kv_.push_back(std::move(kv));
  }

  // Tensor infos.
  tensors_.reserve(n_tensors);
  std::vector<size_t> info_at(n_tensors);  // bounded by the count check above
  for (uint64_t k = 0; k < n_tensors; ++k) {
    info_at[k] = r.pos();
    GgufTensorInfo t;
    t.name = r.read_string(str_cat("tensor[", k, "] name"));
    const std::string field = str_cat("tensor '", printable(t.name), "'");
    KESTREL_CHECK(!tensor_index_.contains(t.name), "gguf: ", field, " at offset ", info_at[k],
                  ": duplicate tensor name");

    size_t dims_at = r.pos();
    uint32_t n_dims = r.read<uint32_t>(field + " n_dims");
    KESTREL_CHECK(n_dims >= 1 && n_dims <= kMaxDims, "gguf: ", field, " n_dims at offset ",
                  dims_at, ": ", n_dims, " is not in [1, ", kMaxDims, "]");
    t.n_dims = static_cast<int>(n_dims);
    int64_t n_elements = 1;
    for (int d = 0; d < t.n_dims; ++d) {
      size_t ne_at = r.pos();
      const std::string ne_field = str_cat(field, " ne[", d, "]");
      int64_t ne = r.read<int64_t>(ne_field);
      KESTREL_CHECK(ne > 0, "gguf: ", ne_field, " at offset ", ne_at, ": dimension ", ne,
                    " is not positive");
      KESTREL_CHECK(!__builtin_mul_overflow(n_elements, ne, &n_elements), "gguf: ", ne_field,
                    " at offset ", ne_at, ": element count overflows int64");
      t.ne[d] = ne;
    }

    size_t type_at = r.pos();
    uint32_t raw_type = r.read<uint32_t>(field + " type");
    const tensor::DTypeTraits* traits = tensor::find_dtype(raw_type);
    KESTREL_CHECK(traits != nullptr, "gguf: ", field, " type at offset ", type_at,
                  ": unknown tensor type ", raw_type);
    t.type = traits->type;
    KESTREL_CHECK(t.ne[0] % traits->block_size == 0, "gguf: ", field, " ne[0] at offset ",
                  dims_at + 4, ": ", t.ne[0], " is not a multiple of the ", traits->name,
                  " block size ", traits->block_size);
    uint64_t blocks = static_cast<uint64_t>(n_elements / traits->block_size);
    uint64_t nbytes = 0;
    KESTREL_CHECK(!__builtin_mul_overflow(blocks, uint64_t{traits->type_size}, &nbytes) &&
                      nbytes <= SIZE_MAX,
                  "gguf: ", field, " type at offset ", type_at, ": byte size of ", n_elements,
                  " ", traits->name, " elements overflows");
    t.nbytes = static_cast<size_t>(nbytes);

    size_t offset_at = r.pos();
    t.offset = r.read<uint64_t>(field + " offset");
    KESTREL_CHECK(t.offset % alignment_ == 0, "gguf: ", field, " offset at offset ", offset_at,
                  ": data offset ", t.offset, " is not a multiple of the alignment ", alignment_);
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // Tensor data starts at the next multiple of the alignment; a file without tensors may end
  // before it.
  data_offset_ = (r.pos() + alignment_ - 1) / alignment_ * alignment_;
  for (size_t k = 0; k < tensors_.size(); ++k) {
    GgufTensorInfo& t = tensors_[k];
    bool fits = data_offset_ <= size_ && t.offset <= size_ - data_offset_ &&
                t.nbytes <= size_ - data_offset_ - t.offset;
    if (!fits) {
      fail("gguf: tensor '", printable(t.name), "' (info at offset ", info_at[k], ") data [offset ",
           t.offset, ", ", t.nbytes, " bytes] runs past the end of the file (data section at ",
           data_offset_, ", file size ", size_, ")");
    }
    t.data = base_ + data_offset_ + t.offset;
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].value;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

const GgufValue& require(const GgufFile& file, std::string_view key) {
  const GgufValue* v = file.find(key);
  KESTREL_CHECK(v != nullptr, "gguf: key '", key, "' is missing");
  return *v;
}

[[noreturn]] void wrong_type(std::string_view key, const GgufValue& v, const char* expected) {
  if (v.type == GgufType::kArray) {
    fail("gguf: key '", key, "' is an array of ", gguf_type_name(v.array_type), ", expected ",
         expected);
  }
  fail("gguf: key '", key, "' has type ", gguf_type_name(v.type), ", expected ", expected);
}

int64_t as_int(std::string_view key, const GgufValue& v) {
  if (!is_integer(v.type)) wrong_type(key, v, "an integer");
  KESTREL_CHECK(v.type != GgufType::kUint64 || v.i >= 0, "gguf: key '", key, "' value ",
                static_cast<uint64_t>(v.i), " does not fit int64");
  return v.i;
}

double as_float(std::string_view key, const GgufValue& v) {
  if (!is_float(v.type)) wrong_type(key, v, "a float");
  return v.f;
}

}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  const GgufValue& v = require(*this, key);
  if (v.type != GgufType::kString) wrong_type(key, v, "a string");
  return v.str;
}

std::string GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  return find(key) == nullptr ? std::move(fallback) : get_string(key);
}

int64_t GgufFile::get_int(std::string_view key) const { return as_int(key, require(*this, key)); }

int64_t GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : as_int(key, *v);
}

double GgufFile::get_float(std::string_view key) const {
  return as_float(key, require(*this, key));
}

double GgufFile::get_float_or(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v == nullptr ? fallback : as_float(key, *v);
}

bool GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return fallback;
  if (v->type != GgufType::kBool) wrong_type(key, *v, "a bool");
  return v->i != 0;
}

const std::vector<std::string>& GgufFile::get_string_array(std::string_view key) const {
  const GgufValue& v = require(*this, key);
  if (v.type != GgufType::kArray || v.array_type != GgufType::kString) {
    wrong_type(key, v, "an array of strings");
  }
  return v.strs;
}

const std::vector<int64_t>& GgufFile::get_int_array(std::string_view key) const {
  const GgufValue& v = require(*this, key);
  if (v.type != GgufType::kArray ||
      !(is_integer(v.array_type) || v.array_type == GgufType::kBool)) {
    wrong_type(key, v, "an array of integers");
  }
  return v.ints;
}

const std::vector<double>& GgufFile::get_float_array(std::string_view key) const {
  const GgufValue& v = require(*this, key);
  if (v.type != GgufType::kArray || !is_float(v.array_type)) {
    wrong_type(key, v, "an array of floats");
  }
  return v.floats;
}

}  // namespace kestrel::io
