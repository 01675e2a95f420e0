"""Conformance of `kestrel serve` with the official `openai` Python client: completions, chat,
streaming, usage, logprobs, stop strings, seeds, errors and authentication.

Usage: test_openai.py KESTREL_BINARY MODEL.gguf
"""
import json
import subprocess
import sys
import unittest

import httpx
import openai

from server_util import Server

KESTREL, MODEL = sys.argv[1], sys.argv[2]
KEY = "sk-kestrel-test"
PROMPT = "The capital of France is"


class OpenAIConformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(KESTREL, MODEL, "--api-key", KEY, "--kv-tokens", "8192",
                            "--max-n", "4", "--max-tokens", "64", "--max-body-bytes", "65536")
        cls.client = openai.OpenAI(base_url=cls.server.url + "/v1", api_key=KEY, max_retries=0,
                                   timeout=300)
        cls.model = cls.client.models.list().data[0].id

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        assert rc == 0, "".join(cls.server.log)
        # No prompt or completion text in the log.
        log = "".join(cls.server.log)
        assert "France" not in log and "Paris" not in log, log

    def complete(self, **kw):
        args = dict(model=self.model, prompt=PROMPT, max_tokens=6, temperature=0)
        args.update(kw)
        return self.client.completions.create(**args)

    # --- completions -------------------------------------------------------------------------

    def test_models(self):
        models = self.client.models.list().data
        self.assertEqual(len(models), 1)
        self.assertEqual(models[0].object, "model")
        self.assertTrue(models[0].id.startswith("SmolLM2"))

    def test_greedy_completion_matches_kestrel_run(self):
        r = self.complete()
        self.assertEqual(r.object, "text_completion")
        self.assertEqual(r.choices[0].finish_reason, "length")
        cli = subprocess.run([KESTREL, "run", "-m", MODEL, "-p", PROMPT, "-n", "6", "--temp", "0",
                              "-t", "2"], capture_output=True, text=True, check=True)
        self.assertEqual(r.choices[0].text, cli.stdout.rstrip("\n"))
        self.assertEqual(r.usage.completion_tokens, 6)
        self.assertEqual(r.usage.total_tokens, r.usage.prompt_tokens + 6)

    def test_token_id_prompt_and_usage(self):
        ids = [504, 3575, 282, 4649, 314]
        r = self.client.completions.create(model=self.model, prompt=ids, max_tokens=3,
                                           temperature=0, echo=True)
        self.assertEqual(r.usage.prompt_tokens, len(ids))
        self.assertEqual(r.usage.completion_tokens, 3)
        # The same ids as text give the same continuation.
        text = r.choices[0].text
        cont = self.complete(prompt=text[:len(text) - len(text.lstrip())] + text.lstrip(),
                             max_tokens=1)
        self.assertTrue(cont.choices[0].text)
        with self.assertRaises(openai.BadRequestError):
            self.client.completions.create(model=self.model, prompt=[10**7], max_tokens=1)

    def test_echo(self):
        r = self.complete(echo=True, max_tokens=3)
        self.assertTrue(r.choices[0].text.startswith(PROMPT))
        self.assertGreater(len(r.choices[0].text), len(PROMPT))
        r0 = self.complete(echo=True, max_tokens=0)
        self.assertEqual(r0.choices[0].text, PROMPT)

    def test_logprobs(self):
        r = self.complete(logprobs=3, max_tokens=4)
        lp = r.choices[0].logprobs
        self.assertEqual(len(lp.tokens), 4)
        self.assertEqual("".join(lp.tokens), r.choices[0].text)
        for tok, l, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
            self.assertLessEqual(l, 0.0)
            self.assertEqual(len(top), 3)
            # Greedy: the chosen token is the most likely one.
            self.assertAlmostEqual(max(top.values()), l, places=4)
            self.assertIn(tok, top)
        self.assertEqual(lp.text_offset[0], 0)

    def test_echo_logprobs_score_the_prompt(self):
        ids = [504, 3575, 282, 4649, 314]
        s = self.client.completions.create(model=self.model, prompt=ids, max_tokens=0, echo=True,
                                           logprobs=5, temperature=0)
        lp = s.choices[0].logprobs
        self.assertEqual(s.choices[0].finish_reason, "length")
        self.assertEqual(len(lp.tokens), len(ids))
        self.assertEqual("".join(lp.tokens), s.choices[0].text)
        self.assertIsNone(lp.token_logprobs[0])  # the first token has no context
        self.assertIsNone(lp.top_logprobs[0])
        self.assertEqual(lp.text_offset[0], 0)
        # Each prompt position's distribution is the one a generation from the prompt's prefix
        # sees: the same alternatives and log-probabilities (within the rounding of a different
        # batch shape), and the prompt token's own log-probability where it is among them.
        for k in range(1, len(ids)):
            g = self.client.completions.create(model=self.model, prompt=ids[:k], max_tokens=1,
                                               logprobs=5, temperature=0)
            gtop = g.choices[0].logprobs.top_logprobs[0]
            stop = lp.top_logprobs[k]
            self.assertEqual(max(gtop, key=gtop.get), max(stop, key=stop.get), msg=k)
            for piece in set(gtop) & set(stop):
                self.assertAlmostEqual(gtop[piece], stop[piece], delta=0.02, msg=(k, piece))
            self.assertLessEqual(lp.token_logprobs[k], 0.0)
            if lp.tokens[k] in gtop:
                self.assertAlmostEqual(lp.token_logprobs[k], gtop[lp.tokens[k]], delta=0.02)
        # With generated tokens after the prompt, non-streamed and streamed.
        r = self.client.completions.create(model=self.model, prompt=ids, max_tokens=3, echo=True,
                                           logprobs=1, temperature=0)
        rl = r.choices[0].logprobs
        self.assertEqual(len(rl.tokens), len(ids) + 3)
        self.assertEqual("".join(rl.tokens), r.choices[0].text)
        for a, b in zip(rl.token_logprobs[1:len(ids)], lp.token_logprobs[1:]):
            self.assertAlmostEqual(a, b, delta=0.02)
        self.assertEqual(rl.text_offset, sorted(rl.text_offset))
        chunks = list(self.client.completions.create(model=self.model, prompt=ids, max_tokens=3,
                                                     echo=True, logprobs=1, temperature=0,
                                                     stream=True))
        self.assertEqual("".join(c.choices[0].text for c in chunks if c.choices),
                         r.choices[0].text)
        first = chunks[0].choices[0]
        self.assertEqual(first.text, s.choices[0].text)
        self.assertEqual(first.logprobs.tokens, lp.tokens)

    def test_stop_string(self):
        full = self.complete(max_tokens=12).choices[0].text
        stop = full[3:6]
        r = self.complete(max_tokens=12, stop=[stop])
        self.assertEqual(r.choices[0].finish_reason, "stop")
        self.assertEqual(r.choices[0].text, full[:full.index(stop)])

    def test_seed_reproduces_sampling(self):
        a = self.complete(temperature=1.0, seed=1234, max_tokens=8).choices[0].text
        b = self.complete(temperature=1.0, seed=1234, max_tokens=8).choices[0].text
        self.assertEqual(a, b)

    def test_n_choices(self):
        r = self.complete(n=3, temperature=1.0, seed=7, max_tokens=4)
        self.assertEqual(sorted(c.index for c in r.choices), [0, 1, 2])
        self.assertEqual(r.usage.completion_tokens, 12)

    def test_several_prompts(self):
        # A batch of prompts (text and token ids), n choices each: choice i answers prompt i // n
        # with the text a single-prompt request gives, echoed with its own prompt.
        texts = [PROMPT, "Once upon a time", "1, 2, 3,"]
        single = [self.complete(prompt=t, max_tokens=5).choices[0].text for t in texts]
        r = self.complete(prompt=texts, max_tokens=5, n=2, echo=True)
        self.assertEqual([c.index for c in sorted(r.choices, key=lambda c: c.index)],
                         list(range(6)))
        for c in r.choices:
            t = texts[c.index // 2]
            self.assertEqual(c.text, t + single[c.index // 2], msg=c.index)
        self.assertEqual(r.usage.completion_tokens, 30)
        one = [self.complete(prompt=t, max_tokens=1).usage.prompt_tokens for t in texts]
        self.assertEqual(r.usage.prompt_tokens, sum(one))
        ids = [[504, 3575, 282, 4649, 314], [504, 3575]]
        r = self.client.completions.create(model=self.model, prompt=ids, max_tokens=3,
                                           temperature=0)
        self.assertEqual(len(r.choices), 2)
        self.assertEqual(r.usage.prompt_tokens, 7)
        streamed = {}
        for chunk in self.complete(prompt=texts, max_tokens=5, stream=True):
            for c in chunk.choices:
                streamed[c.index] = streamed.get(c.index, "") + c.text
        self.assertEqual([streamed[i] for i in range(3)], single)
        for bad in ([], [PROMPT, 7], [[]], [PROMPT] * 17):
            with self.assertRaises(openai.BadRequestError, msg=str(bad)):
                self.complete(prompt=bad, max_tokens=1)

    def test_streamed_completion_equals_non_streamed(self):
        full = self.complete(max_tokens=8).choices[0].text
        chunks = list(self.client.completions.create(model=self.model, prompt=PROMPT, max_tokens=8,
                                                     temperature=0, stream=True))
        self.assertEqual("".join(c.choices[0].text for c in chunks if c.choices), full)
        self.assertEqual(chunks[-1].choices[0].finish_reason, "length")

    # --- chat ----------------------------------------------------------------------------------

    def chat(self, **kw):
        args = dict(model=self.model, messages=[{"role": "user", "content": "Say hello."}],
                    max_tokens=8, temperature=0)
        args.update(kw)
        return self.client.chat.completions.create(**args)

    def test_chat_and_stream_agree(self):
        r = self.chat()
        self.assertEqual(r.object, "chat.completion")
        self.assertEqual(r.choices[0].message.role, "assistant")
        self.assertTrue(r.choices[0].message.content)
        stream = self.chat(stream=True, stream_options={"include_usage": True})
        text, usage, finish, roles = "", None, None, []
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
                self.assertEqual(chunk.choices, [])
                continue
            d = chunk.choices[0].delta
            if d.role:
                roles.append(d.role)
            text += d.content or ""
            finish = chunk.choices[0].finish_reason or finish
        self.assertEqual(text, r.choices[0].message.content)
        self.assertEqual(roles, ["assistant"])
        self.assertEqual(finish, r.choices[0].finish_reason)
        self.assertEqual(usage.completion_tokens, r.usage.completion_tokens)
        self.assertEqual(usage.prompt_tokens, r.usage.prompt_tokens)

    def test_chat_stops_at_end_of_turn(self):
        r = self.chat(max_tokens=60, messages=[{"role": "user", "content": "Reply with one word: yes or no?"}])
        self.assertIn(r.choices[0].finish_reason, ("stop", "length"))
        self.assertNotIn("<|im_end|>", r.choices[0].message.content)

    def test_chat_logprobs(self):
        r = self.chat(logprobs=True, top_logprobs=2, max_tokens=3)
        content = r.choices[0].logprobs.content
        self.assertEqual(len(content), 3)
        for e in content:
            self.assertEqual(len(e.top_logprobs), 2)
            self.assertAlmostEqual(e.top_logprobs[0].logprob, e.logprob, places=4)

    def test_chat_content_parts(self):
        r = self.chat(messages=[{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
        self.assertTrue(r.choices[0].message.content)

    # --- errors and auth -----------------------------------------------------------------------

    def test_wrong_key_is_401(self):
        bad = openai.OpenAI(base_url=self.server.url + "/v1", api_key="nope", max_retries=0)
        with self.assertRaises(openai.AuthenticationError) as cm:
            bad.models.list()
        self.assertEqual(cm.exception.status_code, 401)
        self.assertEqual(self.server.get("/health")[0], 200)  # no key needed
        self.assertEqual(self.server.get("/metrics")[0], 401)
        self.assertEqual(self.server.get("/metrics", KEY)[0], 200)

    def test_bad_parameters_are_400(self):
        cases = [dict(temperature=5), dict(max_tokens=10_000), dict(n=99), dict(top_p=2),
                 dict(logit_bias={"1": 5}), dict(stop=["a", "b", "c", "d", "e"])]
        for kw in cases:
            with self.assertRaises(openai.BadRequestError, msg=str(kw)) as cm:
                self.complete(**kw)
            body = cm.exception.body
            self.assertIn("message", body)
            self.assertIsNotNone(body.get("param"), msg=str(kw))
        with self.assertRaises(openai.BadRequestError):
            self.client.chat.completions.create(model=self.model, messages=[], max_tokens=2)
        with self.assertRaises(openai.BadRequestError):
            self.client.chat.completions.create(
                model=self.model, messages=[{"role": "wizard", "content": "x"}], max_tokens=2)

    def test_prompt_too_long_is_400(self):
        with self.assertRaises(openai.BadRequestError) as cm:
            self.complete(prompt="hello " * 3000)
        self.assertEqual(cm.exception.code, "context_length_exceeded")

    def raw(self, path, body, headers=None):
        h = {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}
        h.update(headers or {})
        return httpx.post(self.server.url + path, content=body, headers=h, timeout=60)

    def test_malformed_json_and_unknown_route(self):
        r = self.raw("/v1/chat/completions", b'{"messages": [')
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["error"]["type"], "invalid_request_error")
        r = self.raw("/v1/nothing", b"{}")
        self.assertEqual(r.status_code, 404)
        self.assertIn("error", r.json())
        r = self.raw("/v1/completions", b"[1, 2]")
        self.assertEqual(r.status_code, 400)

    def test_oversized_body_is_413(self):
        r = self.raw("/v1/completions", json.dumps({"prompt": "x" * 100_000}).encode())
        self.assertEqual(r.status_code, 413)
        self.assertIn("error", r.json())

    def test_metrics_exposition(self):
        self.complete(max_tokens=2)
        _, text = self.server.get("/metrics", KEY)
        for name in ["kestrel_queue_depth", "kestrel_running_sequences",
                     "kestrel_generation_tokens_per_second", "kestrel_kv_cache_usage_ratio",
                     "kestrel_prefix_cache_hit_rate", "kestrel_time_to_first_token_seconds_bucket",
                     "kestrel_inter_token_latency_seconds_count"]:
            self.assertIn(name, text)
        self.assertGreater(self.server.metric("kestrel_generation_tokens_total", KEY), 0)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
