#!/usr/bin/env python3
"""The files systemd and D-Bus read: `systemd-analyze verify` on slmd.service and
slmd.socket (with the man pages they cite), `systemd-analyze security --offline=yes`
with the exposure asserted <= 1.0 (and printed), sysusers.d and tmpfiles.d applied to a
scratch root, and the D-Bus policy enforced by a private dbus-daemon: root may do
everything, group slmd may use models but not change state, everyone else is refused.

usage: units_test.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from slmd_harness import Failure, check, run_tests

source, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
units = os.path.join(build, "systemd")
analyze = shutil.which("systemd-analyze")
MAX_EXPOSURE = 1.0


def test_verify():
    if not analyze:
        print("note: not tested: systemd-analyze not installed")
        return
    slmd = os.path.join(build, "daemon", "slmd")
    if not os.access(slmd, os.X_OK):
        print(f"note: not tested: verify needs {slmd} (ExecStart=), which needs core/engine/")
        return
    env = dict(os.environ, MANPATH=os.path.join(build, "docs", "man"))
    p = subprocess.run([analyze, "verify", os.path.join(units, "test", "slmd.service"),
                        os.path.join(units, "test", "slmd.socket")],
                       capture_output=True, text=True, env=env, timeout=120)
    check(p.returncode == 0 and p.stdout == "" and p.stderr == "",
          f"verify: exit {p.returncode}\n{p.stdout}{p.stderr}")


def test_security_exposure():
    if not analyze:
        print("note: not tested: systemd-analyze not installed")
        return
    p = subprocess.run([analyze, "security", "--offline=yes", "--no-pager",
                        os.path.join(units, "slmd.service")],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for slmd\.service: ([0-9.]+) (\w+)", p.stdout)
    check(m is not None, f"no exposure level in:\n{p.stdout}{p.stderr}")
    exposure = float(m.group(1))
    print(f"systemd-analyze security: exposure {exposure} {m.group(2)}")
    check(exposure <= MAX_EXPOSURE, f"exposure {exposure} > {MAX_EXPOSURE}:\n{p.stdout}")


def test_service_settings():
    text = open(os.path.join(units, "slmd.service")).read()
    for line in ["NotifyAccess=main", "WatchdogSec=30s", "PrivateNetwork=yes",
                 "RestrictAddressFamilies=AF_UNIX", "CapabilityBoundingSet=",
                 "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes",
                 "ProtectSystem=strict", "RuntimeDirectory=slmd", "StateDirectory=slmd",
                 "User=slmd"]:
        check(f"\n{line}\n" in text, f"slmd.service lacks {line}")
    check(re.search(r"\nType=notify(-reload)?\n", text), "Type= is not notify(-reload)")
    if "\nType=notify\n" in text:
        check("\nExecReload=/bin/kill -HUP $MAINPID\n" in text, "Type=notify without ExecReload")
    socket_unit = open(os.path.join(source, "systemd", "slmd.socket")).read()
    for line in ["ListenStream=/run/slmd/slmd.sock", "SocketMode=0660", "SocketGroup=slmd",
                 "FileDescriptorName=api"]:
        check(f"\n{line}\n" in socket_unit, f"slmd.socket lacks {line}")
    activation = open(os.path.join(source, "systemd", "org.slmd.Slmd1.service")).read()
    check("\nName=org.slmd.Slmd1\n" in activation and
          "\nSystemdService=slmd.service\n" in activation, "D-Bus activation file")


def test_sysusers_and_tmpfiles():
    sysusers, tmpfiles = shutil.which("systemd-sysusers"), shutil.which("systemd-tmpfiles")
    if not sysusers or not tmpfiles:
        print("note: not tested: systemd-sysusers/systemd-tmpfiles not installed")
        return
    with tempfile.TemporaryDirectory(prefix="slmd-root-") as root:
        os.makedirs(os.path.join(root, "etc"))
        for f in ["passwd", "group", "shadow", "gshadow"]:
            open(os.path.join(root, "etc", f), "w").close()
        p = subprocess.run([sysusers, f"--root={root}",
                            os.path.join(source, "systemd", "slmd.sysusers")],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, f"sysusers: {p.stderr}")
        passwd = open(os.path.join(root, "etc", "passwd")).read()
        group = open(os.path.join(root, "etc", "group")).read()
        check(re.search(r"^slmd:x:\d+:\d+:[^:]*:/var/lib/slmd:", passwd, re.M), passwd)
        check(re.search(r"^slmd:x:\d+:", group, re.M), group)
        p = subprocess.run([tmpfiles, f"--root={root}", "--create",
                            os.path.join(source, "systemd", "slmd.tmpfiles")],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, f"tmpfiles: {p.stderr}")
        models = os.path.join(root, "var", "lib", "slmd", "models")
        check(os.path.isdir(models), "/var/lib/slmd/models not created")
        uid = int(re.search(r"^slmd:x:(\d+):", passwd, re.M).group(1))
        check(os.stat(models).st_uid == uid, "/var/lib/slmd/models not owned by slmd")


def python_with_dbus():
    for candidate in ["/usr/bin/python3", shutil.which("python3")]:
        if candidate and subprocess.run([candidate, "-c", "import dbus"],
                                        capture_output=True).returncode == 0:
            return candidate
    return None


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path={dir}/bus</listen>
  <auth>EXTERNAL</auth>
  <!-- the system bus's own default policy (dbus-1 system.conf) -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""

# Owns org.slmd.Slmd1 and never answers: a call the policy lets through times out
# (NoReply), a call it refuses is answered at once by the bus with AccessDenied.
OWNER = """
import dbus, sys, time
bus = dbus.bus.BusConnection(sys.argv[1])
try:
    r = bus.request_name("org.slmd.Slmd1", dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    print("owned" if r == dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER else "not owned", flush=True)
except dbus.exceptions.DBusException as e:
    print("refused" if "AccessDenied" in e.get_dbus_name() else str(e), flush=True)
    sys.exit(0)
time.sleep(60)
"""


def test_dbus_policy():
    python = python_with_dbus()
    daemon, setpriv = shutil.which("dbus-daemon"), shutil.which("setpriv")
    if os.geteuid() != 0 or not python or not daemon or not setpriv:
        print("note: not tested: the D-Bus policy test needs root, dbus-daemon, setpriv and "
              "python3-dbus")
        return
    import pwd
    import grp
    try:
        pwd.getpwnam("nobody"), pwd.getpwnam("daemon"), grp.getgrnam("nogroup")
    except KeyError:
        print("note: not tested: users nobody/daemon or group nogroup missing")
        return
    d = tempfile.mkdtemp(prefix="slmd-dbus-")
    os.chmod(d, 0o755)
    # Stand-ins that exist on any Debian system: user "daemon" for user slmd (the
    # service), group "nogroup" (nobody's group) for group slmd (the clients).
    policy = open(os.path.join(source, "systemd", "org.slmd.Slmd1.conf")).read()
    check(policy.count('user="slmd"') == 1 and policy.count('group="slmd"') == 1,
          "policy layout changed; update this test")
    policy = policy.replace('user="slmd"', 'user="daemon"').replace('group="slmd"',
                                                                    'group="nogroup"')
    with open(os.path.join(d, "policy.conf"), "w") as f:
        f.write(policy)
    with open(os.path.join(d, "bus.conf"), "w") as f:
        f.write(BUS_CONFIG.format(dir=d, policy=os.path.join(d, "policy.conf")))
    bus = subprocess.Popen([daemon, f"--config-file={d}/bus.conf", "--nofork",
                            "--print-address"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    owner = None
    try:
        address = bus.stdout.readline().strip()
        check(address.startswith("unix:"), f"dbus-daemon did not start: {address!r}")

        def privileges(user):
            if user == "root":
                return []
            gid = pwd.getpwnam(user).pw_gid
            return [setpriv, f"--reuid={user}", f"--regid={gid}", "--init-groups"]

        def own(user):
            p = subprocess.Popen(privileges(user) + [python, "-c", OWNER, address],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            return p, p.stdout.readline().strip()

        def call(user, interface, member, path="/org/slmd/Slmd1"):
            p = subprocess.run(privileges(user) + [
                "dbus-send", f"--bus={address}", "--print-reply", "--reply-timeout=700",
                "--dest=org.slmd.Slmd1", path, f"{interface}.{member}"],
                capture_output=True, text=True, timeout=30)
            if "AccessDenied" in p.stderr:
                return "denied"
            if "NoReply" in p.stderr or "Timeout" in p.stderr or "did not receive" in p.stderr:
                return "delivered"
            raise Failure(f"{user} {member}: unexpected answer: {p.stdout}{p.stderr}")

        # nobody else may own the name; the service user may
        p, result = own("nobody")
        p.wait()
        check(result == "refused", f"user nobody could own org.slmd.Slmd1 ({result})")
        owner, result = own("daemon")
        check(result == "owned", f"the service user could not own the name ({result})")

        model = "/org/slmd/Slmd1/models/tiny"
        expectations = [
            ("root", "org.slmd.Slmd1.Manager", "Reload", "/org/slmd/Slmd1", "delivered"),
            ("root", "org.slmd.Slmd1.Model", "Generate", model, "delivered"),
            ("nobody", "org.slmd.Slmd1.Model", "Generate", model, "delivered"),
            ("nobody", "org.slmd.Slmd1.Request", "Cancel", model + "/requests/1", "delivered"),
            ("nobody", "org.slmd.Slmd1.Manager", "ListModels", "/org/slmd/Slmd1", "delivered"),
            ("nobody", "org.freedesktop.DBus.Properties", "GetAll", "/org/slmd/Slmd1",
             "delivered"),
            ("nobody", "org.slmd.Slmd1.Manager", "Reload", "/org/slmd/Slmd1", "denied"),
            ("nobody", "org.slmd.Slmd1.Manager", "LoadModel", "/org/slmd/Slmd1", "denied"),
            ("nobody", "org.slmd.Slmd1.Manager", "UnloadModel", "/org/slmd/Slmd1", "denied"),
            ("nobody", "org.freedesktop.DBus.Properties", "Set", "/org/slmd/Slmd1", "denied"),
            ("daemon", "org.slmd.Slmd1.Model", "Generate", model, "denied"),
            ("daemon", "org.slmd.Slmd1.Manager", "ListModels", "/org/slmd/Slmd1", "denied"),
        ]
        for user, interface, member, path, want in expectations:
            got = call(user, interface, member, path)
            check(got == want, f"{user} calling {interface}.{member}: {got}, want {want}")
    finally:
        if owner:
            owner.kill()
            owner.wait()
        bus.kill()
        bus.wait()
        shutil.rmtree(d, ignore_errors=True)


run_tests([test_verify, test_security_exposure, test_service_settings,
           test_sysusers_and_tmpfiles, test_dbus_policy])
