#!/usr/bin/env python3
"""./quickstart as README's first command, minus the steps that need the network or a
full build: `--no-install --no-build --background` against this build tree, with a
private session bus and a scratch run directory. slmd must come up ready on the demo
model, and the printed instructions must say that its weights are random and how to use
a real model.

usage: quickstart_test.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from slmd_harness import check, run_tests, skip

source, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
for binary in ["daemon/slmd", "tools/slm"]:
    if not os.access(os.path.join(build, binary), os.X_OK):
        skip(f"{binary} is not built")
if not shutil.which("dbus-daemon"):
    skip("dbus-daemon not installed")


def kill_from(pidfile):
    try:
        pid = int(open(pidfile).read())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
        return True
    except ProcessLookupError:
        return False


def test_quickstart_background():
    run = tempfile.mkdtemp(prefix="slmd-qs-")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "NOTIFY_SOCKET",
                        "INVOCATION_ID", "JOURNAL_STREAM")}
    try:
        p = subprocess.run([os.path.join(source, "quickstart"), "--no-install", "--no-build",
                            "--build-dir", build, "--run-dir", run, "--background"],
                           capture_output=True, text=True, env=env, timeout=300)
        out = p.stdout + p.stderr
        check(p.returncode == 0, f"quickstart failed ({p.returncode}):\n{out}")
        check(os.path.exists(os.path.join(run, "slmd.sock")), "no socket in the run directory")
        check(os.path.exists(os.path.join(run, "demo-llama.gguf")), "no demo model")
        log = open(os.path.join(run, "slmd.log")).read()
        check("slmd: ready: Serving 1 model (demo: ready)" in log, log)
        for text in ["random weights", "busctl --user call org.slmd.Slmd1",
                     "dbus-send --session", "curl --unix-socket", "/v1/completions",
                     "DBUS_SESSION_BUS_ADDRESS=", "list --daemon=session"]:
            check(text in out, f"the instructions lack {text!r}:\n{out}")
        config = open(os.path.join(run, "slmd.yaml")).read()
        check("RANDOM weights" in config and "Hugging Face" in config and ".gguf" in config,
              "the config does not say how to use a real model")
        # the calls it prints work: D-Bus on the bus it started, HTTP on the socket, slm
        address = re.search(r"export DBUS_SESSION_BUS_ADDRESS='([^']+)'", out).group(1)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        calls = [
            (["busctl", "--user", "call", "org.slmd.Slmd1", "/org/slmd/Slmd1",
              "org.slmd.Slmd1.Manager", "ListModels"], 'a(sssb) 1 "demo"'),
            (["dbus-send", "--session", "--print-reply", "--dest=org.slmd.Slmd1",
              "/org/slmd/Slmd1/models/demo", "org.slmd.Slmd1.Model.Generate",
              "string:Once upon a time", "dict:string:string:max_tokens,4"],
             "finish_reason"),
            (["curl", "-s", "--unix-socket", os.path.join(run, "slmd.sock"),
              "http://localhost/v1/models"], '"id":"demo"'),
            ([os.path.join(build, "tools", "slm"), "list", "--daemon=session"], "demo"),
        ]
        for argv, want in calls:
            if not shutil.which(argv[0]) and not os.path.isabs(argv[0]):
                print(f"note: {argv[0]} not installed; not tried")
                continue
            p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
            check(p.returncode == 0 and want in p.stdout,
                  f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        check(kill_from(os.path.join(run, "slmd.pid")), "slmd was not running")
    finally:
        kill_from(os.path.join(run, "slmd.pid"))
        kill_from(os.path.join(run, "bus.pid"))
        shutil.rmtree(run, ignore_errors=True)


run_tests([test_quickstart_background])
