#!/usr/bin/env bash
# Installs the Debian packages Kestrel builds and tests with (skips apt when all are present).
set -euo pipefail
packages=(build-essential cmake pkg-config git python3 python3-pip libpcre2-dev libcli11-dev
  nlohmann-json3-dev libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev clang
  libclang-rt-14-dev)
# Arm kernels: cross compiler and qemu-user to run their tests (scripts/test_neon.sh).
packages+=(g++-aarch64-linux-gnu qemu-user googletest)
# kestrel serve: headless Chromium and its driver for the chat page test (tests/server).
packages+=(chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# kestrel serve tests: the official OpenAI client, httpx, selenium (tests/server).
python3 -c "import openai, httpx, selenium" 2>/dev/null ||
  python3 -m pip install --quiet openai httpx selenium
