#!/usr/bin/env python3
"""One run -> docs/compression.md's results table, docs/compression.json and docs/compression.png.

For every entry of ENTRIES (a model, a label, a method and how to make its GGUF file) it measures,
with the kestrel binary:
  size       the file's bytes
  PPL, KL    `kestrel perplexity -f EVAL --kl-base BASE -c CTX --chunks CHUNKS -o json`: perplexity,
             mean KL-divergence from the base, top-1 agreement with the base, delta perplexity
  decode     `kestrel bench -p 0 -n TG -r REPS -o json`: generation tokens/s (tg)
The base of each model is its shipped quantized file dequantized to F16 with
`kestrel quantize --allow-requantize SHIPPED BASE f16`.

Texts (Debian's base-files package; disjoint): evaluation /usr/share/common-licenses/GPL-3 (a
copy: tests/golden/perplexity/gpl3.txt), calibration /usr/share/common-licenses/Apache-2.0 (a copy:
tests/compress/data/calibration.txt).

To add a method (prune, distill, ...), append an Entry whose `make` is the command line that
writes its file (a list with {base}, {out}, {calib}, {kestrel} placeholders), or whose `path`
names an existing file; method names one curve in the plot.

  python3 scripts/compression_report.py [--kestrel build/apps/kestrel/kestrel]
or, one process per model, then merged:
  python3 scripts/compression_report.py --models SmolLM2-135M --json /tmp/a.json &
  python3 scripts/compression_report.py --models Gemma3-270M --json /tmp/b.json; wait
  python3 scripts/compression_report.py --render /tmp/a.json /tmp/b.json
"""
import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MODELS = os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models"))
WORK = os.path.join(ROOT, ".cache", "compression")
EVAL_TEXT = os.path.join(ROOT, "tests", "golden", "perplexity", "gpl3.txt")
CALIB_TEXT = os.path.join(ROOT, "tests", "compress", "data", "calibration.txt")

SHIPPED = {
    "SmolLM2-135M": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "Gemma3-270M": "gemma-3-270m-q4_k_m.gguf",
}


@dataclasses.dataclass
class Entry:
    model: str            # key of SHIPPED
    label: str            # row label, e.g. "q4_k_m + calib"
    method: str           # curve in the plot: "quantize", "quantize + calib", "prune", ...
    make: list = None     # command writing {out}; None with path: an existing file
    path: str = None      # the file (default: WORK/model/label.gguf)


CALIB = ["--calib", "{calib}", "--calib-ctx", "128", "--calib-tokens", "256"]


def quant(model, t, calib=False):
    cmd = ["{kestrel}", "quantize", "-q", "{base}", "{out}", t] + (CALIB if calib else [])
    return Entry(model, t + (" + calib" if calib else ""),
                 "quantize + calib" if calib else "quantize", cmd)


ENTRIES = []
for _m in SHIPPED:
    ENTRIES += [Entry(_m, "f16 (base)", "base", None)]
    ENTRIES += [quant(_m, t) for t in ("q8_0", "q4_k_m", "q4_0")]
    ENTRIES += [quant(_m, t, calib=True) for t in ("q4_k_m", "q4_0")]
ENTRIES = [e for e in ENTRIES if e.model != "Gemma3-270M" or "q4_0" not in e.label]


def prune(label, *args, calib=False):
    cmd = ["{kestrel}", "prune", "{base}", "{out}", *args]
    return Entry("SmolLM2-135M", label, "prune",
                 cmd + (["--calib", "{calib}", "--calib-tokens", "256"] if calib else []))


# Pruning (SmolLM2; F16 outputs): unstructured and 2:4 keep the base's size (zeros are stored),
# structured removal writes a smaller dense model. None of them is retrained.
ENTRIES += [
    prune("magnitude 25%", "--method", "magnitude", "--sparsity", "0.25"),
    prune("magnitude 50%", "--method", "magnitude", "--sparsity", "0.5"),
    prune("wanda 50%", "--method", "wanda", "--sparsity", "0.5", calib=True),
    prune("2:4 (wanda)", "--method", "2:4", calib=True),
    prune("ffn -384 channels", "--method", "ffn", "--remove", "384", calib=True),
    prune("layers -4", "--method", "layers", "--remove", "4", calib=True),
]
# Distillation: the same 26-layer student as "layers -4", trained on the calibration text to
# match the base's next-token distributions.
ENTRIES.append(Entry("SmolLM2-135M", "distill 26 layers", "distill",
                     ["{kestrel}", "distill", "-m", "{base}", "-o", "{out}", "--layers", "26",
                      "--data", "{calib}", "--calib-tokens", "256", "--steps", "40",
                      "--seq-len", "64", "--lr", "1e-4"]))


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def base_path(model):
    return os.path.join(WORK, model, "f16.gguf")


def entry_path(e):
    if e.path:
        return e.path
    if e.make is None:
        return base_path(e.model)
    return os.path.join(WORK, e.model, re.sub(r"[^a-z0-9_.]+", "-", e.label.lower()) + ".gguf")


def measure(e, args):
    path = entry_path(e)
    base = base_path(e.model)
    fmt = {"kestrel": args.kestrel, "base": base, "out": path, "calib": CALIB_TEXT}
    t0 = time.time()
    if e.make is not None and (args.remake or not os.path.exists(path)):
        run([a.format(**fmt) for a in e.make])
    make_s = time.time() - t0
    is_base = os.path.abspath(path) == os.path.abspath(base)
    ppl = json.loads(run([args.kestrel, "perplexity", "-m", path, "-f", EVAL_TEXT, "-c",
                          str(args.ctx), "--chunks", str(args.chunks), "-o", "json", "-t",
                          str(args.threads)] + ([] if is_base else ["--kl-base", base])))
    if is_base:  # against itself: nothing to run twice
        ppl.update(base_ppl=ppl["ppl"], delta_ppl_pct=0.0, kl_mean=0.0, kl_stderr=0.0, kl_p99=0.0,
                   top1=1.0)
    bench = json.loads(run([args.kestrel, "bench", "-m", path, "-p", "0", "-n", str(args.tg),
                            "-r", str(args.reps), "-t", str(args.threads), "-o", "json"]))
    tg = [b for b in bench if b["n_gen"] > 0][0]
    return {"model": e.model, "label": e.label, "method": e.method, "file": os.path.relpath(path, ROOT),
            "bytes": os.path.getsize(path), "ppl": ppl["ppl"], "base_ppl": ppl["base_ppl"],
            "delta_ppl_pct": ppl["delta_ppl_pct"], "kl_mean": ppl["kl_mean"],
            "kl_stderr": ppl["kl_stderr"], "kl_p99": ppl["kl_p99"], "top1": ppl["top1"],
            "n_scored": ppl["n_scored"], "tg_tokens_per_s": tg["avg_ts"],
            "tg_stddev": tg["stddev_ts"], "make_seconds": round(make_s, 1)}


def write_table(results, args):
    lines = ["| model | file | method | size (MiB) | PPL | ΔPPL | mean KL | KL p99 | top-1 | decode tok/s |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append("| %s | %s | %s | %.1f | %.3f | %+.2f%% | %.5f ± %.5f | %.4f | %.2f%% | %.1f |" % (
            r["model"], r["label"], r["method"], r["bytes"] / 2**20, r["ppl"], r["delta_ppl_pct"],
            r["kl_mean"], r["kl_stderr"], r["kl_p99"], 100 * r["top1"], r["tg_tokens_per_s"]))
    setup = ("Measured by `python3 scripts/compression_report.py` on %s: evaluation text GPL-3 "
             "(Debian base-files), %d chunks of %d tokens (%d tokens scored per file), decode "
             "speed `kestrel bench -p 0 -n %d -r %d -t %d`." % (
                 time.strftime("%Y-%m-%d"), args.chunks, args.ctx, results[0]["n_scored"],
                 args.tg, args.reps, args.threads))
    block = "<!-- results:begin -->\n" + setup + "\n\n" + "\n".join(lines) + "\n<!-- results:end -->"
    doc_path = os.path.join(ROOT, "docs", "compression.md")
    doc = open(doc_path).read() if os.path.exists(doc_path) else ""
    if "<!-- results:begin -->" in doc:
        doc = re.sub(r"<!-- results:begin -->.*<!-- results:end -->", lambda m: block, doc, flags=re.S)
    else:
        doc += "\n" + block + "\n"
    with open(doc_path, "w") as f:
        f.write(doc)


def plot(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = list(dict.fromkeys(r["model"] for r in results))
    fig, axes = plt.subplots(len(models), 3, figsize=(15, 4.2 * len(models)), squeeze=False)
    markers = {"base": "*", "quantize": "o", "quantize + calib": "s", "prune": "v", "distill": "D"}
    for row, m in enumerate(models):
        rs = [r for r in results if r["model"] == m]
        for col, (key, name, logy) in enumerate((("kl_mean", "mean KL-divergence vs F16 (nats)", True),
                                                 ("ppl", "perplexity", True),
                                                 ("tg_tokens_per_s", "decode tokens/s", False))):
            ax = axes[row][col]
            for method in dict.fromkeys(r["method"] for r in rs):
                pts = sorted((r for r in rs if r["method"] == method), key=lambda r: r["bytes"])
                xs = [r["bytes"] / 2**20 for r in pts]
                ys = [max(r[key], 1e-6) if logy else r[key] for r in pts]
                ax.plot(xs, ys, marker=markers.get(method, "^"), label=method,
                        # a line joins the levels of one quantizer; prune's points are different
                        # methods, so they stand alone
                        linestyle="-" if len(pts) > 1 and method.startswith("quantize") else "none")
                for x, y, r in zip(xs, ys, pts):
                    ax.annotate(r["label"].replace(" + calib", "+c"), (x, y), fontsize=7,
                                xytext=(3, 3), textcoords="offset points")
            if logy:
                ax.set_yscale("log")
            ax.set_xlabel("file size (MiB)")
            ax.set_title("%s: %s" % (m, name), fontsize=10)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(ROOT, "docs", "compression.png"), dpi=90)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kestrel", default=os.path.join(ROOT, "build", "apps", "kestrel", "kestrel"))
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--chunks", type=int, default=2)
    ap.add_argument("--tg", type=int, default=8)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default=",".join(SHIPPED))
    ap.add_argument("--remake", action="store_true", help="rebuild files that exist already")
    ap.add_argument("--json", default=os.path.join(ROOT, "docs", "compression.json"),
                    help="where the measurements go")
    ap.add_argument("--render", nargs="*", default=None,
                    help="no measuring: merge these JSON files (e.g. one per model, measured in "
                         "parallel) into docs/compression.json, the table and the plot")
    args = ap.parse_args()
    if args.render is not None:
        results = [r for path in args.render for r in json.load(open(path))]
        with open(os.path.join(ROOT, "docs", "compression.json"), "w") as f:
            json.dump(results, f, indent=1)
        write_table(results, args)
        plot(results)
        return
    wanted = args.models.split(",")
    results = []
    t0 = time.time()
    for m in wanted:
        os.makedirs(os.path.join(WORK, m), exist_ok=True)
        if args.remake or not os.path.exists(base_path(m)):
            run([args.kestrel, "quantize", "-q", "--allow-requantize",
                 os.path.join(MODELS, SHIPPED[m]), base_path(m), "f16"])
    for e in ENTRIES:
        if e.model not in wanted:
            continue
        results.append(measure(e, args))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.render is None and args.json != os.path.join(ROOT, "docs", "compression.json"):
        return  # one part of a parallel run: --render merges the parts
    write_table(results, args)
    plot(results)
    print("done in %.0f s" % (time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
