#!/usr/bin/env python3
"""The D-Bus API (DESIGN.md "D-Bus API") on a private bus, with dbus-send, busctl,
dbus-monitor and slm: every Manager, Model and Request member, the properties and their
change signals, results equal to the in-process `slm` commands, the documented errors,
a full queue, an unauthorized uid, and callers that leave or cancel.

usage: ipc_dbus_test.py SLMD SLM
"""
import os
import re
import signal
import subprocess
import sys
import time

from ipc_harness import (Service, check, parse_busctl_string, reference_models, run_tests,
                         skip, slm_generate_offline, tool, without_root, Failure, STRANGER,
                         TIMEOUT)

slmd, slm = sys.argv[1], sys.argv[2]
for binary in (slmd, slm):
    if not os.access(binary, os.X_OK):
        skip(f"{binary} is not built")
for name in ("dbus-daemon", "dbus-send", "busctl", "dbus-monitor", "setpriv", "curl"):
    tool(name)
M = reference_models()
TINY = os.path.join(M, "llama-spm-tiny-Q8_0.gguf")
PHI3 = os.path.join(M, "phi3-tiny-F16.gguf")
PROMPT = "Once upon a time, a small gateway"

MODEL = "/org/slmd/Slmd1/models/"
MANAGER = "/org/slmd/Slmd1"
IFACE = "org.slmd.Slmd1.Model"

service = Service(slmd, {
    "tiny": [f"path: {TINY}", "parallel: 2", "preload: true"],
    "tiny-small": [f"path: {TINY}", "context: 64"],
    "chat": [f"path: {PHI3}"],
    "sentiment": [f"path: {os.path.join(M, 'distilbert-tiny-sst2')}"],
    "ner": [f"path: {os.path.join(M, 'distilbert-tiny-ner')}"],
    "embedder": [f"path: {os.path.join(M, 'bert-tiny-F16.gguf')}"],
}, server_extra="  max_queue: 3\n  allowed_groups: [nogroup]\n")


def model_property(model, name):
    return service.busctl("get-property", "org.slmd.Slmd1", MODEL + model, IFACE, name)


def wait_property(model, name, value, within):
    start = time.monotonic()
    while time.monotonic() - start < within:
        if model_property(model, name) == value:
            return time.monotonic() - start
        time.sleep(0.02)
    raise Failure(f"{model}.{name} is {model_property(model, name)}, not {value}, after {within}s")


def generate(model, prompt, n, *extra):
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + model, IFACE, "Generate", "sa{ss}",
                         prompt, str(2 + len(extra) // 2), "max_tokens", str(n), "temperature",
                         "0", *extra)
    check(out.startswith("sa{ss} "), out)
    return out


def long_generation(model="tiny"):
    """A dbus-send Generate that runs until cancelled."""
    return subprocess.Popen([tool("dbus-send"), "--system", "--print-reply",
                             "--reply-timeout=600000", "--dest=org.slmd.Slmd1", MODEL + model,
                             IFACE + ".Generate", "string:" + PROMPT,
                             "dict:string:string:max_tokens,1900,ignore_eos,true"],
                            env=service.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_tree_and_introspection():
    tree = service.busctl("tree", "org.slmd.Slmd1")
    for path in ("/org/slmd/Slmd1/models/tiny", "/org/slmd/Slmd1/models/tiny_2dsmall",
                 "/org/slmd/Slmd1/models/sentiment", "/org/slmd/Slmd1/requests"):
        check(path in tree, f"busctl tree lacks {path}:\n{tree}")
    intro = service.busctl("introspect", "org.slmd.Slmd1", MODEL + "tiny")
    for member, sig in ((".Generate", "sa{ss}"), (".Chat", "a(ss)a{ss}"), (".Classify", "s"),
                        (".ClassifyTokens", "s"), (".Embed", "s"), (".Tokenize", "s"),
                        (".StartGenerate", "sa{ss}")):
        check(re.search(re.escape(member) + r"\s+method\s+" + re.escape(sig), intro),
              f"{member} {sig} missing:\n{intro}")
    for prop in (".Name", ".Task", ".Architecture", ".Loaded", ".ContextLength"):
        check(re.search(re.escape(prop) + r"\s+property", intro), f"{prop} missing")
    rc, out = service.dbus_send(MANAGER, "org.freedesktop.DBus.Introspectable.Introspect")
    check(rc == 0 and "ListModels" in out and "org.slmd.Slmd1.Manager" in out, out)
    service.busctl("call", "org.slmd.Slmd1", MODEL + "tiny", "org.freedesktop.DBus.Peer", "Ping")


def test_manager_list_and_properties():
    rc, out = service.dbus_send(MANAGER, "org.slmd.Slmd1.Manager.ListModels")
    check(rc == 0, out)
    for name in ("tiny", "tiny-small", "chat", "sentiment", "ner", "embedder"):
        check(f'string "{name}"' in out, f"ListModels lacks {name}: {out}")
    out = service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager",
                         "ListModels")
    check(out.startswith("a(sssb) 6 "), out)
    check('"tiny" "generate" "llama" true' in out, out)
    version = service.busctl("get-property", "org.slmd.Slmd1", MANAGER,
                             "org.slmd.Slmd1.Manager", "Version")
    check(re.fullmatch(r's "\d+\.\d+\.\d+"', version), version)
    models = service.busctl("get-property", "org.slmd.Slmd1", MANAGER,
                            "org.slmd.Slmd1.Manager", "Models")
    check(models.startswith("as 6 ") and '"tiny"' in models, models)
    check(model_property("tiny", "Name") == 's "tiny"', model_property("tiny", "Name"))
    check(model_property("tiny", "Task") == 's "generate"', model_property("tiny", "Task"))
    check(model_property("tiny", "Architecture") == 's "llama"', "architecture")
    check(model_property("tiny", "Loaded") == "b true", "loaded")
    check(model_property("tiny", "ContextLength") == "u 2048", model_property("tiny", "ContextLength"))
    # Set is refused: the properties are read-only
    p = service.busctl("set-property", "org.slmd.Slmd1", MODEL + "tiny", IFACE, "Name", "s",
                       "x", check_ok=False)
    check(p.returncode != 0, "set-property succeeded")


def test_generate_equals_offline():
    expected = slm_generate_offline(slm, TINY, PROMPT, 16)
    out = generate("tiny", PROMPT, 16)
    check(parse_busctl_string(out) == expected, f"{out!r} != {expected!r}")
    check('"finish_reason" "length"' in out and '"completion_tokens" "16"' in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:" + PROMPT,
                                "dict:string:string:max_tokens,16,temperature,0")
    check(rc == 0 and expected.strip() in out, out)
    # slm as a client prints the same, streamed (StartGenerate) and in one reply (Generate)
    for extra in ([], ["--no-stream"]):
        p = service.run([slm, "generate", "--daemon", "-m", "tiny", "-p", PROMPT, "-n", "16",
                         "--temp", "0"] + extra, check_ok=True)
        check(p.stdout.decode() == expected + "\n", f"slm --daemon {extra}: {p.stdout!r}")


def test_chat():
    p = subprocess.run([slm, "generate", "--chat", "-m", PHI3, "-p", "Hello there", "-n", "8",
                        "--temp", "0", "-t", "1"], capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0, p.stderr)
    expected = p.stdout.decode()[:-1]
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + "chat", IFACE, "Chat", "a(ss)a{ss}",
                         "1", "user", "Hello there", "2", "max_tokens", "8", "temperature", "0")
    check(out.startswith("sa{ss} ") and parse_busctl_string(out) == expected,
          f"{out!r} != {expected!r}")
    # slm chat over D-Bus: StartChat, the reply streamed
    p = service.run([slm, "chat", "--daemon", "-m", "chat", "-n", "8", "--temp", "0"],
                    input=b"Hello there\n", check_ok=True)
    check(p.stdout.decode() == expected + "\n", f"slm chat: {p.stdout!r} != {expected!r}")
    check(model_property("chat", "Task") == 's "chat"', model_property("chat", "Task"))


def test_tokenize_detokenize():
    p = subprocess.run([slm, "tokenize", "-m", TINY], input=b"Hello world", capture_output=True,
                       timeout=TIMEOUT)
    check(p.returncode == 0, p.stderr)
    ids = p.stdout.decode().split()
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + "tiny", IFACE, "Tokenize", "s",
                         "Hello world")
    check(out == f"au {len(ids)} " + " ".join(ids), f"{out} vs {ids}")
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + "tiny", IFACE, "Detokenize", "au",
                         str(len(ids) - 1), *ids[1:])
    check(parse_busctl_string(out) == "Hello world", out)


def offline(*argv):
    p = subprocess.run([slm] + list(argv) + ["-t", "1"], capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0, f"slm {argv}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode()


def test_encoders():
    label, score = offline("classify", "-m", os.path.join(M, "distilbert-tiny-sst2"),
                           "I love this").split()
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + "sentiment", IFACE, "Classify", "s",
                         "I love this")
    m = re.match(r'a\(sd\) 2 "(\w+)" ([0-9.e-]+) "(\w+)" ([0-9.e-]+)$', out)
    check(m and m.group(1) == label and abs(float(m.group(2)) - float(score)) < 1e-3, out)
    check(float(m.group(2)) >= float(m.group(4)), "labels not best first")
    lines = offline("classify", "-m", os.path.join(M, "distilbert-tiny-ner"),
                    "John lives in Paris").strip().splitlines()
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + "ner", IFACE, "ClassifyTokens", "s",
                         "John lives in Paris")
    check(out.startswith(f"a(suud) {len(lines)} "), f"{out} vs {lines}")
    for line in lines:
        lab, start, end, sc, _ = line.split("\t")
        check(f'"{lab}" {start} {end} ' in out, f"{line} not in {out}")
    vec = [float(x) for x in offline("embed", "-m", os.path.join(M, "bert-tiny-F16.gguf"),
                                     "hello world").split()]
    out = service.busctl("call", "org.slmd.Slmd1", MODEL + "embedder", IFACE, "Embed", "s",
                         "hello world").split()
    check(out[0] == "ad" and int(out[1]) == len(vec), out[:3])
    got = [float(x) for x in out[2:]]
    check(max(abs(a - b) for a, b in zip(got, vec)) < 1e-4, "embedding differs from slm embed")
    p = service.run([slm, "embed", "--daemon", "-m", "embedder", "hello world"], check_ok=True)
    check([float(x) for x in p.stdout.split()] == [float(f"{v:.7g}") for v in vec] or
          max(abs(float(a) - b) for a, b in zip(p.stdout.split(), vec)) < 1e-5, "slm embed --daemon")


def test_streaming_signals():
    expected = slm_generate_offline(slm, TINY, PROMPT, 24)
    monitor = subprocess.Popen([tool("dbus-monitor"), "--system",
                                "type='signal',interface='org.slmd.Slmd1.Request'"],
                               env=service.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        p = service.run([slm, "generate", "--daemon", "-m", "tiny", "-p", PROMPT, "-n", "24",
                         "--temp", "0"], check_ok=True)
        check(p.stdout.decode() == expected + "\n", f"{p.stdout!r} != {expected!r}")
        time.sleep(0.3)
    finally:
        monitor.terminate()
    log = monitor.communicate()[0].decode(errors="replace")
    tokens = re.findall(r"member=Token\n\s+string \"", log)
    check(len(tokens) >= 2, f"expected several Token signals:\n{log[:2000]}")
    check(len(re.findall(r"member=Finished", log)) == 1, "one Finished signal")
    check(re.search(r'member=Finished\n\s+string "length"', log), "Finished reason")
    # the signals went to the caller only (unicast)
    for dest in re.findall(r"signal time=\S+ sender=\S+ -> destination=(\S+)", log):
        check(dest.startswith(":"), f"broadcast signal (destination {dest})")


def test_errors():
    rc, out = service.dbus_send(MODEL + "nope", IFACE + ".Generate", "string:x",
                                "dict:string:string:")
    check(rc != 0 and "org.slmd.Slmd1.Error.NoSuchModel" in out and "nope" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:x",
                                "dict:string:string:max_tokens,-3")
    check(rc != 0 and "org.slmd.Slmd1.Error.InvalidArgs" in out and "max_tokens" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:x",
                                "dict:string:string:temperature,hot")
    check(rc != 0 and "InvalidArgs" in out and "temperature" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:x",
                                "dict:string:string:colour,red")
    check(rc != 0 and "InvalidArgs" in out and "unknown option 'colour'" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:x")
    check(rc != 0 and "InvalidArgs" in out and "sa{ss}" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Classify", "string:x")
    check(rc != 0 and "InvalidArgs" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny_2dsmall", IFACE + ".Generate",
                                "string:" + "once upon a time " * 80, "dict:string:string:")
    check(rc != 0 and "org.slmd.Slmd1.Error.ContextExceeded" in out, out)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Frobnicate")
    check(rc != 0 and "UnknownMethod" in out, out)
    rc, out = service.dbus_send("/org/slmd/Slmd1/requests/999999", "org.slmd.Slmd1.Request.Cancel")
    check(rc != 0 and "UnknownObject" in out, out)
    if not without_root("LoadModel of an unknown model"):
        rc, out = service.dbus_send(MANAGER, "org.slmd.Slmd1.Manager.LoadModel", "string:nope")
        check(rc != 0 and "NoSuchModel" in out, out)
    # the slm client reports the daemon's message and fails with status 1
    p = service.run([slm, "generate", "--daemon", "-m", "nope", "-p", "x"])
    check(p.returncode == 1 and b"no model named 'nope'" in p.stderr, p.stderr)


def test_full_queue_is_busy():
    # two run (parallel 2), then three wait (max_queue 3): one at a time, so that none is
    # refused before the scheduler took the first ones off the queue
    procs = [long_generation(), long_generation()]
    try:
        wait_property("tiny", "ActiveSequences", "u 2", TIMEOUT)
        for n in range(1, 4):
            procs.append(long_generation())
            wait_property("tiny", "QueuedRequests", f"u {n}", TIMEOUT)
        rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:x",
                                    "dict:string:string:max_tokens,1")
        check(rc != 0 and "org.slmd.Slmd1.Error.Busy" in out, out)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    took = max(wait_property("tiny", "ActiveSequences", "u 0", 5),
               wait_property("tiny", "QueuedRequests", "u 0", 5))
    check(took < 1.0, f"slots freed after {took:.2f}s")


def test_unauthorized_uid():
    if without_root("calling as another uid"):
        return
    p = service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager", "ListModels",
                       uid=STRANGER, check_ok=False)
    check(p.returncode != 0 and f"uid {STRANGER} may not use slmd".encode() in p.stderr,
          p.stderr)
    rc, out = service.dbus_send(MODEL + "tiny", IFACE + ".Generate", "string:x",
                                "dict:string:string:", uid=STRANGER)
    check(rc != 0 and "org.slmd.Slmd1.Error.AccessDenied" in out, out)
    # nobody is in nogroup, which allowed_groups lists: models yes, state changes no
    out = service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager",
                         "ListModels", uid=65534)
    check(out.startswith("a(sssb) 6"), out)
    out = generate("tiny", "Hi", 2)
    p = service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager", "LoadModel",
                       "s", "chat", uid=65534, check_ok=False)
    check(p.returncode != 0 and b"root" in p.stderr, p.stderr)
    # introspection describes the API to anyone; the properties' values are not for anyone
    rc, out = service.dbus_send(MANAGER, "org.freedesktop.DBus.Introspectable.Introspect",
                                uid=STRANGER)
    check(rc == 0 and "ListModels" in out, out)
    p = service.busctl("get-property", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager",
                       "Models", uid=STRANGER, check_ok=False)
    check(p.returncode != 0 and b"may not use slmd" in p.stderr, p.stderr)


def test_caller_leaving_cancels():
    proc = long_generation()
    try:
        wait_property("tiny", "ActiveSequences", "u 1", TIMEOUT)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    took = wait_property("tiny", "ActiveSequences", "u 0", 5)
    check(took < 1.0, f"the slot was freed after {took:.2f}s")
    check("left the bus; cancelling its request" in service.log(), "no log line")


def test_cancel_request_object():
    client = subprocess.Popen([slm, "generate", "--daemon", "-m", "tiny", "-p", PROMPT, "-n",
                               "1900", "--ignore-eos"], env=service.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_property("tiny", "ActiveSequences", "u 1", TIMEOUT)
        tree = service.busctl("tree", "org.slmd.Slmd1")
        paths = re.findall(r"/org/slmd/Slmd1/requests/\d+", tree)
        check(len(paths) == 1, tree)
        out = service.busctl("call", "org.slmd.Slmd1", paths[0], "org.slmd.Slmd1.Request",
                             "Cancel")
        _, err = client.communicate(timeout=TIMEOUT)
        check(client.returncode == 1 and b"cancelled" in err, err)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    check(wait_property("tiny", "ActiveSequences", "u 0", 5) < 1.0, "slot not freed")
    if without_root("cancelling another caller's request"):
        return
    # another user may not cancel someone else's request
    client = subprocess.Popen([slm, "generate", "--daemon", "-m", "tiny", "-p", PROMPT, "-n",
                               "1900", "--ignore-eos"], env=service.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_property("tiny", "ActiveSequences", "u 1", TIMEOUT)
        path = re.findall(r"/org/slmd/Slmd1/requests/\d+", service.busctl("tree", "org.slmd.Slmd1"))[0]
        p = service.busctl("call", "org.slmd.Slmd1", path, "org.slmd.Slmd1.Request", "Cancel",
                           uid=65534, check_ok=False)
        check(p.returncode != 0 and b"another client" in p.stderr, p.stderr)
    finally:
        client.kill()
        client.wait()


def test_load_unload_and_properties_changed():
    if without_root("LoadModel and UnloadModel"):
        return
    monitor = subprocess.Popen([tool("dbus-monitor"), "--system",
                                "type='signal',member='PropertiesChanged'"],
                               env=service.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager",
                       "UnloadModel", "s", "tiny")
        check(model_property("tiny", "Loaded") == "b false", "still loaded")
        p = service.run([slm, "list", "--daemon"], check_ok=True)
        check(re.search(rb"\ntiny\s+generate\s+llama\s+no\n", p.stdout), p.stdout)
        p = service.run([slm, "load", "tiny", "--daemon"], check_ok=True)
        check(model_property("tiny", "Loaded") == "b true", "not loaded again")
        time.sleep(0.3)
    finally:
        monitor.terminate()
    log = monitor.communicate()[0].decode(errors="replace")
    check("path=/org/slmd/Slmd1/models/tiny" in log, log[:2000])
    check(re.search(r'string "Loaded"\n\s+variant\s+boolean false', log), "Loaded false")
    check(re.search(r'string "Loaded"\n\s+variant\s+boolean true', log), "Loaded true")


def test_reload_adds_a_model():
    if without_root("Reload"):
        return
    text = service.config_text + f"  - name: extra\n    path: {TINY}\n"
    service.slmd.write_config(text)
    service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager", "Reload")
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        out = service.busctl("call", "org.slmd.Slmd1", MANAGER, "org.slmd.Slmd1.Manager",
                             "ListModels")
        if '"extra"' in out:
            break
        time.sleep(0.1)
    check('"extra"' in out, out)
    generate("extra", "Hi", 2)


try:
    run_tests([test_tree_and_introspection, test_manager_list_and_properties,
               test_generate_equals_offline, test_chat, test_tokenize_detokenize,
               test_encoders, test_streaming_signals, test_errors, test_full_queue_is_busy,
               test_unauthorized_uid, test_caller_leaving_cancels, test_cancel_request_object,
               test_load_unload_and_properties_changed, test_reload_adds_a_model])
finally:
    service.close()
