#!/usr/bin/env python3
"""Regenerates the tokenizer goldens (<model>.json) from llama.cpp through llama-cpp-python
(pip install llama-cpp-python==0.3.36).

For every corpus file and model: tokenize(add_bos=True, special=False) and (special=True), and
llama_detokenize of each id list (remove_special=False, unparse_special = the same flag). Also the
model's BOS/EOS/add_bos, its end-of-generation ids, and token_to_piece for a sample of ids (every
non-normal token, every id the corpus produced, and every 997th id). smollm2_pre_variants.json
holds the same for SmolLM2's vocabulary under the gpt-2, llama-bpe, qwen2 and default
pre-tokenizers (no small model of those families is at hand). Bytes are stored as hex, since
pieces and detokenized text need not be valid UTF-8.

Usage: generate.py [MODELS_DIR]   (default: ../../../models)
"""
import ctypes
import json
import os
import sys

import struct
import tempfile

import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}


def piece(vocab, tid, special):
    buf = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_token_to_piece(vocab, tid, buf, len(buf), 0, special)
    assert 0 <= n <= len(buf), (tid, n)
    return buf.raw[:n]


def detokenize(vocab, ids, special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, False, special)
    assert 0 <= n <= size, n
    return buf.raw[:n]


# Other pre-tokenizers, checked on SmolLM2's vocabulary: a copy of its GGUF with tokenizer.ggml.pre
# replaced. The header keeps its size (the chat template, replaced by blanks, absorbs the difference), so the
# tensor data stays aligned.
PRE_VARIANTS = ["gpt-2", "llama-bpe", "qwen2", "default"]


def gguf_string_at(data, key):
    """Offset of the u64 length of a string-valued metadata key, and that length."""
    k = key.encode()
    pos = data.index(struct.pack("<Q", len(k)) + k) + 8 + len(k)
    assert struct.unpack_from("<I", data, pos)[0] == 8  # GGUF string
    return pos + 4, struct.unpack_from("<Q", data, pos + 4)[0]


def make_pre_variant(src, dst, pre):
    with open(src, "rb") as f:
        data = bytearray(f.read())
    pos, n = gguf_string_at(data, "tokenizer.ggml.pre")
    delta = len(pre) - n
    data[pos:pos + 8 + n] = struct.pack("<Q", len(pre)) + pre.encode()
    tpos, tn = gguf_string_at(data, "tokenizer.chat_template")
    new_tn = tn - delta
    template = b" " * new_tn  # plain text: still a valid template, and not used here
    data[tpos:tpos + 8 + tn] = struct.pack("<Q", new_tn) + template
    with open(dst, "wb") as f:
        f.write(data)


def pre_variants(models_dir, files, corpus_dir):
    out = {"model": MODELS["smollm2"], "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for pre in PRE_VARIANTS:
            path = os.path.join(tmp, "variant.gguf")
            make_pre_variant(os.path.join(models_dir, MODELS["smollm2"]), path, pre)
            llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
            vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
            entry = {"add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)), "files": {}}
            for name in files:
                with open(os.path.join(corpus_dir, name), "rb") as f:
                    ids = llm.tokenize(f.read(), add_bos=True, special=False)
                entry["files"][name] = {"plain": ids,
                                        "detok_plain_hex": detokenize(vocab, ids, False).hex()}
            out["variants"][pre] = entry
            del llm
    with open(os.path.join(HERE, "smollm2_pre_variants.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"pre variants: {', '.join(PRE_VARIANTS)}")


def main():
    models_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "models")
    corpus_dir = os.path.join(HERE, "corpus")
    files = sorted(os.listdir(corpus_dir))
    for key, filename in MODELS.items():
        llm = llama_cpp.Llama(model_path=os.path.join(models_dir, filename), vocab_only=True,
                              verbose=False)
        vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        out = {
            "model": filename,
            "generator": f"llama-cpp-python {llama_cpp.__version__}",
            "n_vocab": n_vocab,
            "bos": llm.token_bos(),
            "eos": llm.token_eos(),
            "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
            "eog": [i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)],
            "control": [i for i in range(n_vocab)
                        if llama_cpp.llama_vocab_get_attr(vocab, i) & 8],
            "files": {},
        }
        seen = set()
        for name in files:
            with open(os.path.join(corpus_dir, name), "rb") as f:
                data = f.read()
            entry = {}
            for flag, label in [(False, "plain"), (True, "special")]:
                ids = llm.tokenize(data, add_bos=True, special=flag)
                seen.update(ids)
                entry[label] = ids
                entry[f"detok_{label}_hex"] = detokenize(vocab, ids, flag).hex()
            out["files"][name] = entry
        sample = sorted(seen | set(range(0, n_vocab, 997)) |
                        {i for i in range(n_vocab) if llama_cpp.llama_vocab_get_attr(vocab, i) != 4})
        out["pieces"] = [[i, piece(vocab, i, False).hex(), piece(vocab, i, True).hex()]
                         for i in sample]
        with open(os.path.join(HERE, f"{key}.json"), "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(f"{key}: {len(files)} files, {len(sample)} pieces")
    pre_variants(models_dir, files, corpus_dir)


if __name__ == "__main__":
    main()
