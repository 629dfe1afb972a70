"""What the ipc integration tests share: a private dbus-daemon, slmd serving on it and on
a temporary socket, the shared reference models, and small clients (HTTP over the Unix
socket with Python's standard library; dbus-send, busctl, curl and slm as subprocesses).

Every client of the private bus finds it through DBUS_SYSTEM_BUS_ADDRESS, so the
commands are the ones a user types against the system bus (`dbus-send --system`,
`busctl`, `slm --daemon`). The bus lets any uid connect and talk to slmd, so that slmd's
own allowed_groups check is what refuses an unauthorized caller.
"""
import grp
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from slmd_harness import Slmd, Failure, check, run_tests, skip, shared_models_dir, TIMEOUT


def stranger_uid():
    """A real user that the tests' allowed_groups ([nogroup]) leave out. A real one: the
    bus daemon drops connections from a uid that has no user entry."""
    nogroup = grp.getgrnam("nogroup").gr_gid if "nogroup" in {g.gr_name for g in grp.getgrall()} else None
    for name in ("daemon", "bin", "sys", "games", "man", "lp", "mail", "news"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        groups = os.getgrouplist(name, pw.pw_gid)
        if pw.pw_uid != 0 and nogroup not in groups:
            return pw.pw_uid
    skip("no system user outside nogroup to act as a stranger")


STRANGER = stranger_uid()
IS_ROOT = os.geteuid() == 0


def without_root(what):
    """True (after saying so) when the tests do not run as root: switching uids and the
    root-only Manager methods cannot be tried then."""
    if IS_ROOT:
        return False
    print(f"note: not root, so {what} is not checked")
    return True

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true"/>
    <allow receive_type="signal"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def tool(name):
    path = shutil.which(name)
    if not path:
        skip(f"{name} is not installed")
    return path


class PrivateBus:
    """A dbus-daemon of our own, reachable by every uid (the directory is 0755)."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "bus")
        config = os.path.join(directory, "bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(path=self.path))
        self.proc = subprocess.Popen([tool("dbus-daemon"), "--config-file", config, "--nofork",
                                      "--print-address=1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.address = self.proc.stdout.readline().decode().strip()
        check(self.address.startswith("unix:"), f"dbus-daemon did not start: {self.address!r}")
        os.chmod(self.path, 0o777)

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def reference_models():
    models = shared_models_dir()
    if not models:
        skip("reference data not found")
    return models


class Service:
    """slmd with `models` (name → YAML lines) on a private bus and socket."""

    def __init__(self, slmd, models, server_extra="", bus=True, env=None):
        self.dir = tempfile.mkdtemp(prefix="slmd-ipc-")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "slmd.sock")
        self.bus = PrivateBus(self.dir) if bus else None
        self.env = dict(os.environ)
        if self.bus:
            self.env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus.address
        self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        self.env.update(env or {})
        text = ("threads: 2\nserver:\n"
                f"  socket: {self.socket}\n  socket_mode: \"0666\"\n"
                f"  dbus: {'system' if bus else 'none'}\n" + server_extra + "models:\n")
        for name, lines in models.items():
            text += f"  - name: {name}\n" + "".join(f"    {l}\n" for l in lines)
        self.config_text = text
        self.slmd = Slmd(slmd, config_text=text, directory=self.dir,
                         args=["--bus", "system" if bus else "none"], env=self.env)
        self.slmd.notify.wait_for(lambda m: m.get("READY") == "1", "READY=1")
        # slmd sends STATUS= as models load and requests queue; a datagram socket nobody
        # reads fills up and then blocks its sd_notify(), as systemd never lets it happen
        self.draining = True
        self.drainer = threading.Thread(target=self._drain_notify, daemon=True)
        self.drainer.start()

    def _drain_notify(self):
        while self.draining:
            try:
                self.slmd.notify.drain(0.2)
            except OSError:
                return

    def log(self):
        return self.slmd.log()

    def close(self):
        self.draining = False
        self.drainer.join()
        try:
            self.slmd.signal(signal.SIGTERM)
            status = self.slmd.wait_exit()
            log = self.log()
            # a sanitizer build reports on stderr (the log) and through the exit status
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                check(bad not in log, f"slmd: {bad}:\n{log[-6000:]}")
            check(status == 0, f"slmd exited with {status} after SIGTERM:\n{log[-3000:]}")
        finally:
            self.slmd.close()
            if self.bus:
                self.bus.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- running commands ----

    def run(self, argv, uid=None, input=None, timeout=TIMEOUT, check_ok=False):
        """Runs a command (as `uid` through setpriv when given); returns CompletedProcess."""
        if uid is not None:
            argv = [tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + argv
        p = subprocess.run(argv, env=self.env, input=input, capture_output=True,
                           timeout=timeout)
        if check_ok and p.returncode != 0:
            raise Failure(f"{argv} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
        return p

    def busctl(self, *args, uid=None, check_ok=True):
        p = self.run([tool("busctl"), "--system", "--no-pager"] + list(args), uid=uid,
                     check_ok=check_ok)
        return p.stdout.decode().strip() if check_ok else p

    def dbus_send(self, path, method, *args, uid=None, timeout_ms=60000):
        """dbus-send --print-reply; returns (returncode, stdout+stderr text)."""
        p = self.run([tool("dbus-send"), "--system", "--print-reply",
                      f"--reply-timeout={timeout_ms}", "--dest=org.slmd.Slmd1", path, method]
                     + list(args), uid=uid)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    def curl(self, path, *args, uid=None):
        """curl over the socket; returns (status, body text)."""
        p = self.run([tool("curl"), "-s", "-w", "\n%{http_code}", "--unix-socket", self.socket,
                      f"http://localhost{path}"] + list(args), uid=uid)
        out = p.stdout.decode(errors="replace")
        body, _, code = out.rpartition("\n")
        return int(code or 0), body

    # ---- HTTP with the standard library ----

    def connection(self, timeout=TIMEOUT):
        return UnixHTTPConnection(self.socket, timeout)

    def http(self, method, path, body=None, raw=None, headers=None):
        """(status, parsed JSON or text)."""
        conn = self.connection()
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read().decode(errors="replace")
        conn.close()
        if r.getheader("Content-Type", "").startswith("application/json"):
            return r.status, json.loads(payload)
        return r.status, payload

    def metric(self, name, model):
        status, text = self.http("GET", "/metrics")
        check(status == 200, f"/metrics: {status}")
        for line in text.splitlines():
            if line.startswith(f'{name}{{model="{model}"}} '):
                return float(line.split()[-1])
        raise Failure(f"/metrics has no {name} for {model}")

    def wait_metric(self, name, model, value, within):
        """Polls until the metric equals value; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < within:
            if self.metric(name, model) == value:
                return time.monotonic() - start
            time.sleep(0.02)
        raise Failure(f"{name}{{model={model}}} still {self.metric(name, model)} after {within}s")

    def model_loaded(self, name):
        status, body = self.http("GET", f"/v1/models/{name}")
        return status == 200 and body["slmd"]["loaded"]

    def ensure_loaded(self, name):
        """Loads a model (D-Bus LoadModel or a tokenize request); False if it cannot load."""
        if not self.model_loaded(name):
            self.http("POST", "/v1/tokenize", {"model": name, "text": "x"})
        status, body = self.http("GET", f"/v1/models/{name}")
        return status == 200 and body["slmd"]["loaded"]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def raw_request(path, method, url, body):
    """A socket with a request sent and nothing read (for disconnect tests)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    data = json.dumps(body).encode()
    s.sendall(f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    return s


def slm_generate_offline(slm, model_path, prompt, n):
    """The greedy continuation `slm generate --temp 0` prints (without its newline)."""
    p = subprocess.run([slm, "generate", "-m", model_path, "-p", prompt, "-n", str(n),
                        "--temp", "0", "-t", "1"], capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0, f"slm generate: {p.stderr.decode(errors='replace')}")
    out = p.stdout.decode()
    check(out.endswith("\n"), "slm generate output does not end with a newline")
    return out[:-1]


def parse_busctl_string(text):
    """The first quoted string of busctl's output ('s "..."' or 'sa{ss} "..." N ...')."""
    start = text.index('"')
    i, out = start + 1, []
    while text[i] != '"':
        if text[i] == "\\":
            nxt = text[i + 1]
            if nxt in "01234567":
                out.append(int(text[i + 1:i + 4], 8))
                i += 4
                continue
            out.append(ord({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt)))
            i += 2
            continue
        out.extend(text[i].encode())
        i += 1
    return bytes(out).decode("utf-8", errors="replace")


__all__ = ["Service", "PrivateBus", "UnixHTTPConnection", "raw_request", "reference_models",
           "slm_generate_offline", "parse_busctl_string", "tool", "STRANGER", "IS_ROOT",
           "without_root", "Failure",
           "check", "run_tests", "skip", "TIMEOUT"]
