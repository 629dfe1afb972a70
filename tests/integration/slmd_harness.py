"""Runs slmd the way systemd would, for the integration tests.

A SOCK_DGRAM socket stands in for systemd's notify socket (NOTIFY_SOCKET), so a test can
wait for READY=1, STATUS=, RELOADING=1, STOPPING=1 exactly as the service manager sees
them. No systemd, D-Bus or root is needed.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Generous: a loaded CI machine, sanitizer builds. The design budget (0.5 s to READY) is
# measured by bench/, not asserted here.
TIMEOUT = 30.0


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(0)


def shared_models_dir():
    """The models/ folder of the reference data (SLM_SHARED), or None when it is absent."""
    shared = os.environ.get("SLM_SHARED") or "../shared"
    if not os.path.exists(os.path.join(shared, "README.md")):
        return None
    return os.path.join(shared, "models")


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


class Failure(Exception):
    pass


def http_request(socket_path, method, path, body=None, timeout=TIMEOUT):
    """One HTTP/1.1 request over slmd's Unix socket; returns (status, parsed JSON or text)."""
    import http.client
    import json

    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(socket_path)

    conn = UnixConnection("localhost", timeout=timeout)
    try:
        payload = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data
    finally:
        conn.close()


def check(cond, message):
    if not cond:
        raise Failure(message)


class NotifyListener:
    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # list of dicts, one per datagram, in arrival order

    def close(self):
        self.sock.close()

    def _receive(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        fields = {}
        for line in data.decode("utf-8", "replace").split("\n"):
            if "=" in line:
                key, value = line.split("=", 1)
                fields[key] = value
        self.messages.append(fields)
        return fields

    def wait_for(self, predicate, what, timeout=TIMEOUT, start=0):
        """Returns the first message (from index `start`) for which predicate(msg) holds."""
        for msg in self.messages[start:]:
            if predicate(msg):
                return msg
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._receive(deadline - time.monotonic())
            if msg is not None and predicate(msg):
                return msg
        raise Failure(f"timed out after {timeout}s waiting for {what}; got {self.messages}")

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._receive(deadline - time.monotonic())


class Slmd:
    """slmd under a notify listener, in a private temporary directory."""

    def __init__(self, binary, config_text=None, args=(), prefix_argv=(), env=None,
                 directory=None):
        self.dir = directory or tempfile.mkdtemp(prefix="slmd-it-")
        self.owns_dir = directory is None
        self.config = os.path.join(self.dir, "slmd.yaml")
        if config_text is not None:
            self.write_config(config_text)
        self.notify = NotifyListener(self.dir)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("LISTEN_", "NOTIFY_", "WATCHDOG_"))
                       and k not in ("INVOCATION_ID", "JOURNAL_STREAM")}
        environment["NOTIFY_SOCKET"] = self.notify.path
        environment.update(env or {})
        self.stderr = open(self.stderr_path, "wb")
        argv = list(prefix_argv) + [binary, "--config", self.config, "--bus", "none"] + list(args)
        self.proc = subprocess.Popen(argv, env=environment, stdout=self.stderr,
                                     stderr=self.stderr, cwd=self.dir)

    def write_config(self, text):
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config)

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=TIMEOUT):
        """Waits until `text` appears in slmd's output (log lines of engine events can
        trail the notification that reflects them)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                raise Failure(f"timed out after {timeout}s waiting for {text!r} in the log:\n"
                              f"{self.log()}")
            time.sleep(0.05)

    def signal(self, signo):
        self.proc.send_signal(signo)

    def wait_exit(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"slmd did not exit within {timeout}s")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        self.stderr.close()
        log = self.log()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        # sanitizer builds: a report fails the test even when slmd kept going
        for marker in SANITIZER_MARKERS:
            if marker in log:
                raise Failure(f"sanitizer report from slmd:\n{log}")


def run_tests(tests):
    """Runs each test function; prints a summary; exits 1 if any failed."""
    failed = 0
    for test in tests:
        try:
            test()
            print(f"ok   {test.__name__}")
        except Failure as e:
            failed += 1
            print(f"FAIL {test.__name__}: {e}")
    print(f"{len(tests) - failed} of {len(tests)} passed")
    sys.exit(1 if failed else 0)


__all__ = ["Slmd", "NotifyListener", "Failure", "check", "run_tests", "skip", "http_request",
           "shared_models_dir", "TIMEOUT", "signal"]
