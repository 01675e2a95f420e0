#!/usr/bin/env python3
"""Writes a Llama-3.2-1B-shaped GGUF model with random F16 weights, for speed benchmarks only.

Shape: n_embd 2048, 16 layers, 32 heads, 8 KV heads (head_dim 64), n_ff 8192, vocab 128256,
tied embeddings (no output.weight), RoPE base 500000: the tensors a Llama 3.2 1B GGUF has, so the
bytes read per token are the same (~2.5 GB in F16). The weights are seeded normal numbers (std
0.02, norms 1), so the model computes finite but meaningless logits.

The tokenizer is a synthetic byte-level BPE ("gpt2" model, "llama-bpe" pre-tokenizer) of exactly
128256 tokens that both Kestrel's and llama.cpp's loaders accept: the 256 byte symbols, 127744
merges of earlier tokens (seeded), then 256 control tokens at ids 128000.. as Llama 3 places them
(<|begin_of_text|> = 128000, <|end_of_text|> = 128001).

Same seed, same bytes. Usage: make_random_model.py OUT.gguf [--seed N] [--layers N]
"""
import argparse
import random
import sys

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("make_random_model.py: the 'gguf' Python package is needed (pip install gguf)")

N_EMBD = 2048
N_HEAD = 32
N_HEAD_KV = 8
HEAD_DIM = N_EMBD // N_HEAD
N_FF = 8192
N_VOCAB = 128256
N_SPECIAL = 256
N_REGULAR = N_VOCAB - N_SPECIAL
MAX_TOKEN_CHARS = 16


def byte_symbols():
    """GPT-2's printable stand-in for each byte value (byte-level BPE token text)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + \
        list(range(0xAE, 0xFF + 1))
    chars = {}
    extra = 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def make_vocab(seed):
    """Tokens, types and merges: every merged token is the concatenation of two earlier ones."""
    rng = random.Random(seed)
    tokens = byte_symbols()
    seen = set(tokens)
    merges = []
    while len(tokens) < N_REGULAR:
        # Squaring the uniform draw favours early (short) tokens, as real merge lists do.
        a = tokens[int(len(tokens) * rng.random() ** 2)]
        b = tokens[int(len(tokens) * rng.random() ** 2)]
        t = a + b
        if len(t) > MAX_TOKEN_CHARS or t in seen:
            continue
        seen.add(t)
        tokens.append(t)
        merges.append(f"{a} {b}")
    special = ["<|begin_of_text|>", "<|end_of_text|>"]
    special += [f"<|reserved_special_token_{i}|>" for i in range(N_SPECIAL - len(special))]
    types = [int(gguf.TokenType.NORMAL)] * N_REGULAR + [int(gguf.TokenType.CONTROL)] * N_SPECIAL
    return tokens + special, types, merges


def tensor_plan(n_layer):
    """(name, numpy shape = reversed GGUF ne, kind) in file order."""
    plan = [("token_embd.weight", (N_VOCAB, N_EMBD), "w")]
    kv_dim = N_HEAD_KV * HEAD_DIM
    for i in range(n_layer):
        p = f"blk.{i}."
        plan += [
            (p + "attn_norm.weight", (N_EMBD,), "norm"),
            (p + "attn_q.weight", (N_EMBD, N_EMBD), "w"),
            (p + "attn_k.weight", (kv_dim, N_EMBD), "w"),
            (p + "attn_v.weight", (kv_dim, N_EMBD), "w"),
            (p + "attn_output.weight", (N_EMBD, N_EMBD), "w"),
            (p + "ffn_norm.weight", (N_EMBD,), "norm"),
            (p + "ffn_gate.weight", (N_FF, N_EMBD), "w"),
            (p + "ffn_up.weight", (N_FF, N_EMBD), "w"),
            (p + "ffn_down.weight", (N_EMBD, N_FF), "w"),
        ]
    plan.append(("output_norm.weight", (N_EMBD,), "norm"))
    return plan


def make_tensor(shape, kind, rng):
    if kind == "norm":
        return np.ones(shape, dtype=np.float32)  # norms stay F32, as converters write them
    out = np.empty(shape, dtype=np.float16)
    rows = max(1, (1 << 24) // shape[-1])  # ~64 MB of float32 at a time
    for r0 in range(0, shape[0], rows):
        block = rng.standard_normal((min(rows, shape[0] - r0), shape[-1]), dtype=np.float32)
        block *= 0.02
        out[r0:r0 + block.shape[0]] = block
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="output .gguf path")
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--layers", type=int, default=16, help="block count (16 as Llama 3.2 1B)")
    args = ap.parse_args()
    if args.layers < 1:
        ap.error("--layers must be >= 1")

    tokens, types, merges = make_vocab(args.seed)
    assert len(tokens) == N_VOCAB

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name("Random Llama-3.2-1B-shape")
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    w.add_context_length(131072)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(args.layers)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(N_VOCAB)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(N_REGULAR)
    w.add_eos_token_id(N_REGULAR + 1)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    plan = tensor_plan(args.layers)
    for name, shape, kind in plan:
        dtype = np.float32 if kind == "norm" else np.float16
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        w.add_tensor_info(name, shape, np.dtype(dtype), nbytes)
    # Header, metadata and tensor table first, then the tensors one at a time, so the ~2.5 GB of
    # weights never sit in memory together.
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for index, (name, shape, kind) in enumerate(plan):
        rng = np.random.default_rng([args.seed, index])
        w.write_tensor_data(make_tensor(shape, kind, rng))
    w.close()
    print(f"wrote {args.out}: {len(plan)} tensors, vocab {N_VOCAB}, {args.layers} layers")


if __name__ == "__main__":
    main()
