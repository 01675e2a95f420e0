#!/usr/bin/env python3
"""Kestrel against llama.cpp on the same GGUF files, on this machine, in one run.

For each model and thread count, runs llama.cpp's llama-bench and `kestrel bench` with the same
tests (-p/-n/-d), one repetition each, alternating which goes first, for --reps rounds: machine
drift (other processes, clocks, thermals) then hits both. Prints, per test, both tools' mean and
standard deviation, the per-round ratio Kestrel / llama.cpp as median (min - max), and each result
as a fraction of the machine's limit:
  decode (tg): bytes read per token (the weights a step streams: every matrix, the output matrix
      included; the embedding table only when it is also the output) x tokens/s, over the DRAM read
      bandwidth that bench/bandwidth_probe measures at the same thread count;
  prefill (pp): matrix FLOPs per token (2 x the parameters of every matrix but the embedding and
      output, plus the attention products) x tokens/s, over the best GFLOP/s of Kestrel's matrix
      kernels in bench/kernels (BM_MatMul) at the same thread count.

llama-bench is built from the llama.cpp sources vendored in the llama-cpp-python 0.3.36 source
package (pip download), into .cache/, the first time it is needed.

    python3 bench/side_by_side.py                     # every model, 1 and 2 threads, 5 rounds
    python3 bench/side_by_side.py --quick             # 2 rounds, pp128 / tg32
    python3 bench/side_by_side.py --models smollm2-q4_1 --threads 2 --reps 3 --out result.md

Exit code 2 with a one-line message when a model, a binary or a tool is missing.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLAMA_CPP_PYTHON = "0.3.36"

# name -> (path relative to the repository, how it is made)
MODELS = {
    "smollm2-q4_1": ("models/SmolLM2-135M-Instruct.Q4_1.gguf", "scripts/fetch_models.sh"),
    "smollm2-q8_0": ("models/bench/SmolLM2-135M-Instruct.Q8_0.gguf", "make bench-models"),
    "smollm2-q4_0": ("models/bench/SmolLM2-135M-Instruct.Q4_0.gguf", "make bench-models"),
    "gemma3-q4_k_m": ("models/gemma-3-270m-q4_k_m.gguf", "scripts/fetch_models.sh"),
    "llama1b-q4_0": ("models/bench/random-llama-1b.Q4_0.gguf", "make bench-models"),
    "llama1b-q8_0": ("models/bench/random-llama-1b.Q8_0.gguf", "make bench-models"),
    "llama1b-q4_k_m": ("models/bench/random-llama-1b.Q4_K_M.gguf", "make bench-models"),
}


class UsageError(Exception):
    pass


def log(msg):
    print(f"[side_by_side] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    """Runs cmd, returns stdout; a failure becomes a UsageError with the tool's last stderr line."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        raise UsageError(f"{' '.join(map(str, cmd))} failed (exit {p.returncode}): "
                         + " | ".join(tail))
    return p.stdout


# ---------------------------------------------------------------------------------------------
# Tools


def build_llama_bench(cache):
    """Builds llama-bench and llama-quantize from llama-cpp-python's vendored llama.cpp into cache;
    returns llama-bench's path."""
    exe = cache / "llama-build" / "bin" / "llama-bench"
    if exe.exists() and exe.with_name("llama-quantize").exists():
        return exe
    src = cache / "llama-src"
    pkg = src / "pkg"
    if not (pkg / "vendor" / "llama.cpp" / "CMakeLists.txt").exists():
        log(f"downloading the llama-cpp-python {LLAMA_CPP_PYTHON} source package")
        run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
             f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "-d", str(src)])
        tarballs = sorted(src.glob("llama_cpp_python-*.tar.gz"))
        if not tarballs:
            raise UsageError(f"pip download left no llama_cpp_python tarball in {src}")
        with tarfile.open(tarballs[-1]) as tar:
            tar.extractall(src)
        unpacked = src / tarballs[-1].name[: -len(".tar.gz")]
        if pkg.exists():
            shutil.rmtree(pkg)
        unpacked.rename(pkg)
    build = cache / "llama-build"
    log("building llama-bench (several minutes on 2 cores)")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    run(["cmake", "-S", str(pkg / "vendor" / "llama.cpp"), "-B", str(build), *generator,
         "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF",
         "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF"])
    run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2), "--target", "llama-bench", "llama-quantize"])
    if not exe.exists():
        raise UsageError(f"the llama.cpp build produced no {exe}")
    return exe


def find_binary(build, rel, what):
    exe = build / rel
    if not exe.exists():
        raise UsageError(f"{what} not found at {exe}: build it with "
                         f"`cmake --build {build} --target {exe.name}`")
    return exe


# ---------------------------------------------------------------------------------------------
# Machine limits


def probe_bandwidth(probe, threads):
    out = run([str(probe), "--json", "--fma", "--threads", ",".join(map(str, threads))])
    return {int(r["threads"]): r for r in map(json.loads, out.splitlines())}


def peak_matmul(kernel_bench, threads):
    """Best GFLOP/s over the weight types of BM_MatMul, per thread count, and which type."""
    out = run([str(kernel_bench), "--benchmark_filter=BM_MatMul/", "--benchmark_format=json",
               "--benchmark_min_time=0.3"])
    best = {}
    for b in json.loads(out)["benchmarks"]:
        # name: BM_MatMul/q4_0/threads:2/real_time
        parts = b["name"].split("/")
        t = int(next(p for p in parts if p.startswith("threads:")).split(":")[1])
        g = float(b["GFLOP"])
        if t in threads and g > best.get(t, (0, ""))[0]:
            best[t] = (g, parts[1])
    return best


# ---------------------------------------------------------------------------------------------
# Work per token, from the GGUF tensor table


def model_costs(path, depth, n_prompt):
    """(bytes a decode step reads, matrix FLOPs per prefill token at this depth)."""
    try:
        import gguf
    except ImportError as e:
        raise UsageError("the 'gguf' Python package is needed (pip install gguf)") from e
    r = gguf.GGUFReader(str(path))
    arch = str(bytes(r.fields["general.architecture"].parts[-1]), "utf-8")

    def field(key, default=0):
        f = r.fields.get(f"{arch}.{key}")
        return int(f.parts[-1][0]) if f is not None else default

    tensors = {t.name: t for t in r.tensors}
    tied = "output.weight" not in tensors
    decode_bytes = 0
    prefill_params = 0
    for t in r.tensors:
        is_matrix = len(t.shape) >= 2 and min(int(d) for d in t.shape) > 1
        if t.name == "token_embd.weight":
            if tied:
                decode_bytes += int(t.n_bytes)  # also the output matrix
            continue
        decode_bytes += int(t.n_bytes)
        if is_matrix and t.name != "output.weight":
            prefill_params += int(t.n_elements)
    n_layer = field("block_count")
    n_embd = field("embedding_length")
    n_head = field("attention.head_count")
    head_dim = field("attention.key_length", n_embd // max(1, n_head))
    # q.k and p.v: 2 FLOPs per multiply-add, over depth + (mean position within the prompt) keys.
    keys = depth + (n_prompt + 1) / 2
    attn = 4.0 * n_layer * n_head * head_dim * keys
    return decode_bytes, 2.0 * prefill_params + attn


# ---------------------------------------------------------------------------------------------
# One round


def run_llama(exe, model, threads, args):
    cmd = [str(exe), "-m", str(model), "-t", str(threads), "-r", "1", "-o", "json",
           "-p", str(args.pp), "-n", str(args.tg), "-d", str(args.depth)]
    out = run(cmd)
    res = {}
    for r in json.loads(out):
        test = f"pp{r['n_prompt']}" if r["n_prompt"] > 0 else f"tg{r['n_gen']}"
        res[test] = float(r["avg_ts"])
    return res


def run_kestrel(exe, model, threads, args):
    cmd = [str(exe), "bench", "-m", str(model), "-t", str(threads), "-r", "1", "-o", "json",
           "-p", str(args.pp), "-n", str(args.tg), "-d", str(args.depth)]
    out = run(cmd)
    return {r["test"]: float(r["avg_ts"]) for r in json.loads(out)}


def summarize(xs):
    mean = statistics.fmean(xs)
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return mean, sd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="models: " + ", ".join(MODELS))
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma list of model names (default: all) or GGUF paths")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--reps", type=int, default=5, help="interleaved rounds per model and thread")
    ap.add_argument("--pp", type=int, default=512, help="prompt tokens of the pp test (0: none)")
    ap.add_argument("--tg", type=int, default=128, help="generated tokens of the tg test (0: none)")
    ap.add_argument("--depth", type=int, default=0, help="tokens already in the KV cache")
    ap.add_argument("--quick", action="store_true", help="2 rounds, pp128, tg32")
    ap.add_argument("--build", default=str(ROOT / "build"), help="Kestrel build directory")
    ap.add_argument("--llama-bench", help="llama-bench binary (default: build it into .cache/)")
    ap.add_argument("--no-limits", action="store_true",
                    help="skip the bandwidth probe and kernel peak (no fraction-of-limit columns)")
    ap.add_argument("--out", help="also write the Markdown report to this file")
    ap.add_argument("--json", help="write every sample and limit as JSON to this file")
    ap.add_argument("--build-llama-only", action="store_true",
                    help="only build llama-bench and llama-quantize into .cache/ (make bench-models)")
    args = ap.parse_args()
    if args.build_llama_only:
        try:
            build_llama_bench(ROOT / ".cache")
        except UsageError as e:
            print(f"side_by_side: error: {e}", file=sys.stderr)
            return 2
        return 0
    if args.quick:
        args.reps, args.pp, args.tg = 2, 128, 32
    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        ap.error(f"--threads: not a comma list of integers: {args.threads}")
    if args.reps < 1 or args.pp < 0 or args.tg < 0 or args.depth < 0 or min(threads) < 1:
        ap.error("--reps and --threads must be >= 1; --pp, --tg and --depth >= 0")
    if args.pp == 0 and args.tg == 0:
        ap.error("nothing to run: --pp and --tg are both 0")

    try:
        report = measure(args, threads)
    except UsageError as e:
        print(f"side_by_side: error: {e}", file=sys.stderr)
        return 2
    text = render(report)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def resolve_models(spec):
    models = []
    for name in [s for s in spec.split(",") if s]:
        if name in MODELS:
            rel, how = MODELS[name]
            # models/ or $KESTREL_MODELS, as scripts/fetch_models.sh and make_bench_models.sh use.
            models_dir = Path(os.environ.get("KESTREL_MODELS", ROOT / "models"))
            path = models_dir / Path(rel).relative_to("models")
            if not path.exists():
                raise UsageError(f"model {name} missing: {path} (make it with `{how}`)")
        else:
            path = Path(name)
            if not path.exists():
                raise UsageError(f"unknown model name or missing file: {name} "
                                 f"(names: {', '.join(MODELS)})")
        models.append((name, path))
    return models


def measure(args, threads):
    models = resolve_models(args.models)
    build = Path(args.build)
    kestrel = find_binary(build, "apps/kestrel/kestrel", "kestrel")
    llama = Path(args.llama_bench) if args.llama_bench else build_llama_bench(ROOT / ".cache")
    if not llama.exists():
        raise UsageError(f"llama-bench not found at {llama}")

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python3 bench/side_by_side.py " + " ".join(sys.argv[1:]),
        "cpu": cpu_name(),
        "load_before": os.getloadavg(),
        "reps": args.reps, "pp": args.pp, "tg": args.tg, "depth": args.depth,
        "limits": {}, "rows": [],
    }
    if not args.no_limits:
        probe = find_binary(build, "bench/bandwidth_probe", "bandwidth_probe")
        kb = find_binary(build, "bench/kernels/kernel_bench", "kernel_bench")
        log("measuring DRAM read bandwidth")
        bw = probe_bandwidth(probe, threads)
        log("measuring the peak of Kestrel's matrix kernels")
        peak = peak_matmul(kb, threads)
        report["limits"] = {str(t): {"read_gbs": bw[t]["read_gbs"],
                                     "fma_gflops": bw[t].get("fma_gflops"),
                                     "matmul_gflops": peak.get(t, (None,))[0],
                                     "matmul_best_type": peak.get(t, (None, None))[1]}
                            for t in threads}

    for name, path in models:
        decode_bytes, prefill_flops = model_costs(path, args.depth, args.pp)
        for t in threads:
            samples = {"llama.cpp": {}, "kestrel": {}}
            for rnd in range(args.reps):
                order = ["llama.cpp", "kestrel"] if rnd % 2 == 0 else ["kestrel", "llama.cpp"]
                for tool in order:
                    log(f"{name} t={t} round {rnd + 1}/{args.reps}: {tool}")
                    res = (run_llama(llama, path, t, args) if tool == "llama.cpp"
                           else run_kestrel(kestrel, path, t, args))
                    for test, ts in res.items():
                        samples[tool].setdefault(test, []).append(ts)
            for test in samples["llama.cpp"]:
                if test not in samples["kestrel"]:
                    continue
                lc, ks = samples["llama.cpp"][test], samples["kestrel"][test]
                ratios = [k / l for k, l in zip(ks, lc)]
                limit = report["limits"].get(str(t), {})
                if test.startswith("tg"):
                    work, cap = decode_bytes / 1e9, limit.get("read_gbs")
                else:
                    work, cap = prefill_flops / 1e9, limit.get("matmul_gflops")
                report["rows"].append({
                    "model": name, "file": path.name, "threads": t, "test": test,
                    "depth": args.depth, "llama_ts": lc, "kestrel_ts": ks, "ratios": ratios,
                    "work_per_token_g": work, "limit": cap,
                })
            save_partial(args, report)
    report["load_after"] = os.getloadavg()
    return report


def save_partial(args, report):
    """Writes what is measured so far to --out/--json, so a long run cut short keeps its rows."""
    partial = dict(report, load_after=os.getloadavg())
    if args.out:
        Path(args.out).write_text(render(partial) + "\n\n(partial: the run is not finished)\n")
    if args.json:
        Path(args.json).write_text(json.dumps(partial, indent=2) + "\n")


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def pct(x):
    return "-" if x is None else f"{100 * x:.0f}%"


def render(r):
    lines = [
        f"Command: `{r['command']}`",
        f"Date: {r['date']}; CPU: {r['cpu']}; load average before "
        f"{r['load_before'][0]:.2f}, after {r['load_after'][0]:.2f}",
        f"Rounds: {r['reps']} interleaved (llama.cpp and Kestrel alternate first), "
        f"pp{r['pp']} / tg{r['tg']} at depth {r['depth']}.",
        "",
    ]
    if r["limits"]:
        lines += ["| threads | DRAM read GB/s (bandwidth_probe) | Kestrel matmul peak GFLOP/s "
                  "(kernel_bench BM_MatMul, best type) | FP32 FMA peak GFLOP/s "
                  "(bandwidth_probe --fma) |", "| ---: | ---: | ---: | ---: |"]
        for t, lim in r["limits"].items():
            g = lim["matmul_gflops"]
            f = lim.get("fma_gflops")
            lines.append(f"| {t} | {lim['read_gbs']:.1f} | "
                         + (f"{g:.2f} ({lim['matmul_best_type']})" if g else "-") + " | "
                         + (f"{f:.1f}" if f else "-") + " |")
        lines.append("")
    lines += ["| model | threads | test | llama.cpp t/s | Kestrel t/s | Kestrel / llama.cpp "
              "median (min - max) | llama.cpp of limit | Kestrel of limit |",
              "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in r["rows"]:
        lm, ls = summarize(row["llama_ts"])
        km, ks = summarize(row["kestrel_ts"])
        rs = row["ratios"]
        cap = row["limit"]
        frac = (lambda ts: None) if not cap else (lambda ts: ts * row["work_per_token_g"] / cap)
        test = row["test"] + (f" @ d{row['depth']}" if row["depth"] else "")
        lines.append(
            f"| {row['file']} | {row['threads']} | {test} | {lm:.2f} ± {ls:.2f} | "
            f"{km:.2f} ± {ks:.2f} | {statistics.median(rs):.3f} ({min(rs):.3f} - {max(rs):.3f}) | "
            f"{pct(frac(lm))} | {pct(frac(km))} |")
    return "\n".join(lines)


if __name__ == "__main__":
    t0 = time.time()
    code = main()
    log(f"done in {time.time() - t0:.0f} s")
    sys.exit(code)
