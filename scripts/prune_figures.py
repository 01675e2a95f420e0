#!/usr/bin/env python3
"""Measures pruned and distilled models against their base with llama.cpp as the evaluator.

For each model: file size, perplexity on the evaluation text, KL-divergence KL(base || model) of
the next-token distributions and top-1 agreement with the base, all teacher-forced over the same
windows, plus Kestrel's generation speed (`kestrel run`'s printed tokens/s).

  python3 scripts/prune_figures.py KESTREL BASE.gguf EVAL.txt NAME=MODEL.gguf ...

Evaluation text used in docs/pruning.md: /usr/share/common-licenses/GPL-3 (Debian base-files);
calibration text: /usr/share/common-licenses/Apache-2.0 (also base-files), disjoint from it.
"""
import os
import re
import subprocess
import sys

import numpy as np
import llama_cpp

WINDOW = 256
N_TOKENS = int(os.environ.get("PRUNE_FIGURES_TOKENS", "1024"))


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def logits_of(path, tokens):
    llm = llama_cpp.Llama(path, n_ctx=WINDOW, n_batch=WINDOW, logits_all=True, n_threads=2,
                          verbose=False)
    out = []
    for p0 in range(0, len(tokens), WINDOW):
        w = tokens[p0:p0 + WINDOW]
        llm.reset()
        llm.eval(w)
        out.append(np.array(llm.scores[:len(w)], dtype=np.float32))
    del llm
    return np.concatenate(out)


def speed(kestrel, path):
    r = subprocess.run([kestrel, "run", "-m", path, "-p", "The history of the printing press",
                        "-n", "32", "--temp", "0", "--ignore-eos", "-t", "2"],
                       capture_output=True, text=True, check=True)
    m = re.search(r"generation: \d+ tokens, ([\d.]+) tokens/s", r.stderr)
    return float(m.group(1)) if m else float("nan")


def main():
    kestrel, base, eval_path = sys.argv[1:4]
    models = [a.split("=", 1) for a in sys.argv[4:]]
    text = open(eval_path, encoding="utf-8").read()
    tok = llama_cpp.Llama(base, vocab_only=True, verbose=False)
    tokens = tok.tokenize(text.encode(), add_bos=True)[:N_TOKENS]
    # Windows restart the context; the last position of a window has no next token inside it.
    targets = [(i, tokens[i + 1]) for i in range(len(tokens) - 1) if (i + 1) % WINDOW != 0]
    lb = log_softmax(logits_of(base, tokens))
    print(f"| model | size MiB | perplexity | KL vs base | top-1 vs base | kestrel tok/s |")
    print(f"|---|---|---|---|---|---|")
    for name, path in [("base", base)] + models:
        lm = lb if path == base else log_softmax(logits_of(path, tokens))
        nll = -np.mean([lm[i, t] for i, t in targets])
        kl = np.mean(np.sum(np.exp(lb) * (lb - lm), axis=-1))
        top1 = np.mean(lb.argmax(-1) == lm.argmax(-1))
        size = os.path.getsize(path) / 2**20
        tps = speed(kestrel, path) if os.environ.get("PRUNE_FIGURES_SPEED", "1") == "1" else float("nan")
        print(f"| {name} | {size:.0f} | {np.exp(nll):.3f} | {kl:.4f} | {100 * top1:.1f}% | "
              f"{tps:.1f} |", flush=True)


if __name__ == "__main__":
    main()
