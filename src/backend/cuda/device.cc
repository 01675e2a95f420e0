#include "backend/cuda/device.h"

#include <utility>

#include "backend/cuda/cuda_check.h"

namespace kestrel::backend::cuda {

void fail_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  fail("CUDA error ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ") in ", expr, " at ",
       file, ":", line);
}

void fail_cublas(cublasStatus_t st, const char* expr, const char* file, int line) {
  fail("cuBLAS error ", cublasGetStatusName(st), " (", cublasGetStatusString(st), ") in ", expr,
       " at ", file, ":", line);
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string device_description() {
  KESTREL_CHECK(device_count() > 0, "no CUDA device");
  int dev = 0;
  KESTREL_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  KESTREL_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return str_cat(p.name, ", sm_", p.major, p.minor, ", ", p.multiProcessorCount, " SMs, ",
                 static_cast<double>(p.totalGlobalMem) / (1 << 30), " GiB");
}

DeviceBuffer::DeviceBuffer(size_t bytes) { reserve(bytes); }

DeviceBuffer::~DeviceBuffer() {
  if (ptr_ != nullptr) cudaFree(ptr_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_ != nullptr) cudaFree(ptr_);
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

bool DeviceBuffer::reserve(size_t bytes) {
  if (bytes <= bytes_) return false;
  if (ptr_ != nullptr) KESTREL_CUDA_CHECK(cudaFree(ptr_));
  ptr_ = nullptr;
  bytes_ = 0;
  KESTREL_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
  bytes_ = bytes;
  return true;
}

// The device-wide synchronizations order these copies with work on every stream, including
// CudaOps' non-blocking one, which the legacy default stream does not wait for.
void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  KESTREL_CUDA_CHECK(cudaDeviceSynchronize());
  KESTREL_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  KESTREL_CUDA_CHECK(cudaDeviceSynchronize());
}

void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  KESTREL_CUDA_CHECK(cudaDeviceSynchronize());
  KESTREL_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

DeviceBuffer upload(const void* src, size_t bytes) {
  DeviceBuffer b(bytes > 0 ? bytes : 1);
  copy_to_device(b.get(), src, bytes);
  return b;
}

}  // namespace kestrel::backend::cuda
