"""Fault tests for `kestrel serve`: client disconnects mid-stream, malformed and oversized bodies,
ten times more requests than the queue holds, SIGTERM under load. The server must stay up, every
accepted request must complete or get an error, and the KV cache must be empty afterwards. Run
against an AddressSanitizer build, a leak at exit makes the exit code non-zero and fails the test.

Usage: test_faults.py KESTREL_BINARY MODEL.gguf
"""
import concurrent.futures
import json
import signal
import sys
import threading
import time
import unittest

import httpx

from server_util import Server

KESTREL, MODEL = sys.argv[1], sys.argv[2]


def wait_for(cond, seconds=120):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def body(max_tokens, stream=False, prompt="Once upon a time"):
    return {"model": "m", "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
            "stream": stream}


class Faults(unittest.TestCase):
    def start(self, *extra):
        s = Server(KESTREL, MODEL, "--kv-tokens", "4096", "-c", "512", *extra)
        self.addCleanup(s.stop, signal.SIGKILL)
        return s

    def idle(self, s):
        return (s.metric("kestrel_running_sequences") == 0 and
                s.metric("kestrel_queue_depth") == 0 and
                s.metric("kestrel_kv_cache_usage_ratio") == 0)

    def test_disconnect_garbage_and_overload(self):
        s = self.start("--max-running", "2", "--max-queue", "2", "--max-body-bytes", "4096")
        # 1. A client that disconnects after the first event: its sequence is cancelled.
        with httpx.Client(timeout=120) as c:
            with c.stream("POST", s.url + "/v1/completions", json=body(400, stream=True)) as r:
                self.assertEqual(r.status_code, 200)
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        break
        self.assertTrue(wait_for(lambda: self.idle(s)), "cancelled sequence still running")
        self.assertLess(s.metric("kestrel_generation_tokens_total"), 400)

        # 2. Malformed and oversized requests: 4xx with an error object, server unharmed.
        bad = [b"", b"{", b"null", b'{"prompt": 5}', b'{"prompt": "x", "max_tokens": "9"}',
               b"\xff\xfe\x00garbage", json.dumps({"prompt": "y" * 10000}).encode()]
        for payload in bad:
            r = httpx.post(s.url + "/v1/completions", content=payload, timeout=60)
            self.assertIn(r.status_code, (400, 413), payload[:40])
            self.assertIn("error", r.json())
        r = httpx.post(s.url + "/v1/chat/completions", content=b'{"messages": 3}', timeout=60)
        self.assertEqual(r.status_code, 400)

        # 3. Forty requests at once against room for four: the rest get 429 with Retry-After,
        # every accepted one completes.
        def one(i):
            r = httpx.post(s.url + "/v1/completions", json=body(3, prompt=f"Item {i}:"),
                           timeout=300)
            return r.status_code, r.headers.get("retry-after"), r.json()
        with concurrent.futures.ThreadPoolExecutor(40) as ex:
            results = list(ex.map(one, range(40)))
        ok = [r for r in results if r[0] == 200]
        limited = [r for r in results if r[0] == 429]
        self.assertEqual(len(ok) + len(limited), 40, [r[0] for r in results])
        self.assertGreaterEqual(len(ok), 4)
        self.assertGreater(len(limited), 0)
        for _, retry, j in limited:
            self.assertEqual(retry, "1")
            self.assertEqual(j["error"]["code"], "rate_limit_exceeded")
        for _, _, j in ok:
            self.assertEqual(j["usage"]["completion_tokens"], 3)
        self.assertTrue(wait_for(lambda: self.idle(s)))
        self.assertEqual(s.get("/health")[0], 200)
        self.assertGreater(s.metric("kestrel_requests_rejected_total"), 0)
        self.assertEqual(s.stop(), 0, "".join(s.log))

    def test_sigterm_under_load_finishes_streams(self):
        s = self.start("--max-running", "8", "--shutdown-grace", "120")
        outcomes = [None] * 5
        started = threading.Barrier(6)

        def stream(i):
            events = []
            try:
                with httpx.Client(timeout=300) as c:
                    with c.stream("POST", s.url + "/v1/chat/completions",
                                  json={"messages": [{"role": "user", "content": f"Count to {i + 5}"}],
                                        "max_tokens": 12, "stream": True, "temperature": 0}) as r:
                        first = True
                        for line in r.iter_lines():
                            if not line.startswith("data: "):
                                continue
                            if first:
                                first = False
                                started.wait()
                            events.append(line[6:])
                outcomes[i] = events
            except Exception as e:  # noqa: BLE001 - recorded and asserted below
                outcomes[i] = e
                started.abort()

        threads = [threading.Thread(target=stream, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        started.wait()
        s.proc.send_signal(signal.SIGTERM)
        # New work is refused while the in-flight streams finish.
        self.assertTrue(wait_for(lambda: self.refused(s), 30))
        for t in threads:
            t.join(300)
        for i, events in enumerate(outcomes):
            self.assertIsInstance(events, list, f"stream {i}: {events}")
            self.assertEqual(events[-1], "[DONE]", f"stream {i} did not end cleanly")
            finishes = [json.loads(e)["choices"][0]["finish_reason"] for e in events[:-1]
                        if json.loads(e).get("choices")]
            self.assertIn(finishes[-1], ("stop", "length"))
        self.assertEqual(s.proc.wait(120), 0, "".join(s.log))

    @staticmethod
    def refused(s):
        try:
            r = httpx.post(s.url + "/v1/completions", json=body(1), timeout=10)
            return r.status_code == 503
        except httpx.TransportError:
            return True


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
