// Device discovery and device memory: the alloc/upload/synchronize half of the backend interface
// that the CPU backend never needed (docs/design.md). Everything here is host code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

namespace kestrel::backend::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();
// "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" for device 0; throws when there is none.
std::string device_description();

// One cudaMalloc'ed allocation, freed on destruction. Move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }
  // Grows (never shrinks) to at least `bytes`, dropping the contents. Returns true when it
  // reallocated (pointers taken earlier, e.g. by a captured graph, are then stale).
  bool reserve(size_t bytes);

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Copies that wait for all queued device work first (and, to the device, for the copy itself);
// for set-up and tests, not the per-token path.
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
DeviceBuffer upload(const void* src, size_t bytes);
template <class T>
DeviceBuffer upload(const std::vector<T>& v) {
  return upload(v.data(), v.size() * sizeof(T));
}
template <class T>
std::vector<T> download(const void* src, size_t n) {
  std::vector<T> v(n);
  copy_to_host(v.data(), src, n * sizeof(T));
  return v;
}

}  // namespace kestrel::backend::cuda
