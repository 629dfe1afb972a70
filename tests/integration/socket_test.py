#!/usr/bin/env python3
"""The API socket as systemd and operators see it: socket activation with
systemd-socket-activate (the descriptor named "api"), slmd binding the configured path
itself (mode, group, stale file), --socket overriding the config, and a second slmd
refusing a path that is in use.

usage: socket_test.py SLMD
"""
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time

from slmd_harness import Slmd, TIMEOUT, check, http_request, run_tests, skip

slmd = sys.argv[1]
if not os.access(slmd, os.X_OK):
    skip(f"{slmd} is not built (it needs the engine in core/engine/)")


def config(socket_path, mode="0660", group=None):
    text = f"server:\n  socket: {socket_path}\n  socket_mode: \"{mode}\"\n  dbus: none\n"
    if group is not None:
        text += f"  socket_group: {group}\n"
    return text + "models: []\n"


def connects(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def ready(s):
    return s.notify.wait_for(lambda m: m.get("READY") == "1", "READY=1")


def stop(s):
    s.signal(signal.SIGTERM)
    check(s.wait_exit() == 0, "exit status after SIGTERM")


def test_binds_the_configured_path():
    d = tempfile.mkdtemp(prefix="slmd-sock-")
    path = os.path.join(d, "run", "api.sock")  # the directory does not exist yet
    s = Slmd(slmd, config_text=config(path, "0640", 0), directory=d)
    try:
        ready(s)
        st = os.stat(path)
        check(stat.S_ISSOCK(st.st_mode), "not a socket")
        check(stat.S_IMODE(st.st_mode) == 0o640, f"mode {oct(stat.S_IMODE(st.st_mode))}")
        check(st.st_gid == 0, f"group {st.st_gid}")
        code, reply = http_request(path, "GET", "/health")
        check(code == 200, f"GET /health on the bound socket: {code} {reply}")
        check(f"listening on {path} (mode 0640)" in s.log(), s.log())
        # a second slmd on the same path refuses to start and leaves the first one alone
        other = Slmd(slmd, config_text=config(path))
        try:
            check(other.wait_exit() == 1, "a second slmd started on a path in use")
            check("another server is already listening there" in other.log(), other.log())
        finally:
            other.close()
        check(connects(path), "the first slmd lost its socket")
        stop(s)
        check(not os.path.exists(path), "socket file left behind")
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)


def test_replaces_a_stale_socket():
    d = tempfile.mkdtemp(prefix="slmd-sock-")
    path = os.path.join(d, "api.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)  # bound, never listening, closed: what a killed process leaves
    dead.close()
    s = Slmd(slmd, config_text=config(path), directory=d)
    try:
        ready(s)
        check(connects(path), "cannot connect")
        check(f"removed stale socket {path}" in s.log(), s.log())
        stop(s)
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)


def test_socket_option_overrides_config():
    d = tempfile.mkdtemp(prefix="slmd-sock-")
    configured = os.path.join(d, "configured.sock")
    s = Slmd(slmd, config_text=config(configured), args=["--socket", "override.sock"],
             directory=d)
    try:
        ready(s)
        check(connects(os.path.join(d, "override.sock")), "--socket (relative) not bound")
        check(not os.path.exists(configured), "the configured path was bound too")
        stop(s)
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)


def test_socket_activation():
    activate = shutil.which("systemd-socket-activate")
    if not activate:
        print("note: systemd-socket-activate not installed; socket activation not tested")
        return
    d = tempfile.mkdtemp(prefix="slmd-sock-")
    passed = os.path.join(d, "activated.sock")
    configured = os.path.join(d, "configured.sock")
    s = Slmd(slmd, config_text=config(configured), directory=d,
             prefix_argv=[activate, "-l", passed, "--fdname=api", "-E", "NOTIFY_SOCKET",
                          "-E", "PATH"])
    try:
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(passed):
            check(time.monotonic() < deadline, "systemd-socket-activate did not listen")
            time.sleep(0.05)
        # systemd-socket-activate starts the service at the first connection, like a
        # socket unit; that connection waits in the backlog and slmd must answer it
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(passed)
        client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        ready(s)
        client.settimeout(TIMEOUT)
        answer = client.recv(4096)
        client.close()
        check(answer.startswith(b"HTTP/1.1 200"), f"the first client got {answer[:200]!r}")
        check(f"using the socket passed by the service manager: {passed}" in s.log(), s.log())
        check(not os.path.exists(configured), "slmd bound the configured path as well")
        code, _ = http_request(passed, "GET", "/v1/models")
        check(code == 200, f"GET /v1/models on the passed socket: {code}")
        stop(s)
        check(os.path.exists(passed), "slmd removed the service manager's socket file")
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)


run_tests([test_binds_the_configured_path, test_replaces_a_stale_socket,
           test_socket_option_overrides_config, test_socket_activation])
