// kestrel info MODEL: header, metadata and tensor table of a GGUF file.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "tensor/dtype.h"

namespace kestrel::app {
namespace {

using io::GgufType;
using io::GgufValue;

constexpr size_t kMaxStringChars = 80;  // longer strings are cut, with a note
constexpr size_t kMaxArrayShown = 8;    // longer arrays show their first kArrayHead elements
constexpr size_t kArrayHead = 3;

// Shortest decimal that reads back as the same float32 or float64.
std::string format_float(double f, GgufType type) {
  char buf[64];
  auto res = type == GgufType::kFloat32
                 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(f))
                 : std::to_chars(buf, buf + sizeof(buf), f);
  return std::string(buf, res.ptr);
}

// A quoted, escaped string on one line; cut at `limit` characters when limit > 0.
std::string quote(const std::string& s, size_t limit) {
  std::string out = "\"";
  size_t n = (limit > 0 && s.size() > limit) ? limit : s.size();
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", c);
          out += hex;
        } else {
          out += static_cast<char>(c);  // UTF-8 bytes pass through
        }
    }
  }
  out += '"';
  if (n < s.size()) out += str_cat(" ... (", s.size(), " bytes, truncated)");
  return out;
}

std::string element(const GgufValue& v, size_t k) {
  switch (v.array_type) {
    case GgufType::kString: return quote(v.strs[k], 40);
    case GgufType::kFloat32:
    case GgufType::kFloat64: return format_float(v.floats[k], v.array_type);
    case GgufType::kBool: return v.ints[k] != 0 ? "true" : "false";
    case GgufType::kUint64: return std::to_string(static_cast<uint64_t>(v.ints[k]));
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kInt64: return std::to_string(v.ints[k]);
    case GgufType::kArray: break;  // the reader refuses nested arrays
  }
  return "?";
}

const char* plural(GgufType t) {
  switch (t) {
    case GgufType::kString: return "strings";
    case GgufType::kFloat32:
    case GgufType::kFloat64: return "floats";
    case GgufType::kBool: return "bools";
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kUint64:
    case GgufType::kInt64: return "ints";
    case GgufType::kArray: break;
  }
  return "values";
}

std::string format_value(const GgufValue& v, bool full) {
  switch (v.type) {
    case GgufType::kString: return quote(v.str, full ? 0 : kMaxStringChars);
    case GgufType::kFloat32:
    case GgufType::kFloat64: return format_float(v.f, v.type);
    case GgufType::kBool: return v.i != 0 ? "true" : "false";
    case GgufType::kUint64: return std::to_string(static_cast<uint64_t>(v.i));
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kUint16:
    case GgufType::kInt16:
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kInt64: return std::to_string(v.i);
    case GgufType::kArray: break;
  }
  size_t n = v.array_size();
  std::string out = "[";
  size_t shown = n;
  if (!full && n > kMaxArrayShown) {
    out += str_cat(n, " ", plural(v.array_type), ": ");
    shown = kArrayHead;
  }
  for (size_t k = 0; k < shown; ++k) {
    if (k > 0) out += ", ";
    out += element(v, k);
  }
  out += shown < n ? ", ... ]" : "]";
  return out;
}

std::string type_label(const GgufValue& v) {
  if (v.type != GgufType::kArray) return io::gguf_type_name(v.type);
  return str_cat("array<", io::gguf_type_name(v.array_type), ">");
}

std::string shape(const io::GgufTensorInfo& t) {
  std::string out = "[";
  for (int d = 0; d < t.n_dims; ++d) out += str_cat(d > 0 ? ", " : "", t.ne[d]);
  return out + "]";
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return buf;
}

void print_info(const std::string& path, bool full, bool show_tensors) {
  std::unique_ptr<io::GgufFile> file = io::GgufFile::open(path);
  std::ostringstream os;
  os << "file:       " << path << " (" << file->file_size() << " bytes, "
     << human_bytes(static_cast<double>(file->file_size())) << ")\n"
     << "version:    " << file->version() << "\n"
     << "alignment:  " << file->alignment() << "\n"
     << "tensors:    " << file->tensors().size() << "\n"
     << "data at:    " << file->data_offset() << "\n\n"
     << "metadata (" << file->metadata().size() << " keys):\n";
  size_t key_width = 0;
  for (const io::GgufKeyValue& kv : file->metadata()) {
    key_width = std::max(key_width, kv.key.size());
  }
  for (const io::GgufKeyValue& kv : file->metadata()) {
    std::string label = type_label(kv.value);
    os << "  " << kv.key << std::string(key_width - kv.key.size() + 2, ' ') << label
       << std::string(label.size() < 16 ? 16 - label.size() : 1, ' ')
       << format_value(kv.value, full) << "\n";
  }

  uint64_t total_bytes = 0;
  uint64_t total_elements = 0;
  size_t name_width = 4;
  for (const io::GgufTensorInfo& t : file->tensors()) {
    name_width = std::max(name_width, t.name.size());
  }
  if (show_tensors) {
    os << "\ntensors (" << file->tensors().size() << "):\n";
    char line[64];
    os << "  " << "name" << std::string(name_width - 4 + 2, ' ');
    std::snprintf(line, sizeof(line), "%-8s %-28s %14s\n", "type", "shape", "bytes");
    os << line;
  }
  for (const io::GgufTensorInfo& t : file->tensors()) {
    // Unsigned sums: tensors of a hostile file may overlap, so the totals are only bounded by
    // count * size; wrapping is defined behaviour and no real model comes near.
    total_bytes += t.nbytes;
    total_elements += static_cast<uint64_t>(t.n_elements());
    if (!show_tensors) continue;
    char line[128];
    std::snprintf(line, sizeof(line), "%-8s %-28s %14zu\n", tensor::dtype_name(t.type),
                  shape(t).c_str(), t.nbytes);
    os << "  " << t.name << std::string(name_width - t.name.size() + 2, ' ') << line;
  }
  os << "\ntotal: " << file->tensors().size() << " tensors, " << total_elements << " elements, "
     << total_bytes << " bytes (" << human_bytes(static_cast<double>(total_bytes)) << ")\n";
  std::cout << os.str() << std::flush;
}

}  // namespace

void add_info_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "Print a GGUF file's header, metadata and tensors");
  auto path = std::make_shared<std::string>();
  auto full = std::make_shared<bool>(false);
  auto no_tensors = std::make_shared<bool>(false);
  cmd->add_option("model", *path, "GGUF file")->required();
  cmd->add_flag("--full", *full, "Print long strings and arrays in full");
  cmd->add_flag("--no-tensors", *no_tensors, "Skip the tensor table (the total is still printed)");
  cmd->callback([path, full, no_tensors] { print_info(*path, *full, !*no_tensors); });
}

KESTREL_COMMAND("info", add_info_command);

}  // namespace kestrel::app
