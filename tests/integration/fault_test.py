#!/usr/bin/env python3
"""Faults while slmd serves: each test keeps slmd serving the other clients and models,
or shows that it restarts cleanly.

  - reload with a broken config while requests run (syntax error, a model that does not
    exist, a list instead of a mapping, a file cut short, a value of the wrong type): the old models keep answering, the error is in STATUS=;
  - a model file truncated in place while it generates, read into slmd's own memory
    (the default) or mapped (the SIGBUS guard in core/util/mapped_file.c), found by the
    engine's file check: slmd lives, the request in flight
    gets an answer (a result or an explicit error), the other model serves, and the model
    comes back once the file is whole again;
  - a model file replaced by rename while requests run: every request is answered, the
    model reloads from the new file;
  - clients that send half a request and stall, and clients that never read their
    stream: the others are served at once, the stalled connections are closed after the
    idle timeout, the slot of the unread stream is freed when its client goes;
  - the file-descriptor limit reached (RLIMIT_NOFILE 64, hundreds of connections): slmd
    refuses what it cannot take, does not spin, and serves again once they close;
  - SIGKILL in the middle of requests, then a restart on the same socket path and bus
    name: ready again, socket rebound, nothing half-written left in the runtime
    directory.

usage: fault_test.py SLMD SLM
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from ipc_harness import (Service, check, raw_request, reference_models, run_tests, skip,
                         tool, Failure, TIMEOUT)

slmd, slm = sys.argv[1], sys.argv[2]
for binary in (slmd, slm):
    if not os.access(binary, os.X_OK):
        skip(f"{binary} is not built")
tool("busctl")
M = reference_models()
TINY = os.path.join(M, "llama-spm-tiny-Q8_0.gguf")
SENTIMENT = os.path.join(M, "distilbert-tiny-sst2")
PROMPT = "Once upon a time, a small gateway"
HTTP_IDLE_TIMEOUT_SEC = 30  # ipc/http_server.c: a connection silent this long is closed


def answered(status, body):
    """A request got a result, or an explicit error in OpenAI's shape."""
    if status == 200:
        return True
    return isinstance(body, dict) and "error" in body and body["error"].get("message")


class Background:
    """Client threads sending `body` to `path` in a loop; records every outcome."""

    def __init__(self, service, requests, threads=2):
        self.service, self.requests = service, requests
        self.stop = threading.Event()
        self.results = []  # (path, status, body or exception text)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                        for i in range(threads)]
        for t in self.threads:
            t.start()

    def _loop(self, i):
        n = 0
        while not self.stop.is_set():
            path, body = self.requests[(i + n) % len(self.requests)]
            n += 1
            try:
                status, reply = self.service.http("POST", path, body)
            except Exception as e:  # no answer at all
                status, reply = None, repr(e)
            with self.lock:
                self.results.append((path, status, reply))
            time.sleep(0.02)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(TIMEOUT)
        bad = [r for r in self.results if r[1] is None or not answered(r[1], r[2])]
        check(not bad, f"{len(bad)} requests without an answer: {bad[:3]}")
        return self.results

    def count_ok(self, path=None):
        with self.lock:
            return sum(1 for p, s, _ in self.results if s == 200 and (path is None or p == path))


def generate(model="tiny", max_tokens=8, **extra):
    return ("/v1/completions", dict({"model": model, "prompt": PROMPT,
                                      "max_tokens": max_tokens, "temperature": 0}, **extra))


CLASSIFY = ("/v1/classify", {"model": "sentiment", "input": "I love this"})


def wait_until(predicate, what, within=TIMEOUT):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise Failure(f"timed out after {within}s waiting for {what}")


def wait_served(service, request, within=TIMEOUT):
    """Until `request` (path, body) is answered 200 (the model came back)."""
    last = []

    def ok():
        last[:] = service.http("POST", *request)
        return last[0] == 200
    try:
        wait_until(ok, f"{request[1]['model']} to serve again", within)
    except Failure as e:
        raise Failure(f"{e}; last answer {last}")


def refused_reloads(service):
    """READY=1 notifications whose STATUS= says a reload was refused."""
    return sum(1 for m in list(service.slmd.notify.messages)
               if m.get("READY") == "1" and "reload failed" in m.get("STATUS", ""))


def test_reload_broken_config_while_serving():
    service = Service(slmd, {"tiny": [f"path: {TINY}", "parallel: 2", "preload: true"],
                             "sentiment": [f"path: {SENTIMENT}", "preload: true"]}, bus=False)
    try:
        good = service.config_text
        load = Background(service, [generate(), CLASSIFY], threads=3)
        broken = {
            "syntax": good + "  - name: [unclosed\n",
            "missing model": good.replace(TINY, "/nonexistent/model.gguf"),
            "not a mapping": "- threads\n- models\n",
            "cut short": good[:good.index("models:") + 12],
            "wrong type": good.replace("threads: 2", "threads: many"),
        }
        for what, text in broken.items():
            before = load.count_ok()
            refusals = refused_reloads(service)
            service.slmd.write_config(text)
            service.slmd.signal(signal.SIGHUP)
            # READY=1 again, with the refusal in STATUS=
            wait_until(lambda: refused_reloads(service) > refusals,
                       f"the broken config ({what}) to be refused")
            time.sleep(0.5)
            check(service.slmd.proc.poll() is None, f"slmd exited on a broken config ({what})")
            wait_until(lambda: load.count_ok() > before + 4,
                       f"requests to keep succeeding after a broken config ({what})")
            status, body = service.http("GET", "/v1/models")
            check(status == 200 and {m["id"] for m in body["data"]} == {"tiny", "sentiment"},
                  f"the old models are not all served after '{what}': {body}")
        # a good config again: reload applies it
        service.slmd.write_config(good.replace("parallel: 2", "parallel: 3"))
        service.slmd.signal(signal.SIGHUP)
        wait_until(lambda: service.http("GET", "/v1/models/tiny")[1]["slmd"]["parallel"] == 3,
                   "the repaired config to apply")
        results = load.finish()
        check(all(s == 200 for _, s, _ in results),
              f"a request failed during the broken reloads: "
              f"{[r for r in results if r[1] != 200][:3]}")
        print(f"  {len(results)} requests answered 200 across 5 broken reloads and a good one")
    finally:
        service.close()


def copy_model(directory, name="model.gguf"):
    path = os.path.join(directory, name)
    shutil.copy(TINY, path)
    return path


def model_service(extra_tiny=(), weights=None):
    """slmd serving a copy of the tiny model (it is damaged on purpose) and the sentiment
    classifier; `weights` (private, mapped) as SLM_WEIGHTS, else slmd's default."""
    import tempfile
    d = tempfile.mkdtemp(prefix="slmd-fault-model-")
    path = copy_model(d)
    service = Service(slmd, {"tiny": [f"path: {path}", "parallel: 2", "preload: true",
                                      *extra_tiny],
                             "sentiment": [f"path: {SENTIMENT}", "preload: true"]}, bus=False,
                      env={"SLM_WEIGHTS": weights} if weights else None)
    return service, d, path


def long_stream(service):
    """A streamed generation that runs for a while; returns its socket after 2 events."""
    s = raw_request(service.socket, "POST", "/v1/completions",
                    {"model": "tiny", "prompt": PROMPT, "max_tokens": 1500,
                     "ignore_eos": True, "stream": True})
    s.settimeout(TIMEOUT)
    data = b""
    while data.count(b"data: ") < 2:
        chunk = s.recv(4096)
        check(chunk, f"the stream ended early: {data!r}")
        data += chunk
    return s, data


def read_to_end(s):
    """All that is left on the socket until the server closes it or ends the stream."""
    data = b""
    s.settimeout(TIMEOUT)
    try:
        while not data.endswith(b"0\r\n\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data


def test_model_truncated_in_place():
    """weights: private (the default): slmd reads on from its own copy of the file."""
    model_truncated_in_place(None)


def test_model_truncated_in_place_mapped():
    """weights: mapped: the pages past the new end fault, the SIGBUS guard answers."""
    model_truncated_in_place("mapped")


def model_truncated_in_place(weights):
    service, d, path = model_service(weights=weights)
    try:
        load = Background(service, [CLASSIFY], threads=1)
        stream, _ = long_stream(service)
        size = os.path.getsize(path)
        with open(path, "r+b") as f:  # truncated where it lies, pages mapped by slmd
            f.truncate(size // 3)
        rest = read_to_end(stream)
        # the stream ended with an answer: the last tokens, then an error event or the end
        check(rest.endswith(b"0\r\n\r\n"), f"the stream was cut without an end: {rest[-300:]!r}")
        check(service.slmd.proc.poll() is None, "slmd died when its model file was truncated")
        # requests meanwhile: an explicit error or a result, never silence
        status, body = service.http("POST", *generate())
        check(answered(status, body), f"no answer while the file is truncated: {status} {body}")
        if status != 200:
            message = body["error"]["message"]
            print(f"  while truncated: {status} {message[:110]}")
            # a broken model file is slmd's problem, not the caller's (500, or 503 while it
            # reloads), and the caller learns the model's name, not where its file lies
            check(status in (500, 503), f"a broken model file answered {status}: {message}")
            check(d not in message and d not in json.dumps(service.http(
                "GET", "/v1/models/tiny")[1]), f"the error shows the file's path: {message}")
        stream_text = rest.decode(errors="replace")
        check(d not in stream_text, f"the stream's error shows the path: {stream_text[-300:]}")
        # the file made whole again (rewritten in place, as `cp` over it does)
        with open(TINY, "rb") as src, open(path, "r+b") as f:
            f.write(src.read())
        wait_served(service, generate())
        check(load.count_ok() > 0, "the classifier did not serve during the fault")
        load.finish()
        check(service.slmd.proc.poll() is None, "slmd died")
        check("SIGBUS" not in service.log() or "changed" in service.log(), service.log()[-2000:])
    finally:
        service.close()
        shutil.rmtree(d, ignore_errors=True)


def test_model_replaced_by_rename_while_serving():
    service, d, path = model_service()
    try:
        # steady traffic: the model (parallel 2) is never idle while its file changes
        load = Background(service, [generate(max_tokens=24)], threads=6)
        other = Background(service, [CLASSIFY], threads=1)
        stream, _ = long_stream(service)
        time.sleep(0.3)
        tmp = os.path.join(d, ".model.gguf.new")
        shutil.copy(os.path.join(M, "llama-spm-tiny-Q4_0.gguf"), tmp)
        os.rename(tmp, path)
        rest = read_to_end(stream)
        check(rest.endswith(b"0\r\n\r\n"), f"the stream was cut without an end: {rest[-300:]!r}")
        service.slmd.wait_log("changed on disk")
        # the new file is served: slm info of what /v1/models reports
        wait_until(lambda: service.http("GET", "/v1/models/tiny")[1]["slmd"]["loaded"],
                   "the model to load again")
        wait_served(service, generate())
        time.sleep(1.0)
        check(other.count_ok() > 0, "the classifier did not serve meanwhile")
        other.finish()
        results = load.finish()
        codes = {}
        for _, status, _ in results:
            codes[status] = codes.get(status, 0) + 1
        print(f"  answers during the replacement: {codes}")
        check(codes.get(200, 0) > 0, "nothing succeeded")
        check(set(codes) <= {200, 503}, f"unexpected statuses: {codes}")
        # only what ran when the file changed is cancelled (2 slots, one of them the
        # stream); the queued requests wait for the reload and succeed
        check(codes.get(503, 0) <= 2, f"{codes.get(503)} requests cancelled: queued or new "
              "requests were cancelled as well, again and again")
    finally:
        service.close()
        shutil.rmtree(d, ignore_errors=True)


def test_half_requests_and_unread_streams():
    service = Service(slmd, {"tiny": [f"path: {TINY}", "parallel: 2", "preload: true",
                                      "context: 2048"],
                             "sentiment": [f"path: {SENTIMENT}", "preload: true"]}, bus=False)
    stalled = []
    try:
        # 20 clients that send half a request (headers cut, or a body shorter than its
        # Content-Length) and then say nothing
        for i in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(service.socket)
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le" if i % 2 else
                      b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"m")
            stalled.append(s)
        # a stream whose client never reads, with a tiny receive buffer so it fills
        unread = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unread.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        unread.connect(service.socket)
        body = json.dumps({"model": "tiny", "prompt": PROMPT, "max_tokens": 1900,
                           "ignore_eos": True, "stream": True}).encode()
        unread.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       b"application/json\r\nContent-Length: " + str(len(body)).encode()
                       + b"\r\n\r\n" + body)
        service.wait_metric("slmd_sequences_active", "tiny", 1, TIMEOUT)
        started = time.monotonic()
        # everyone else is served, quickly
        for _ in range(5):
            t = time.monotonic()
            status, _ = service.http("GET", "/health")
            check(status == 200 and time.monotonic() - t < 1.0, "the loop is blocked")
            status, reply = service.http("POST", *CLASSIFY)
            check(status == 200, f"classify: {status} {reply}")
            status, reply = service.http("POST", *generate(max_tokens=4))
            check(status == 200, f"generate: {status} {reply}")
        rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{service.slmd.proc.pid}/status")
                            .read()).group(1))
        # the stalled connections are closed by slmd after its idle timeout
        for s in stalled:
            s.settimeout(HTTP_IDLE_TIMEOUT_SEC + 15 - (time.monotonic() - started))
            try:
                data = s.recv(4096)
            except socket.timeout:
                raise Failure("a half request was still open after the idle timeout")
            except ConnectionResetError:
                data = b""
            check(data == b"" or data.startswith(b"HTTP/1.1 4"),
                  f"a half request got {data[:100]!r}")
        took = time.monotonic() - started
        print(f"  20 half requests closed after {took:.0f} s; VmRSS with an unread stream "
              f"{rss // 1024} MiB")
        # the unread stream holds its slot until its client goes (or its request times
        # out); then the slot is free within a second
        check(service.metric("slmd_sequences_active", "tiny") <= 1, "slots")
        unread.close()
        took = service.wait_metric("slmd_sequences_active", "tiny", 0, 5)
        check(took < 1.0, f"the unread stream's slot was freed after {took:.2f}s")
        status, reply = service.http("POST", *generate(max_tokens=4))
        check(status == 200, f"after: {status} {reply}")
    finally:
        for s in stalled:
            s.close()
        service.close()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_fd_limit():
    limit = 64

    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    # Service starts slmd through the harness; lower the limit with prlimit afterwards
    service = Service(slmd, {"tiny": [f"path: {TINY}", "preload: true"],
                             "sentiment": [f"path: {SENTIMENT}", "preload: true"]}, bus=True)
    conns = []
    try:
        pid = service.slmd.proc.pid
        subprocess.run([tool("prlimit"), f"--pid={pid}", f"--nofile={limit}:{limit}"],
                       check=True)
        open_fds = len(os.listdir(f"/proc/{pid}/fd"))
        # far more connections than it has descriptors left; the kernel queues some in
        # the listen backlog, slmd accepts until EMFILE
        refused = 0
        for _ in range(300):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect(service.socket)
                conns.append(s)
            except (BlockingIOError, ConnectionRefusedError, socket.timeout, OSError):
                refused += 1
                s.close()
        time.sleep(1.0)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        check(fds <= limit, f"{fds} descriptors open, limit {limit}")
        # while saturated: slmd must not spin on a listen socket it cannot accept from
        cpu_before = cpu_seconds(pid)
        time.sleep(3.0)
        spent = cpu_seconds(pid) - cpu_before
        check(service.slmd.proc.poll() is None, "slmd died at the descriptor limit")
        # a request on one of the accepted connections is still served
        served = 0
        for s in conns[:5]:
            try:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    served += 1
            except OSError:
                pass
        print(f"  started with {open_fds} fds; 300 connections: {len(conns)} connected, "
              f"{refused} refused; {fds} fds open; {spent:.2f} s CPU in 3 s at the limit; "
              f"{served}/5 accepted ones served")
        check(spent < 1.0, f"slmd spun at the descriptor limit: {spent:.2f} s CPU in 3 s")
        # D-Bus still answers (its connection is already open)
        p = service.run([tool("busctl"), "--system", "call", "org.slmd.Slmd1",
                         "/org/slmd/Slmd1/models/sentiment", "org.slmd.Slmd1.Model",
                         "Classify", "s", "good"], timeout=TIMEOUT)
        check(p.returncode == 0, f"D-Bus at the limit: {p.stderr!r}")
        # they go away: everything works again
        for s in conns:
            s.close()
        conns = []
        wait_until(lambda: len(os.listdir(f"/proc/{pid}/fd")) <= open_fds + 4,
                   "the descriptors to be released", within=HTTP_IDLE_TIMEOUT_SEC + 15)
        status, reply = service.http("POST", *generate(max_tokens=4))
        check(status == 200, f"after the flood: {status} {reply}")
        status, reply = service.http("POST", *CLASSIFY)
        check(status == 200, f"after the flood: {status} {reply}")
    finally:
        for s in conns:
            s.close()
        service.close()


def test_sigkill_then_restart():
    service = Service(slmd, {"tiny": [f"path: {TINY}", "parallel: 2", "preload: true"],
                             "sentiment": [f"path: {SENTIMENT}", "preload: true"]}, bus=True)
    try:
        before = set(os.listdir(service.dir))
        load = Background(service, [generate(max_tokens=64), CLASSIFY], threads=3)
        stream, _ = long_stream(service)
        time.sleep(0.5)
        service.slmd.proc.send_signal(signal.SIGKILL)
        service.slmd.proc.wait()
        load.stop.set()
        for t in load.threads:
            t.join(TIMEOUT)
        # the clients in flight see the connection end (no hang): their socket closes
        stream.settimeout(5)
        try:
            while stream.recv(65536):
                pass
        except ConnectionResetError:
            pass
        stream.close()
        after = set(os.listdir(service.dir))
        leftover = {f for f in after - before if f != "notify.sock"}
        check(not leftover, f"files left half-written: {leftover}")
        check(os.path.exists(service.socket), "the socket file vanished")  # stale, on purpose
        # restart on the same directory, config, socket path and bus (the harness's
        # notify drainer stops meanwhile, so READY=1 is seen here)
        service.draining = False
        service.drainer.join()
        service.slmd.notify.close()
        service.slmd.stderr.close()
        os.unlink(service.slmd.notify.path)
        from slmd_harness import Slmd
        started = time.monotonic()
        service.slmd = Slmd(slmd, directory=service.dir, args=["--bus", "system"],
                            env=service.env)
        service.slmd.notify.wait_for(lambda m: m.get("READY") == "1", "READY=1 after restart")
        took = time.monotonic() - started
        service.draining = True
        service.drainer = threading.Thread(target=service._drain_notify, daemon=True)
        service.drainer.start()
        status, reply = service.http("POST", *generate(max_tokens=4))
        check(status == 200, f"after restart: {status} {reply}")
        p = service.run([tool("busctl"), "--system", "call", "org.slmd.Slmd1",
                         "/org/slmd/Slmd1/models/sentiment", "org.slmd.Slmd1.Model",
                         "Classify", "s", "good"], timeout=TIMEOUT)
        check(p.returncode == 0, f"D-Bus after restart: {p.stderr!r}")
        print(f"  ready {took:.2f} s after the restart; socket rebound, bus name taken")
    finally:
        service.close()


run_tests([test_reload_broken_config_while_serving, test_model_truncated_in_place,
           test_model_truncated_in_place_mapped,
           test_model_replaced_by_rename_while_serving, test_half_requests_and_unread_streams,
           test_fd_limit, test_sigkill_then_restart])
