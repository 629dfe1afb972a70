#!/usr/bin/env python3
"""slmd under a stand-in for systemd's notify socket, with the shared reference models:
READY=1 and STATUS=, RELOADING=1 + MONOTONIC_USEC then READY=1 on SIGHUP, a bad config on
reload keeping the old models serving, a model that fails to load while the rest serve,
a model file replaced on disk, the watchdog, STOPPING=1 on SIGTERM, and a start that
fails on a bad config.

usage: notify_test.py SLMD
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from slmd_harness import (Slmd, Failure, check, http_request, run_tests, shared_models_dir,
                          skip)

slmd = sys.argv[1]
if not os.access(slmd, os.X_OK):
    skip(f"{slmd} is not built (it needs the engine in core/engine/)")
models = shared_models_dir()
if models is None:
    skip("reference data not found (SLM_SHARED)")
DECODER = os.path.join(models, "llama-spm-tiny-Q8_0.gguf")
SECOND = os.path.join(models, "phi3-tiny-F16.gguf")


def config(socket_path, entries):
    text = f"threads: 2\nserver:\n  socket: {socket_path}\n  dbus: none\n"
    text += "models:\n" if entries else "models: []\n"
    for name, path, preload in entries:
        text += f"  - name: {name}\n    path: {path}\n    preload: {'true' if preload else 'false'}\n"
    return text


class Started(Slmd):
    """slmd started on a config listing `entries` (name, path, preload)."""

    def __init__(self, entries, env=None, extra_text="", files=()):
        import tempfile
        directory = tempfile.mkdtemp(prefix="slmd-it-")
        for source, name in files:  # (source, name in the directory) copied before start
            shutil.copy(source, os.path.join(directory, name))
        self.socket = os.path.join(directory, "api.sock")
        super().__init__(slmd, config_text=config(self.socket, entries) + extra_text,
                         env=env, directory=directory)
        self.owns_dir = True

    def ready(self, start=0, what="READY=1"):
        return self.notify.wait_for(lambda m: m.get("READY") == "1", what, start=start)

    def mark(self):
        return len(self.notify.messages)


def test_ready_status_stop():
    s = Started([("tiny", DECODER, True), ("phi3", SECOND, True), ("lazy", DECODER, False)])
    try:
        msg = s.ready()
        status = msg.get("STATUS", "")
        check(status == "Serving 3 models (tiny: ready, phi3: ready, lazy: not loaded); "
                        "0 requests queued", f"STATUS with READY=1: {status!r}")
        # at READY=1 the API answers, and lists the models as STATUS= does
        code, reply = http_request(s.socket, "GET", "/v1/models")
        check(code == 200, f"GET /v1/models at READY=1: {code} {reply}")
        states = {m["id"]: m["slmd"]["state"] for m in reply["data"]}
        check(states == {"tiny": "ready", "phi3": "ready", "lazy": "declared"},
              f"/v1/models: {states}")
        check(oct(os.stat(s.socket).st_mode & 0o777) == oct(0o660), "socket mode")
        n = s.mark()
        s.signal(signal.SIGTERM)
        s.notify.wait_for(lambda m: m.get("STOPPING") == "1", "STOPPING=1", start=n)
        check(s.wait_exit() == 0, "exit status after SIGTERM")
        check(not os.path.exists(s.socket), "the socket file is left behind")
        s.wait_log("ready: Serving 3 models")
    finally:
        s.close()


def test_reload_good_config():
    s = Started([("tiny", DECODER, True)])
    try:
        s.ready()
        s.write_config(config(s.socket, [("tiny", DECODER, True), ("phi3", SECOND, True)]))
        n = s.mark()
        before = time.monotonic_ns() // 1000
        s.signal(signal.SIGHUP)
        reloading = s.notify.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1",
                                      start=n)
        after = time.monotonic_ns() // 1000
        usec = int(reloading.get("MONOTONIC_USEC", "0"))
        check(before <= usec <= after, f"MONOTONIC_USEC={usec} not within [{before}, {after}]")
        msg = s.ready(start=n, what="READY=1 after the reload")
        check(s.notify.messages.index(reloading) < s.notify.messages.index(msg),
              "READY=1 came before RELOADING=1")
        check(msg.get("STATUS") == "Serving 2 models (tiny: ready, phi3: ready); 0 requests "
                                   "queued", f"STATUS after reload: {msg.get('STATUS')!r}")
        # the unchanged model stayed resident: it never went back to loading
        between = s.notify.messages[n:s.notify.messages.index(msg)]
        check(not any("tiny: loading" in m.get("STATUS", "") for m in between),
              f"tiny was reloaded although its entry did not change: {between}")
        # removing a model
        s.write_config(config(s.socket, [("phi3", SECOND, True)]))
        n = s.mark()
        s.signal(signal.SIGHUP)
        s.ready(start=n)
        s.notify.wait_for(lambda m: m.get("STATUS", "").startswith("Serving 1 model (phi3: ready)"),
                          "STATUS without the removed model", start=n)
    finally:
        s.close()


def test_reload_bad_config_keeps_serving():
    s = Started([("tiny", DECODER, True)])
    try:
        s.ready()
        good = open(s.config).read()
        for broken, where in [
                (good + "colour: blue\n", "unknown key 'colour'"),
                (good + "  - name: gone\n    path: /nonexistent/model.gguf\n",
                 "/nonexistent/model.gguf: No such file or directory")]:
            s.write_config(broken)
            n = s.mark()
            s.signal(signal.SIGHUP)
            s.notify.wait_for(lambda m: m.get("RELOADING") == "1", "RELOADING=1", start=n)
            msg = s.ready(start=n, what="READY=1 after a refused reload")
            status = msg.get("STATUS", "")
            check(status.startswith("Serving 1 model (tiny: ready); 0 requests queued; "
                                    f"reload failed: {s.config}:"), f"STATUS: {status!r}")
            check(where in status, f"the error is not in STATUS: {status!r}")
            check(where in s.log(), "the error is not logged")
            check(s.proc.poll() is None, "slmd exited on a bad reload")
            # the old model still answers
            code, reply = http_request(s.socket, "POST", "/v1/completions",
                                       {"model": "tiny", "prompt": "Once upon a time",
                                        "max_tokens": 4, "temperature": 0})
            check(code == 200 and reply["usage"]["completion_tokens"] == 4,
                  f"after a refused reload: {code} {reply}")
        # a good file again clears the error
        s.write_config(good)
        n = s.mark()
        s.signal(signal.SIGHUP)
        msg = s.ready(start=n)
        check(msg.get("STATUS") == "Serving 1 model (tiny: ready); 0 requests queued",
              f"STATUS after the fix: {msg.get('STATUS')!r}")
    finally:
        s.close()


def test_failed_model_others_serve():
    import tempfile
    d = tempfile.mkdtemp(prefix="slmd-bad-")
    bad = os.path.join(d, "broken.gguf")
    with open(bad, "wb") as f:
        f.write(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)  # a header that lies
    s = Started([("tiny", DECODER, True), ("broken", bad, True)])
    try:
        msg = s.ready()
        status = msg.get("STATUS", "")
        check(status == "Serving 2 models (tiny: ready, broken: failed); 0 requests queued",
              f"STATUS: {status!r}")
        s.wait_log("model=broken: failed to load: ")
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)


def test_model_replaced_on_disk():
    s = Started([("tiny", "model.gguf", True)], files=[(DECODER, "model.gguf")])
    try:
        s.ready()
        n = s.mark()
        # a package upgrade: the new file is written beside and renamed over the old one
        tmp = os.path.join(s.dir, ".model.gguf.new")
        shutil.copy(DECODER, tmp)
        os.rename(tmp, os.path.join(s.dir, "model.gguf"))
        # the model goes away (unloaded or loading) and comes back on the new file
        gone = s.notify.wait_for(lambda m: re.search(r"tiny: (loading|not loaded)",
                                                     m.get("STATUS", "")),
                                 "the model to reload", start=n)
        s.notify.wait_for(lambda m: "tiny: ready" in m.get("STATUS", ""), "tiny ready again",
                          start=s.notify.messages.index(gone))
        s.wait_log("changed on disk")
        check(s.proc.poll() is None, "slmd exited when its model file was replaced")
    finally:
        s.close()


def test_dbus_reload_method():
    """Manager.Reload() over D-Bus reloads exactly as SIGHUP does."""
    daemon, busctl = shutil.which("dbus-daemon"), shutil.which("busctl")
    if not daemon or not busctl:
        print("note: not tested: dbus-daemon or busctl missing")
        return
    bus = subprocess.Popen([daemon, "--session", "--nofork", "--print-address"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    s = None
    try:
        address = bus.stdout.readline().strip()
        import tempfile
        d = tempfile.mkdtemp(prefix="slmd-it-")
        sock = os.path.join(d, "api.sock")
        s = Slmd(slmd, config_text=config(sock, [("tiny", DECODER, True)]),
                 args=["--bus", "session"], env={"DBUS_SESSION_BUS_ADDRESS": address},
                 directory=d)
        s.owns_dir = True
        s.notify.wait_for(lambda m: m.get("READY") == "1", "READY=1")
        n = len(s.notify.messages)
        p = subprocess.run([busctl, f"--address={address}", "call", "org.slmd.Slmd1",
                            "/org/slmd/Slmd1", "org.slmd.Slmd1.Manager", "Reload"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, f"Reload(): {p.stderr}")
        s.notify.wait_for(lambda m: m.get("RELOADING") == "1" and "MONOTONIC_USEC" in m,
                          "RELOADING=1 after Reload()", start=n)
        s.notify.wait_for(lambda m: m.get("READY") == "1", "READY=1 after Reload()", start=n)
        s.wait_log("reloaded ")
    finally:
        if s:
            s.close()
        bus.kill()
        bus.wait()


def test_watchdog():
    s = Started([], env={"WATCHDOG_USEC": "400000"})
    try:
        s.ready()
        n = s.mark()
        s.notify.wait_for(lambda m: m.get("WATCHDOG") == "1", "WATCHDOG=1", timeout=3, start=n)
    finally:
        s.close()


def test_start_fails_on_bad_config():
    s = Started([("tiny", DECODER, True)], extra_text="memory_limit: lots\n")
    try:
        code = s.wait_exit()
        check(code == 1, f"exit status {code}")
        first_error = f"{s.config}:"
        check(first_error in s.log() and "memory_limit: expected a size like 512K, 1M or 3G, got 'lots'" in s.log(),
              s.log())
        s.notify.drain(0.2)
        check(any(m.get("STATUS", "").startswith("Failed to start: ") for m in s.notify.messages),
              f"no STATUS=Failed to start: {s.notify.messages}")
        check(not any("READY" in m for m in s.notify.messages), "READY=1 on a failed start")
    finally:
        s.close()


run_tests([test_ready_status_stop, test_reload_good_config, test_reload_bad_config_keeps_serving,
           test_failed_model_others_serve, test_model_replaced_on_disk, test_dbus_reload_method,
           test_watchdog, test_start_fails_on_bad_config])
