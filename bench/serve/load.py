"""Load benchmark for an OpenAI-compatible server (kestrel serve or llama.cpp's llama-server).

Each scenario sends `concurrency` streamed /v1/completions requests at once, every one with a
fixed prompt length and a fixed output length (ignore_eos), and measures from the client:
aggregate output tokens/s (all tokens / wall time of the wave), time to first token (TTFT) and
inter-token latency (ITL, gaps between streamed chunks) percentiles.

The shared-prefix scenario: one warm-up request carrying a long common prefix, then
`concurrency` requests that share it and differ only in a short suffix; its TTFT shows what
prefix caching saves.

Usage: load.py URL LABEL [--concurrency 1,4,16,32] [--prompt-tokens 64] [--output-tokens 128]
                         [--shared-prefix] [--out results.json]
"""
import argparse
import asyncio
import json
import random
import statistics
import time

import httpx

WORDS = ("river stone cloud lantern meadow copper violet harbor thunder maple quiet signal "
         "orchard canyon ember glacier whisper saddle pepper velvet").split()


def text_of(n_words, seed):
    # Deterministic filler, different for every seed from its first word on (so no two requests
    # share a cacheable prefix unless the scenario says so); about one token per word for
    # SmolLM2's tokenizer.
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def one(client, url, prompt, max_tokens, headers):
    body = {"model": "m", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "ignore_eos": True}
    t0 = time.perf_counter()
    ttft, last, gaps, chunks = None, None, [], 0
    async with client.stream("POST", url + "/v1/completions", json=body, headers=headers) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            j = json.loads(line[6:])
            if not j.get("choices") or not j["choices"][0].get("text"):
                continue
            now = time.perf_counter()
            if ttft is None:
                ttft = now - t0
            else:
                gaps.append(now - last)
            last = now
            chunks += 1
    return {"ttft": ttft, "gaps": gaps, "end": time.perf_counter() - t0, "chunks": chunks}


async def wave(url, prompts, max_tokens, headers):
    limits = httpx.Limits(max_connections=len(prompts) + 4)
    async with httpx.AsyncClient(timeout=3600, limits=limits) as client:
        t0 = time.perf_counter()
        res = await asyncio.gather(*[one(client, url, p, max_tokens, headers) for p in prompts])
        wall = time.perf_counter() - t0
    ttfts = [r["ttft"] for r in res]
    gaps = [g for r in res for g in r["gaps"]]
    tokens = max_tokens * len(prompts)
    return {"requests": len(prompts), "output_tokens": tokens, "wall_s": wall,
            "tokens_per_s": tokens / wall,
            "ttft_p50_s": pct(ttfts, 50), "ttft_p99_s": pct(ttfts, 99),
            "itl_p50_s": pct(gaps, 50), "itl_p99_s": pct(gaps, 99),
            "chunks_min": min(r["chunks"] for r in res)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("label")
    ap.add_argument("--concurrency", default="1,4,16,32")
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--output-tokens", type=int, default=128)
    ap.add_argument("--shared-prefix", action="store_true")
    ap.add_argument("--prefix-tokens", type=int, default=512)
    ap.add_argument("--api-key", default="")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    headers = {"Authorization": "Bearer " + a.api_key} if a.api_key else {}
    results = []
    for c in [int(x) for x in a.concurrency.split(",")]:
        if a.shared_prefix:
            prefix = "Reference notes: " + text_of(a.prefix_tokens, 99) + "\n"
            asyncio.run(wave(a.url, [prefix + "Question 0: summarize."], 4, headers))  # warm-up
            prompts = [prefix + f"Question {i + 1}: " + text_of(8, 10**6 + i) for i in range(c)]
            r = asyncio.run(wave(a.url, prompts, a.output_tokens, headers))
            r["scenario"] = f"shared-prefix {a.prefix_tokens}+~12 tokens"
        else:
            # Seeds unique across waves too: a later wave must not hit the cache of an earlier one.
            prompts = [text_of(a.prompt_tokens, c * 1000 + i) for i in range(c)]
            r = asyncio.run(wave(a.url, prompts, a.output_tokens, headers))
            r["scenario"] = f"fixed {a.prompt_tokens} in / {a.output_tokens} out"
        r["concurrency"] = c
        r["label"] = a.label
        results.append(r)
        print(f"{a.label:24s} c={c:3d} {r['scenario']:32s} {r['tokens_per_s']:8.1f} tok/s  "
              f"TTFT p50 {r['ttft_p50_s']:.3f} p99 {r['ttft_p99_s']:.3f} s  "
              f"ITL p50 {r['itl_p50_s'] * 1000:.1f} p99 {r['itl_p99_s'] * 1000:.1f} ms",
              flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
