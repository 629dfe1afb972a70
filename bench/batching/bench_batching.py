#!/usr/bin/env python3
"""One resident model, many apps: continuous batching measured through slmd's socket API.

Starts slmd (no D-Bus) on a temporary socket with one decoder at `parallel` 8, then, with
the Python standard library as the clients:

  throughput   aggregate generation tokens/s with 1, 4 and 8 concurrent clients, each
               streaming one completion of --tokens tokens (ignore_eos, greedy);
  ttft         time to the first streamed token of a newcomer, alone and while 7 streams
               run;
  prompt cache prompt-processing time (usage.prompt_ms) of a request with a 200-token
               system prompt (as the model's tokenizer counts): the first time, the same
               request again, and the same system prompt with another question;
  invariance   a greedy request gives the same text alone and among seven others.

Every figure is a ratio measured in this one run, as the machine is shared and noisy.

  bench/batching/bench_batching.py --build build [--model M.gguf] [--threads 2]
                                   [--tokens 128] [--json results.json]

Without --model it writes a TinyLlama-1.1B-shaped Q4_0 model with random weights
(`slm mkmodel --preset tinyllama --type Q4_0`) into --cache (default /tmp/slm-bench).
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

MODEL_NAME = "bench"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def request(sock, path, body=None, method="POST"):
    conn = UnixConnection(sock)
    try:
        conn.request(method, path, body=json.dumps(body) if body else None,
                     headers={"Content-Type": "application/json"} if body else {})
        r = conn.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data[:1] in (b"{", b"[") else data
    finally:
        conn.close()


def stream_completion(sock, prompt, max_tokens, first_token_at=None, text_out=None):
    """Streams one completion; returns (completion tokens, seconds to first token, text)."""
    conn = UnixConnection(sock)
    body = {"model": MODEL_NAME, "prompt": prompt, "max_tokens": max_tokens,
            "temperature": 0, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}
    t0 = time.monotonic()
    conn.request("POST", "/v1/completions", body=json.dumps(body),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:200]!r}")
    first = None
    tokens = 0
    text = []
    for raw in r:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("choices"):
            piece = chunk["choices"][0].get("text", "")
            if piece and first is None:
                first = time.monotonic() - t0
                if first_token_at is not None:
                    first_token_at.append(time.monotonic())
            text.append(piece)
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
    conn.close()
    return tokens, first, "".join(text)


def prompt_for(i):
    return f"Client {i} asks about gateway number {i * 7919 % 1000} and its sensors."


def throughput(sock, clients, max_tokens):
    results = [None] * clients
    def run(i):
        results[i] = stream_completion(sock, prompt_for(i), max_tokens)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    total = sum(r[0] for r in results)
    return total / elapsed


def ttft(sock, max_tokens, background):
    stop_after = max_tokens * 4
    bg = [threading.Thread(target=stream_completion, args=(sock, prompt_for(100 + i), stop_after))
          for i in range(background)]
    for t in bg:
        t.start()
    if background:
        time.sleep(2.0)  # the streams are generating
    _, first, _ = stream_completion(sock, prompt_for(999) * 3, 4)
    for t in bg:
        t.join()
    return first


def system_prompt(sock, tokens=200):
    """Rules added one by one until the model's tokenizer makes ~`tokens` tokens of them."""
    rules = []
    while True:
        rules.append(f"Rule {len(rules)}: keep answers short and about gateways.")
        status, body = request(sock, "/v1/tokenize", {"model": MODEL_NAME,
                                                     "text": " ".join(rules)})
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body}")
        if body["count"] >= tokens:
            return " ".join(rules)


def prompt_cache(sock):
    system = system_prompt(sock)
    def prompt_ms(question):
        status, body = request(sock, "/v1/completions", {
            "model": MODEL_NAME, "prompt": system + "\nQ: " + question + "\nA:",
            "max_tokens": 1, "temperature": 0})
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body}")
        u = body["usage"]
        return u["prompt_ms"], u["prompt_tokens"], u.get("prompt_tokens_details", {}).get(
            "cached_tokens", 0)
    first = prompt_ms("What is a gateway?")
    same = prompt_ms("What is a gateway?")
    again = prompt_ms("How many sensors are there?")
    return first, same, again


def invariance(sock, max_tokens):
    alone = stream_completion(sock, prompt_for(42), max_tokens)[2]
    results = {}
    def run(i):
        results[i] = stream_completion(sock, prompt_for(42 if i == 3 else 200 + i), max_tokens)[2]
    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return alone == results[3]


def ensure_model(args):
    if args.model:
        return args.model
    os.makedirs(args.cache, exist_ok=True)
    path = os.path.join(args.cache, "tinyllama-shape-Q4_0.gguf")
    if not os.path.exists(path):
        print(f"writing {path} (random weights, TinyLlama-1.1B shape)", file=sys.stderr)
        subprocess.run([os.path.join(args.build, "tools", "slm"), "mkmodel", "--arch", "llama",
                        "--preset", "tinyllama", "--type", "Q4_0", "-o", path], check=True)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--model")
    ap.add_argument("--cache", default="/tmp/slm-bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--json")
    args = ap.parse_args()
    model = ensure_model(args)
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "slmd.sock")
        config = os.path.join(tmp, "slmd.yaml")
        with open(config, "w") as f:
            f.write(f"""threads: {args.threads}
server:
  socket: {sock}
  dbus: none
  max_queue: 64
models:
  - name: {MODEL_NAME}
    path: {model}
    context: 1024
    parallel: 8
    preload: true
""")
        slmd = subprocess.Popen([os.path.join(args.build, "daemon", "slmd"), "--config", config],
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status, body = request(sock, "/v1/models", method="GET")
                    if status == 200 and body["data"][0].get("loaded"):
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            stream_completion(sock, "warm up", 4)
            res = {"model": model, "threads": args.threads, "tokens": args.tokens}
            for c in (1, 4, 8):
                res[f"tps_{c}"] = throughput(sock, c, args.tokens)
                print(f"{c} client(s): {res[f'tps_{c}']:.2f} tokens/s aggregate", flush=True)
            res["ratio_4"] = res["tps_4"] / res["tps_1"]
            res["ratio_8"] = res["tps_8"] / res["tps_1"]
            res["ttft_alone"] = ttft(sock, args.tokens, 0)
            res["ttft_with_7"] = ttft(sock, args.tokens, 7)
            res["ttft_ratio"] = res["ttft_with_7"] / res["ttft_alone"]
            first, same, again = prompt_cache(sock)
            res["prompt_first_ms"], res["prompt_tokens"], _ = first
            res["prompt_same_ms"], _, res["prompt_same_cached"] = same
            res["prompt_again_ms"], _, res["prompt_again_cached"] = again
            res["prompt_same_ratio"] = res["prompt_same_ms"] / res["prompt_first_ms"]
            res["prompt_cache_ratio"] = res["prompt_again_ms"] / res["prompt_first_ms"]
            res["greedy_same_alone_and_batched"] = invariance(sock, 16)
        finally:
            slmd.terminate()
            slmd.wait(timeout=30)
    print(f"throughput: 4 clients {res['ratio_4']:.2f}x one client, 8 clients "
          f"{res['ratio_8']:.2f}x")
    print(f"time to first token: alone {res['ttft_alone'] * 1000:.0f} ms, beside 7 streams "
          f"{res['ttft_with_7'] * 1000:.0f} ms ({res['ttft_ratio']:.2f}x)")
    print(f"the same {res['prompt_tokens']}-token prompt again: {res['prompt_same_ms']:.1f} ms "
          f"vs {res['prompt_first_ms']:.1f} ms first ({res['prompt_same_ratio'] * 100:.1f}%, "
          f"{res['prompt_same_cached']} tokens from the cache)")
    print(f"the same system prompt, another question: {res['prompt_again_ms']:.1f} ms "
          f"({res['prompt_cache_ratio'] * 100:.0f}%, {res['prompt_again_cached']} tokens from "
          f"the cache)")
    print(f"greedy output alone == among seven others: {res['greedy_same_alone_and_batched']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
