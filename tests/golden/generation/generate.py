#!/usr/bin/env python3
"""Regenerates the generation goldens from llama.cpp (through llama-cpp-python).

For each model: greedy continuations (64 tokens, stopping early at an end-of-generation token) of
varied prompts (with the runner-up token and the top-1/top-2 logit margin of every step, so a
test can tell a real divergence from a near tie), and teacher-forced next-token logits over a real text (the first part of the GPL-3
text that Debian ships in /usr/share/common-licenses/GPL-3, a copy of which is kept beside this
script), stored as the top-16 token ids and logits of every position.

  pip install llama-cpp-python==0.3.36 && python3 tests/golden/generation/generate.py
"""
import json
import os
import sys

import numpy as np
import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MODELS = os.environ.get("KESTREL_MODELS", os.path.join(ROOT, "models"))

MODEL_FILES = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Here is a list of the planets in the solar system:\n1.",
    "Translate to French: 'The weather is nice today.'\nFrench:",
    "Q: What is 17 multiplied by 23?\nA:",
    "人工智能是",
    "The quick brown fox jumps over the lazy dog. The quick brown fox",
    "<|im_start|>user\nWhat is the boiling point of water?<|im_end|>\n<|im_start|>assistant\n",
    "In 1969, Neil Armstrong",
]
N_PREDICT = 64
N_TEACHER_TOKENS = 384
TOP = 16


def load(path):
    return llama_cpp.Llama(model_path=path, n_ctx=1024, n_batch=512, n_threads=2, seed=0,
                           logits_all=True, flash_attn=False, verbose=False)


def greedy(llm, vocab, prompt):
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
    llm.reset()
    llm.eval(tokens)
    out = []
    margins = []
    runner_up = []
    for _ in range(N_PREDICT):
        logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        top2 = np.argsort(-logits, kind="stable")[:2]
        tok = int(top2[0])
        out.append(tok)
        runner_up.append(int(top2[1]))
        margins.append(float(logits[top2[0]] - logits[top2[1]]))
        if llama_cpp.llama_vocab_is_eog(vocab, tok):
            break
        llm.eval([tok])
    return tokens, out, runner_up, margins


def teacher_forced(llm, text):
    tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:N_TEACHER_TOKENS]
    llm.reset()
    llm.eval(tokens)
    rows = []
    for i in range(len(tokens)):
        logits = np.array(llm.scores[i], dtype=np.float32)
        top = np.argsort(-logits, kind="stable")[:TOP]
        rows.append({"ids": [int(t) for t in top], "logits": [float(logits[t]) for t in top]})
    return tokens, rows


def main():
    with open(os.path.join(HERE, "gpl3_excerpt.txt"), encoding="utf-8") as f:
        text = f.read()
    for name, fname in MODEL_FILES.items():
        llm = load(os.path.join(MODELS, fname))
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        cases = []
        for p in PROMPTS:
            prompt_tokens, out, runner_up, margins = greedy(llm, vocab, p)
            cases.append({"prompt": p, "prompt_tokens": prompt_tokens, "output_tokens": out,
                          "runner_up": runner_up, "margins": margins})
        with open(os.path.join(HERE, f"{name}_greedy.json"), "w") as f:
            json.dump({"model": fname, "n_predict": N_PREDICT, "cases": cases}, f, indent=1)
        tokens, rows = teacher_forced(llm, text)
        with open(os.path.join(HERE, f"{name}_logits.json"), "w") as f:
            json.dump({"model": fname, "tokens": tokens, "top": rows}, f)
        print(f"{name}: {len(cases)} greedy cases, {len(tokens)} teacher-forced positions",
              file=sys.stderr)


if __name__ == "__main__":
    main()
