// MappedFile::release: released pages read back the file's bytes, and ranges outside the map are
// refused.
#include "io/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace kestrel::io {
namespace {

TEST(MappedFile, ReleasedPagesReadBackTheFile) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const std::string path = ::testing::TempDir() + "kestrel_mapped_file_test.bin";
  std::vector<uint8_t> bytes(5 * page + 123);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + i / 251);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  MappedFile map(path);
  ASSERT_EQ(map.size(), bytes.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < map.size(); ++i) sum += map.data()[i];  // make every page resident
  EXPECT_GT(sum, 0u);
  map.release(map.data() + 100, 3 * page + 50);  // unaligned: whole pages 1..3 inside
  map.release(map.data(), map.size());
  for (size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(map.data()[i], bytes[i]) << "byte " << i;
  EXPECT_THROW(map.release(map.data() + 10, map.size()), Error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace kestrel::io
