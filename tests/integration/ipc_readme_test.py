#!/usr/bin/env python3
"""Runs every example of README.md's "Using slmd" section against slmd on a private bus
and socket, so that the documentation cannot rot: each ```sh block with bash (-e, and
curl failing on HTTP errors), each ```python block with python3. The socket path in the
examples is replaced by the test's own.

usage: ipc_readme_test.py SLMD SLM SOURCE_DIR
"""
import os
import re
import sys

from ipc_harness import (Service, check, reference_models, run_tests, skip, tool, without_root,
                         TIMEOUT)

slmd, slm, source = sys.argv[1], sys.argv[2], sys.argv[3]
for binary in (slmd, slm):
    if not os.access(binary, os.X_OK):
        skip(f"{binary} is not built")
for name in ("dbus-daemon", "dbus-send", "busctl", "curl"):
    tool(name)
M = reference_models()

with open(os.path.join(source, "README.md")) as f:
    readme = f.read()
m = re.search(r"^## Using slmd\n(.*?)(?=^## )", readme, re.M | re.S)
check(m, "README.md has no '## Using slmd' section")
section = m.group(1)
blocks = re.findall(r"^```(sh|python)\n(.*?)^```", section, re.M | re.S)
check(blocks, "no examples in the section")
text = "".join(code for _, code in blocks)
for needed in ("busctl ", "dbus-send ", "curl ", "import http.client", "slm "):
    check(needed in text, f"the examples no longer show {needed.strip()}")

# the models the examples name, from the reference data
service = Service(slmd, {
    "tinyllama": [f"path: {os.path.join(M, 'phi3-tiny-F16.gguf')}", "parallel: 2"],
    "sentiment": [f"path: {os.path.join(M, 'distilbert-tiny-sst2')}"],
    "minilm": [f"path: {os.path.join(M, 'bert-tiny-F16.gguf')}"],
})
service.env["PATH"] = os.path.dirname(os.path.abspath(slm)) + os.pathsep + service.env["PATH"]

# bash: stop at the first failing command; curl fails on HTTP errors; sudo is a no-op here
# (the tests run as root and sudo need not be installed)
SH_PRELUDE = """set -euo pipefail
curl() { command curl -sS --fail-with-body "$@"; }
sudo() { "$@"; }
"""


def run_block(index, lang, code):
    code = code.replace("/run/slmd/slmd.sock", service.socket)
    if "sudo " in code and without_root(f"example {index} (it uses sudo)"):
        return "skipped"
    if lang == "sh":
        argv = ["bash", "-c", SH_PRELUDE + code]
    else:
        argv = [sys.executable, "-c", code]
    p = service.run(argv, timeout=TIMEOUT * 4)
    out = p.stdout.decode(errors="replace")
    check(p.returncode == 0, f"example {index} ({lang}) failed with {p.returncode}:\n{code}\n"
          f"stdout: {out[-2000:]}\nstderr: {p.stderr.decode(errors='replace')[-2000:]}")
    check(out.strip(), f"example {index} printed nothing:\n{code}")
    return out


def make_test(index, lang, code):
    def test():
        out = run_block(index, lang, code)
        if out == "skipped":
            return
        # what the examples promise to show
        if "ListModels" in code:
            check('"tinyllama"' in out and '"sentiment"' in out, out)
        if "stream" in code and lang == "sh":
            check("data: [DONE]" in out, out[-500:])
        if "/metrics" in code:
            check('slmd_model_loaded{model="tinyllama"}' in out, "metrics")
    test.__name__ = f"test_example_{index}_{lang}"
    return test


try:
    run_tests([make_test(i, lang, code) for i, (lang, code) in enumerate(blocks)])
finally:
    service.close()
