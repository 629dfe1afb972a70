#!/usr/bin/env python3
"""Runs every case of templates.json (and templates-extra.json) through the `slm template`
command line, as users and scripts call it: --template-file, --bos, --eos,
--messages-json, --no-generation-prompt. Output must equal `expected` byte for byte; cases
with `error` must exit 1 with one `slm: error: chat template: ...` line."""
import json, os, subprocess, sys, tempfile

slm = sys.argv[1]
shared = os.environ.get("SLM_SHARED", "../shared")
if not os.path.exists(os.path.join(shared, "templates.json")):
    print(f"SKIPPED: reference data not found ({shared})")
    sys.exit(0)
failures = 0
with tempfile.TemporaryDirectory() as tmp:
    for name in ("templates.json", "templates-extra.json"):
        cases = json.load(open(os.path.join(shared, name), encoding="utf-8"))
        for i, case in enumerate(cases):
            tf, mf = os.path.join(tmp, "t.jinja"), os.path.join(tmp, "m.json")
            open(tf, "w", encoding="utf-8").write(case["template"])
            json.dump(case["messages"], open(mf, "w", encoding="utf-8"))
            cmd = [slm, "template", "--template-file", tf, "--messages-json", mf,
                   "--bos", case["bos_token"], "--eos", case["eos_token"]]
            if not case["add_generation_prompt"]:
                cmd.append("--no-generation-prompt")
            p = subprocess.run(cmd, capture_output=True)
            label = f"{name}[{i}] {case['name']}"
            if "error" in case:
                ok = p.returncode == 1 and p.stderr.startswith(b"slm: error: chat template: ")
            elif "expected" in case:
                ok = p.returncode == 0 and p.stdout == case["expected"].encode("utf-8")
            else:
                ok = p.returncode == 0
            if not ok:
                failures += 1
                print(f"FAIL {label}: exit {p.returncode}, stderr {p.stderr[:200]!r}")
        print(f"{name}: {len(cases)} cases through slm template")
sys.exit(1 if failures else 0)
