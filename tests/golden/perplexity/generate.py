#!/usr/bin/env python3
"""Regenerates golden.json: llama.cpp's perplexity of the test models over gpl3.txt (the GPL-3 text
that Debian's base-files package ships as /usr/share/common-licenses/GPL-3), computed with
llama-cpp-python 0.3.36 the way llama.cpp's perplexity tool does it:

- tokenize the whole text once, BOS added where the model's metadata says so;
- n_chunk = n_tokens // n_ctx chunks of n_ctx tokens (the remainder dropped), each evaluated from
  an empty KV cache, its first token replaced by BOS where the model adds one;
- score only positions j = n_ctx/2 .. n_ctx-2 (logits at j predict token j+1);
- PPL = exp(mean NLL), log-softmax in double.

  python3 tests/golden/perplexity/generate.py
"""
import json
import os

import numpy as np
import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models"))
TEXT = os.path.join(HERE, "gpl3.txt")
# model file -> (n_ctx, chunks): small, so the test that compares stays fast.
CASES = {"SmolLM2-135M-Instruct.Q4_1.gguf": (128, 4), "gemma-3-270m-q4_k_m.gguf": (128, 3)}


def perplexity(path, n_ctx, max_chunks):
    llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True,
                          verbose=False)
    text = open(TEXT, "rb").read()
    tokens = llm.tokenize(text, add_bos=True, special=False)
    add_bos = llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm.model))
    bos = llm.token_bos()
    n_chunk = min(len(tokens) // n_ctx, max_chunks)
    first = n_ctx // 2
    nll, count, running = 0.0, 0, []
    for c in range(n_chunk):
        chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
        if add_bos:
            chunk[0] = bos
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[:n_ctx], dtype=np.float64)
        for j in range(first, n_ctx - 1):
            row = logits[j]
            m = row.max()
            lse = np.log(np.exp(row - m).sum())
            nll -= row[chunk[j + 1]] - m - lse
            count += 1
        running.append(float(np.exp(nll / count)))
    return {"n_ctx": n_ctx, "chunks": n_chunk, "n_text_tokens": len(tokens), "n_scored": count,
            "ppl": float(np.exp(nll / count)), "running_ppl": running}


def main():
    out = {}
    for name, (n_ctx, chunks) in CASES.items():
        out[name] = perplexity(os.path.join(MODELS, name), n_ctx, chunks)
        print(name, out[name]["ppl"])
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
