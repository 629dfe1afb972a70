#!/usr/bin/env python3
"""Builds the .deb the way a release does (a Release build with prefix /usr, then cpack),
extracts it with dpkg-deb into a scratch root and checks that every file is where
DESIGN.md and pkg-config say, that /etc/slmd/slmd.yaml is a conffile, that the maintainer
scripts create the user and directories and enable or start nothing, and that the unit
inside the package still rates <= 1.0 in `systemd-analyze security`. Also checks that
`cmake --install` keeps an existing /etc/slmd/slmd.yaml.

The build goes to BUILD_DIR/deb-test and is reused by later runs.

usage: deb_test.py SOURCE_DIR BUILD_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from slmd_harness import check, run_tests, skip

source, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
for tool in ["dpkg-deb", "cpack", "cmake"]:
    if not shutil.which(tool):
        skip(f"{tool} not installed")
deb_build = os.path.join(build, "deb-test")
state = {}


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout[-4000:]}"
                           f"{p.stderr[-4000:]}")
    return p


def cache_value(name):
    with open(os.path.join(deb_build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(rf"^{re.escape(name)}:[A-Z]+=(.*)$", line)
            if m:
                return m.group(1)
    return None


def build_package():
    run(["cmake", "-S", source, "-B", deb_build, "-DCMAKE_INSTALL_PREFIX=/usr",
         "-DCMAKE_BUILD_TYPE=Release"], timeout=600)
    run(["cmake", "--build", deb_build, "-j2"], timeout=3600)
    for old in glob.glob(os.path.join(deb_build, "*.deb")):
        os.unlink(old)
    run(["cpack", "-G", "DEB"], cwd=deb_build, timeout=1200)
    debs = glob.glob(os.path.join(deb_build, "slmd_*.deb"))
    check(len(debs) == 1, f"cpack made {debs}")
    root = tempfile.mkdtemp(prefix="slmd-deb-")
    run(["dpkg-deb", "-x", debs[0], root])
    run(["dpkg-deb", "-e", debs[0], os.path.join(root, "DEBIAN")])
    state.update(deb=debs[0], root=root)


def test_files_in_place():
    root = state["root"]
    unitdir = cache_value("SLMD_SYSTEMD_UNIT_DIR")
    expected = [
        f"{unitdir}/slmd.service",
        f"{unitdir}/slmd.socket",
        f"{cache_value('SLMD_SYSUSERS_DIR')}/slmd.conf",
        f"{cache_value('SLMD_TMPFILES_DIR')}/slmd.conf",
        f"{cache_value('SLMD_DBUS_POLICY_DIR')}/org.slmd.Slmd1.conf",
        f"{cache_value('SLMD_DBUS_SYSTEM_SERVICES_DIR')}/org.slmd.Slmd1.service",
        "/etc/slmd/slmd.yaml",
        "/usr/share/slmd/slmd.yaml",
        "/usr/share/man/man8/slmd.8.gz",
        "/usr/share/man/man5/slmd.yaml.5.gz",
        "/usr/share/man/man1/slm.1.gz",
    ]
    if os.path.exists(os.path.join(deb_build, "daemon", "slmd")):
        expected.append("/usr/sbin/slmd")
    else:
        print("note: slmd is not built yet (core/engine/ missing); the package has no binary")
    if os.path.exists(os.path.join(deb_build, "tools", "slm")):
        expected.append("/usr/bin/slm")
    for path in expected:
        check(os.path.isfile(root + path), f"{path} is not in the package")
    for path in ["/usr/sbin/slmd", "/usr/bin/slm"]:
        if path in expected:
            check(os.access(root + path, os.X_OK), f"{path} is not executable")
    # nothing else, and nothing outside the usual trees (no build paths, no /usr/local)
    found = set()
    for dirpath, _, files in os.walk(root):
        if dirpath.startswith(os.path.join(root, "DEBIAN")):
            continue
        for f in files:
            found.add(os.path.join(dirpath, f)[len(root):])
    extra = sorted(found - set(expected))
    check(not extra, f"unexpected files in the package: {extra}")
    with open(root + "/etc/slmd/slmd.yaml") as f, open(os.path.join(source, "etc", "slmd.yaml")) as g:
        check(f.read() == g.read(), "/etc/slmd/slmd.yaml differs from etc/slmd.yaml")
    unit = open(root + f"{unitdir}/slmd.service").read()
    check("\nExecStart=/usr/sbin/slmd --config /etc/slmd/slmd.yaml\n" in unit,
          "ExecStart= does not run /usr/sbin/slmd on /etc/slmd/slmd.yaml")


def test_control():
    control_dir = os.path.join(state["root"], "DEBIAN")
    control = "\n" + open(os.path.join(control_dir, "control")).read()
    arch = run(["dpkg", "--print-architecture"]).stdout.strip() if shutil.which("dpkg") else None
    check("\nPackage: slmd\n" in control, control)
    if arch:
        check(f"\nArchitecture: {arch}\n" in control, control)
    check(re.search(r"^Depends:.*\bsystemd\b", control, re.M), control)
    if os.path.exists(os.path.join(deb_build, "daemon", "slmd")):
        check(re.search(r"^Depends:.*\blibsystemd0\b", control, re.M) and
              re.search(r"^Depends:.*\blibyaml-0-2\b", control, re.M),
              f"library dependencies missing: {control}")
    conffiles = open(os.path.join(control_dir, "conffiles")).read().split()
    check(conffiles == ["/etc/slmd/slmd.yaml"], f"conffiles: {conffiles}")


def test_maintainer_scripts():
    control_dir = os.path.join(state["root"], "DEBIAN")
    scripts = {}
    for name in ["postinst", "prerm", "postrm"]:
        path = os.path.join(control_dir, name)
        check(os.access(path, os.X_OK), f"{name} is not executable")
        run(["sh", "-n", path])
        scripts[name] = open(path).read()
    check("systemd-sysusers " + cache_value("SLMD_SYSUSERS_DIR") + "/slmd.conf"
          in scripts["postinst"], "postinst does not create the user")
    check("systemd-tmpfiles --create " + cache_value("SLMD_TMPFILES_DIR") + "/slmd.conf"
          in scripts["postinst"], "postinst does not create the directories")
    check("ReloadConfig" in scripts["postinst"], "postinst does not reload D-Bus")
    for name, text in scripts.items():
        for forbidden in ["systemctl enable", "systemctl start", "systemctl restart",
                          "deb-systemd-invoke start", "--now"]:
            check(forbidden not in text, f"{name} runs '{forbidden}'")


def test_postinst_steps_in_scratch_root():
    sysusers, tmpfiles = shutil.which("systemd-sysusers"), shutil.which("systemd-tmpfiles")
    if not sysusers or not tmpfiles:
        print("note: not tested: systemd-sysusers/systemd-tmpfiles not installed")
        return
    root = state["root"]
    for f in ["passwd", "group", "shadow", "gshadow"]:
        open(os.path.join(root, "etc", f), "a").close()
    run([sysusers, f"--root={root}", root + cache_value("SLMD_SYSUSERS_DIR") + "/slmd.conf"])
    run([tmpfiles, f"--root={root}", "--create",
         root + cache_value("SLMD_TMPFILES_DIR") + "/slmd.conf"])
    check(re.search(r"^slmd:", open(os.path.join(root, "etc", "passwd")).read(), re.M),
          "user slmd not created")
    check(os.path.isdir(os.path.join(root, "var", "lib", "slmd", "models")),
          "/var/lib/slmd/models not created")


def test_installed_unit_security():
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("note: not tested: systemd-analyze not installed")
        return
    unit = state["root"] + cache_value("SLMD_SYSTEMD_UNIT_DIR") + "/slmd.service"
    p = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", unit],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for slmd\.service: ([0-9.]+)", p.stdout)
    check(m and float(m.group(1)) <= 1.0, f"exposure of the packaged unit: {p.stdout[-500:]}")
    print(f"packaged slmd.service: exposure {m.group(1)}")


def test_install_keeps_existing_config():
    with tempfile.TemporaryDirectory(prefix="slmd-destdir-") as destdir:
        env = dict(os.environ, DESTDIR=destdir)
        run(["cmake", "--install", deb_build], env=env, timeout=600)
        config = destdir + "/etc/slmd/slmd.yaml"
        check(os.path.isfile(config), "cmake --install did not write /etc/slmd/slmd.yaml")
        with open(config, "w") as f:
            f.write("threads: 1\n# the operator's own\n")
        p = run(["cmake", "--install", deb_build], env=env, timeout=600)
        check(open(config).read() == "threads: 1\n# the operator's own\n",
              "cmake --install overwrote an existing /etc/slmd/slmd.yaml")
        check("Keeping existing" in p.stdout, p.stdout[-2000:])


try:
    build_package()
    run_tests([test_files_in_place, test_control, test_maintainer_scripts,
               test_postinst_steps_in_scratch_root, test_installed_unit_security,
               test_install_keeps_existing_config])
finally:
    if "root" in state:
        shutil.rmtree(state["root"], ignore_errors=True)
