#!/usr/bin/env python3
"""Developer check, not run by ctest: compares slmd's chat template renders with Python's
jinja2 configured as Hugging Face's apply_chat_template configures it (trim_blocks,
lstrip_blocks, loopcontrols, raise_exception, tojson with ensure_ascii=False, a no-op
{% generation %} tag). strftime_now is left out and tools/documents are not passed, as for
the reference renders in templates.json.

    check_with_jinja2.py BUILD_DIR [SHARED_DIR] [TEMPLATE_SOURCE_FILES...]

Without template files it checks every case of templates.json and templates-extra.json
through `conformance_templates --dump`. Needs python3-jinja2 (never used by slmd itself).
"""
import json
import os
import subprocess
import sys
import tempfile

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTag(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def render(case):
    try:
        out = environment().from_string(case["template"]).render(
            messages=case["messages"], add_generation_prompt=case["add_generation_prompt"],
            bos_token=case["bos_token"], eos_token=case["eos_token"])
        return True, out
    except Exception as e:  # the template raised, or Jinja2 refused it
        return False, f"{type(e).__name__}: {e}"


def main():
    build = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SLM_SHARED", "../shared")
    tool = os.path.join(build, "tests/conformance/templates/conformance_templates")
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as dump:
        subprocess.run([tool, "--dump", dump.name], check=True,
                       env=dict(os.environ, SLM_SHARED=shared))
        ours = [json.loads(line) for line in dump]
    cases = {}
    for name in ("templates.json", "templates-extra.json"):
        with open(os.path.join(shared, name)) as f:
            cases[name] = json.load(f)
    same = 0
    for mine in ours:
        case = cases[mine["file"]][mine["index"]]
        ok, text = render(case)
        label = f'{mine["file"]}#{mine["index"]} {case["name"]} [{case.get("variant")}]'
        if ok != mine["ok"] or (ok and text != mine["output"]):
            print(f"DIFFERS {label}\n  jinja2: {text!r}\n  slmd:   "
                  f"{mine.get('output', mine.get('error'))!r}")
        else:
            same += 1
    print(f"{same} of {len(ours)} cases render as Jinja2 renders them")
    return 0 if same == len(ours) else 1


if __name__ == "__main__":
    sys.exit(main())
