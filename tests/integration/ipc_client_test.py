#!/usr/bin/env python3
"""slm as a client of slmd (DESIGN.md "The slm command"): list, ps, load, unload,
generate, chat, classify and embed, over D-Bus (--daemon) and over the socket
(--socket), with the same answers as the in-process commands, and its exit statuses.

usage: ipc_client_test.py SLMD SLM
"""
import json
import os
import re
import subprocess
import sys

from ipc_harness import (Service, check, reference_models, run_tests, skip,
                         slm_generate_offline, tool, without_root, TIMEOUT)

slmd, slm = sys.argv[1], sys.argv[2]
for binary in (slmd, slm):
    if not os.access(binary, os.X_OK):
        skip(f"{binary} is not built")
tool("dbus-daemon")
M = reference_models()
TINY = os.path.join(M, "llama-spm-tiny-Q8_0.gguf")
PHI3 = os.path.join(M, "phi3-tiny-F16.gguf")
SST2 = os.path.join(M, "distilbert-tiny-sst2")
NER = os.path.join(M, "distilbert-tiny-ner")
BERT = os.path.join(M, "bert-tiny-F16.gguf")
PROMPT = "Once upon a time"

service = Service(slmd, {
    "tiny": [f"path: {TINY}", "preload: true"],
    "chat": [f"path: {PHI3}"],
    "sentiment": [f"path: {SST2}"],
    "ner": [f"path: {NER}"],
    "embedder": [f"path: {BERT}"],
})
TRANSPORTS = (["--daemon"], ["--socket", service.socket])


def slm_run(*argv, input=None):
    return service.run([slm] + list(argv), input=input)


def ok(*argv, input=None):
    p = slm_run(*argv, input=input)
    check(p.returncode == 0, f"slm {argv}: {p.returncode} {p.stderr.decode(errors='replace')}")
    return p.stdout.decode()


def offline(*argv):
    p = subprocess.run([slm] + list(argv) + ["-t", "1"], capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0, p.stderr)
    return p.stdout.decode()


def test_list_and_ps():
    for t in TRANSPORTS:
        out = ok("list", *t)
        check(re.search(r"^MODEL\s+TASK\s+ARCHITECTURE\s+LOADED$", out, re.M), out)
        check(re.search(r"^tiny\s+generate\s+llama\s+yes$", out, re.M), out)
        check(re.search(r"^sentiment\s+\S+\s+\S+\s+(no|yes)$", out, re.M), out)
        rows = json.loads(ok("list", *t, "--json"))
        check([r["name"] for r in rows] == ["chat", "embedder", "ner", "sentiment", "tiny"], rows)
        out = ok("ps", *t)
        check(re.search(r"^tiny\s+ready\s+0/1\s+0\s", out, re.M), out)
        rows = json.loads(ok("ps", *t, "--json"))
        tiny = [r for r in rows if r["name"] == "tiny"][0]
        check(tiny["state"] == "ready" and tiny["parallel"] == 1, tiny)
    # without --daemon or --socket, list talks to the system bus
    check(ok("list") == ok("list", "--daemon=system"), "default transport")


def test_load_unload():
    if without_root("slm load and unload"):
        return
    ok("unload", "tiny", "--daemon")
    check(re.search(r"^tiny\s+generate\s+llama\s+no$", ok("list", "--daemon"), re.M), "unloaded")
    ok("load", "tiny", "--daemon")
    check(re.search(r"^tiny\s+ready", ok("ps", "--socket", service.socket), re.M), "loaded")
    p = slm_run("load", "nope", "--daemon")
    check(p.returncode == 1 and b"no model named 'nope'" in p.stderr, p.stderr)
    p = slm_run("load", "tiny", "--socket", service.socket)
    check(p.returncode == 1 and b"D-Bus" in p.stderr, p.stderr)


def test_generate_and_chat():
    expected = slm_generate_offline(slm, TINY, PROMPT, 12) + "\n"
    for t in TRANSPORTS:
        for extra in ([], ["--no-stream"]):
            out = ok("generate", *t, "-m", "tiny", "-p", PROMPT, "-n", "12", "--temp", "0",
                     *extra)
            check(out == expected, f"{t} {extra}: {out!r} != {expected!r}")
    chat_expected = offline("generate", "--chat", "-m", PHI3, "-p", "Hi", "-n", "6", "--temp",
                            "0")
    for t in TRANSPORTS:
        out = ok("generate", *t, "--chat", "-m", "chat", "-p", "Hi", "-n", "6", "--temp", "0")
        check(out == chat_expected, f"{t}: {out!r} != {chat_expected!r}")
        # two turns: the second request carries the first exchange
        out = ok("chat", *t, "-m", "chat", "-n", "6", "--temp", "0", input=b"Hi\n\nAnd then?\n")
        lines = out.split("\n")
        check(len(lines) == 3 and lines[0] + "\n" == chat_expected and lines[2] == "",
              f"{out!r}")
        check(lines[1] != "", "no second reply")


def test_classify_and_embed():
    for t in TRANSPORTS:
        out = ok("classify", *t, "-m", "sentiment", "I love it", "awful")
        check(out == offline("classify", "-m", SST2, "I love it", "awful"), out)
        out = ok("classify", *t, "-m", "ner", "John lives in Paris", "Mary")
        check(out == offline("classify", "-m", NER, "John lives in Paris", "Mary"), out)
        js = json.loads(ok("classify", *t, "--json", "-m", "sentiment", "I love it"))
        check(js[0]["text"] == "I love it" and js[0]["label"] in ("POSITIVE", "NEGATIVE"), js)
        got = [float(x) for x in ok("embed", *t, "-m", "embedder", "hello").split()]
        want = [float(x) for x in offline("embed", "-m", BERT, "hello").split()]
        check(len(got) == len(want) and max(abs(a - b) for a, b in zip(got, want)) < 1e-5,
              "embed")
        unit = [float(x) for x in ok("embed", *t, "--normalize", "-m", "embedder", "hello").split()]
        check(abs(sum(x * x for x in unit) - 1) < 1e-4, "--normalize")


def test_errors_and_usage():
    for t in TRANSPORTS:
        p = slm_run("generate", *t, "-m", "nope", "-p", "x")
        check(p.returncode == 1 and p.stderr.startswith(b"slm: error: ") and b"nope" in p.stderr,
              p.stderr)
        p = slm_run("generate", *t, "-m", "tiny", "-p", "x", "--temp", "-1")
        check(p.returncode == 2, p.stderr)
        p = slm_run("classify", *t, "-m", "tiny", "x")
        check(p.returncode == 1, p.stderr)
    p = slm_run("generate", "--daemon", "--socket", service.socket, "-m", "tiny", "-p", "x")
    check(p.returncode == 2, p.stderr)
    p = slm_run("list", "--socket", "/nonexistent/slmd.sock")
    check(p.returncode == 1 and b"is slmd running?" in p.stderr, p.stderr)
    env = dict(service.env, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/bus")
    p = subprocess.run([slm, "list", "--daemon"], env=env, capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 1 and b"cannot connect to the system bus" in p.stderr, p.stderr)


try:
    run_tests([test_list_and_ps, test_load_unload, test_generate_and_chat,
               test_classify_and_embed, test_errors_and_usage])
finally:
    service.close()
