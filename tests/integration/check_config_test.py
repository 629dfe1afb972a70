#!/usr/bin/env python3
"""`slmd --check-config` over the corpus in check-config/: each file's first line says
`# expect: LINE:COLUMN: message` (the first error slmd must print, after FILE:) or
`# expect: valid`. Each file is copied into a scratch directory beside a placeholder
model.gguf (only existence is checked) so that relative model paths resolve; @DIR@ in an
expectation stands for that directory.

usage: check_config_test.py SLMD CORPUS_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

from slmd_harness import Failure, check, run_tests, skip

slmd, corpus = sys.argv[1], sys.argv[2]
if not os.access(slmd, os.X_OK):
    skip(f"{slmd} is not built (it needs the engine in core/engine/)")


def check_file(name):
    with tempfile.TemporaryDirectory(prefix="slmd-check-") as tmp:
        path = os.path.join(tmp, name)
        shutil.copy(os.path.join(corpus, name), path)
        with open(os.path.join(tmp, "model.gguf"), "w") as f:
            f.write("placeholder: only its existence is checked\n")
        with open(path) as f:
            first = f.readline()
        check(first.startswith("# expect: "), f"{name}: no '# expect:' line")
        expect = first[len("# expect: "):].rstrip("\n").replace("@DIR@", tmp)
        p = subprocess.run([slmd, "--check-config", "--config", path], capture_output=True,
                           text=True, timeout=30)
        if expect == "valid":
            check(p.returncode == 0, f"{name}: exit {p.returncode}, stderr: {p.stderr}")
            check(p.stdout.startswith(f"{path}: valid"), f"{name}: stdout {p.stdout!r}")
            check(p.stderr == "", f"{name}: stderr {p.stderr!r}")
            return
        check(p.returncode == 1, f"{name}: exit {p.returncode} (want 1), stderr: {p.stderr}")
        lines = p.stderr.splitlines()
        want = f"{path}:{expect}"
        check(lines and lines[0] == want, f"{name}:\n  want: {want}\n  got:  {lines[:1]}")
        check(p.stdout == "", f"{name}: stdout {p.stdout!r}")


def make_test(name):
    def test():
        check_file(name)
    test.__name__ = name
    return test


def test_usage_errors():
    p = subprocess.run([slmd, "--bus", "tram"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, f"--bus tram: exit {p.returncode}")
    check("expected system, session or none" in p.stderr, p.stderr)
    p = subprocess.run([slmd, "--no-such-option"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2, f"unknown option: exit {p.returncode}")
    p = subprocess.run([slmd, "--check-config", "--config", "/nonexistent/slmd.yaml"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 1, f"missing file: exit {p.returncode}")
    check(p.stderr.strip() == "/nonexistent/slmd.yaml: cannot open: No such file or directory",
          p.stderr)
    p = subprocess.run([slmd, "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "--check-config" in p.stdout, "--help")


tests = [make_test(n) for n in sorted(os.listdir(corpus)) if n.endswith(".yaml")]
check(len(tests) >= 20, "the corpus is missing")
run_tests(tests + [test_usage_errors])
