#!/usr/bin/env python3
"""Writes a Llama-3-8B-shaped GGUF with random weights in Q4_0, Q8_0 or F16, for GPU speed runs.

Shape (Llama 3 8B): n_embd 4096, 32 layers, 32 heads, 8 KV heads (head_dim 128), n_ff 14336,
vocab 128256, separate output.weight, RoPE base 500000, context 8192. Bytes read per decoded token
are those of the real model (~4.3 GiB Q4_0, ~8 GiB Q8_0, ~15 GiB F16 including output.weight).

Quantized tensors are random blocks written directly (a small F16 scale per block and random
quants), F16 tensors seeded normal numbers of std 0.02; norms are 1. Logits are finite and
meaningless. The token embedding is F16 in every variant (it is only gathered, never multiplied).
The tokenizer is a minimal SentencePiece ("llama") vocabulary of 128256 tokens: <unk>, <s>, </s>,
the 256 byte tokens, then filler pieces.

Usage: make_random_llama8b.py OUT.gguf --type q4_0|q8_0|f16 [--layers N] [--seed N]
"""
import argparse
import sys

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("make_random_llama8b.py: the 'gguf' Python package is needed (pip install gguf)")

N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_VOCAB, N_CTX = 4096, 32, 8, 14336, 128256, 8192
HEAD_DIM = N_EMBD // N_HEAD
QT = gguf.GGMLQuantizationType


def random_matrix(rng, n_out, n_in, qtype):
    """A [n_out, n_in] weight in qtype as GGUFWriter takes it (uint8 blocks or float16)."""
    if qtype == "f16":
        return (rng.standard_normal((n_out, n_in), dtype=np.float32) * 0.02).astype(np.float16)
    n_blocks = n_out * n_in // 32
    if qtype == "q4_0":
        qs = rng.integers(0, 256, size=(n_blocks, 16), dtype=np.uint8)
    else:  # q8_0
        qs = rng.integers(-64, 64, size=(n_blocks, 32), dtype=np.int8).view(np.uint8)
    d = np.full((n_blocks, 1), 0.002, dtype=np.float16).view(np.uint8).reshape(n_blocks, 2)
    return np.concatenate([d, qs], axis=1).reshape(n_out, -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--type", choices=["q4_0", "q8_0", "f16"], required=True)
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--seed", type=int, default=8)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    qtype = {"q4_0": QT.Q4_0, "q8_0": QT.Q8_0, "f16": QT.F16}[a.type]

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(f"random-llama3-8b-{a.type}")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(500000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type({"q4_0": 2, "q8_0": 7, "f16": 1}[a.type])

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581t{i}" for i in range(N_VOCAB - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (N_VOCAB - 259)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 259 + [-float(i) for i in range(N_VOCAB - 259)])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    def matrix(name, n_out, n_in):
        m = random_matrix(rng, n_out, n_in, a.type)
        if a.type == "f16":
            w.add_tensor(name, m)
        else:
            w.add_tensor(name, m, raw_dtype=qtype)  # byte shape: the writer derives elements

    ones = np.ones(N_EMBD, dtype=np.float32)
    w.add_tensor("token_embd.weight",
                 (rng.standard_normal((N_VOCAB, N_EMBD), dtype=np.float32) * 0.02).astype(np.float16))
    for il in range(a.layers):
        p = f"blk.{il}."
        w.add_tensor(p + "attn_norm.weight", ones)
        matrix(p + "attn_q.weight", N_EMBD, N_EMBD)
        matrix(p + "attn_k.weight", N_HEAD_KV * HEAD_DIM, N_EMBD)
        matrix(p + "attn_v.weight", N_HEAD_KV * HEAD_DIM, N_EMBD)
        matrix(p + "attn_output.weight", N_EMBD, N_EMBD)
        w.add_tensor(p + "ffn_norm.weight", ones)
        matrix(p + "ffn_gate.weight", N_FF, N_EMBD)
        matrix(p + "ffn_up.weight", N_FF, N_EMBD)
        matrix(p + "ffn_down.weight", N_EMBD, N_FF)
    w.add_tensor("output_norm.weight", ones)
    matrix("output.weight", N_VOCAB, N_EMBD)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
