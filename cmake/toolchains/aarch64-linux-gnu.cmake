# Cross-compiling for 64-bit Arm Linux with Debian's cross toolchain (g++-aarch64-linux-gnu),
# e.g. cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# Test executables run through qemu-user (qemu-aarch64), also for gtest's test discovery.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(KESTREL_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${KESTREL_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${KESTREL_CROSS_TRIPLE}-g++)

# Target libraries and packages come from the cross sysroot (plus any prefix the caller adds to
# CMAKE_FIND_ROOT_PATH or CMAKE_PREFIX_PATH, such as a cross-built googletest); programs are
# the host's.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${KESTREL_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(KESTREL_QEMU qemu-aarch64)
if(KESTREL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${KESTREL_QEMU} -L /usr/${KESTREL_CROSS_TRIPLE})
endif()

# pkg-config: the target's .pc files when Debian's multiarch arm64 packages are installed (then
# the tokenizer's PCRE2 links too). Otherwise the host's answer is left in place so that the
# project still configures; only targets that link PCRE2 (the tokenizer and what uses it) cannot
# be built then, and scripts/test_neon.sh does not build them.
if(EXISTS /usr/lib/${KESTREL_CROSS_TRIPLE}/pkgconfig/libpcre2-8.pc)
  set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${KESTREL_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
endif()
