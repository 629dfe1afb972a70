#!/usr/bin/env python3
"""Developer tool, not run by ctest: differential tests of slmd's Jinja interpreter against
Python's jinja2 (3.x) configured like Hugging Face's apply_chat_template (trim_blocks,
lstrip_blocks, loopcontrols, raise_exception, tojson with ensure_ascii=False, a no-op
{% generation %} tag), over the small templates below, one or a few constructs each.

    differential.py BUILD_DIR             compare, print the cases that differ
    differential.py BUILD_DIR --emit-c    also rewrite tests/unit/test_template_{expr,syntax,
                                          filters,methods,errors}.c from the cases that agree

The emitted unit tests hold the Jinja2 outputs as expected strings, so they run without
Python. Plain jinja2.Environment is used rather than the sandbox, so that list.append and
dict.update work as the brief asks (Hugging Face's ImmutableSandboxedEnvironment refuses
them).
"""
import json
import os
import subprocess
import sys
import tempfile

import jinja2
import jinja2.ext
from jinja2 import nodes

# The context every case sees (plus bos_token "<s>" and eos_token "</s>").
MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi  "},
        {"role": "assistant", "content": "Hello!", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
        {"role": "user", "content": "Ünïcödé ✓ text"}]
V = {"s": "  Hello World  ", "n": 5, "f": 2.5, "xs": [3, 1, 2], "d": {"a": 1, "b": [1, 2]},
     "none_v": None, "t": True, "messages": MSGS, "words": ["b", "A", "a", "C"], "neg": -7,
     "big": 1e20, "small": 1.5e-7, "uni": "héllo wörld", "empty": "", "el": [], "ed": {},
     "people": [{"name": "Ann", "age": 30, "tags": ["x"]}, {"name": "bob", "age": 25}, {"name": "Cy", "age": None}]}

T = []
CAT = ['expr']
def add(t, **kw):
    v = dict(V); v.update(kw); T.append((t, v, CAT[0], kw))

CAT[0] = 'expr'
# output and literals
for t in ['{{ 1 }}|{{ 1.0 }}|{{ -0.0 }}|{{ 1e3 }}|{{ 1_000 }}|{{ 0x1F }}|{{ 0o17 }}|{{ 0b101 }}',
          '{{ "a" "b" }}|{{ \'it\\\'s\' }}|{{ "tab\\there" }}|{{ "\\u00e9\\x41\\101" }}|{{ "\\q" }}',
          '{{ true }}{{ True }}{{ false }}{{ none }}{{ None }}',
          '{{ [1, "a", none, true, 2.5, [], {}] }}', '{{ (1,) }}{{ (1, 2) }}{{ () }}',
          '{{ {"a": 1, "b": "x", 3: none} }}', '{{ {"q": "it\'s"} }}', '{{ ["a\\"b", "c\'d", "e\'f\\"g"] }}',
          '{{ ["\\n\\t\\r\\x00\\x7f\\u00a0\\u200b", "é✓"] }}',
          '{{ 0.1 }}|{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 2/3 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 123456789.123 }}|{{ 1e-4 }}|{{ 1e-5 }}|{{ 5e-324 }}|{{ 1.7976931348623157e308 }}',
          '{{ big }} {{ small }} {{ f }} {{ -f }}',
          '{{ 3 * 1.1 }}|{{ 100.0 }}|{{ 1e22 }}|{{ 12345678901234567.0 }}',
          ]: add(t)
CAT[0] = 'expr'
# arithmetic
for t in ['{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 // -2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 % 2 }} {{ -7.5 // 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2.0 ** 3 }}',
          '{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ 10 - 2 - 3 }} {{ 100 / 10 / 5 }}',
          '{{ "a" ~ 1 ~ none ~ true }} {{ "x" + "y" }} {{ [1] + [2] }} {{ "ab" * 3 }} {{ 3 * "ab" }} {{ [0] * 3 }} {{ "x" * 0 }} {{ "x" * -1 }}',
          '{{ 1 + true }} {{ true + true }} {{ 3 - 1.5 }} {{ 1 / 4 }} {{ 10 // 2.5 }}',
          '{{ [72] * 0 * 100 }}|{{ [] * 3 }}|{{ "" * 1000000000000000000 }}|{{ [] * 1000000000000000000 }}|{{ (1,) * 0 }}|{{ () * 2 }}',
          '{{ 1 + "a" }}', '{{ 1 / 0 }}', '{{ 1 // 0 }}', '{{ 1 % 0 }}', '{{ 1.0 / 0 }}', '{{ -"a" }}',
          '{{ "%s and %s" % ("a", "b") }}|{{ "%d%%" % 50 }}|{{ "%5.2f|%-4d|%04d" % (3.14159, 7, 42) }}|{{ "%(x)s-%(y)r" % {"x": 1, "y": "z"} }}|{{ "%x %X %o" % (255, 255, 8) }}',
          '{{ "%s" % [1, 2] }}|{{ "%s" % none }}|{{ "%r" % "q" }}|{{ "%e" % 12345.678 }}|{{ "%g" % 0.0001 }}',
          '{{ 1 == 1.0 }} {{ 1 == true }} {{ "a" == "a" }} {{ [1, 2] == [1, 2] }} {{ (1, 2) == [1, 2] }} {{ {"a": 1} == {"a": 1} }} {{ none == none }} {{ none == 0 }}',
          '{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ "a" < "b" }} {{ "B" < "a" }} {{ [1, 2] < [1, 3] }} {{ [1] < [1, 0] }} {{ 2 >= 2 }} {{ 1 != 1 }}',
          '{{ "a" < 1 }}', '{{ none < 1 }}',
          '{{ "b" in "abc" }} {{ "" in "abc" }} {{ 2 in [1, 2] }} {{ "a" in {"a": 1} }} {{ 3 not in [1] }} {{ "z" not in "abc" }} {{ 1 in [1.0] }}',
          '{{ 1 in "abc" }}', '{{ 1 in none }}', '{{ "x" in u }}',
          '{{ 0 or "x" }} {{ 1 and "y" }} {{ none or [] }} {{ "" and 1 }} {{ not 0 }} {{ not not "a" }} {{ 1 and 2 and 3 }} {{ 0 or 0 or "z" }}',
          '{{ "y" if t else "n" }} {{ "y" if none_v else "n" }} {{ "y" if none_v }}| {{ 1 if 0 else 2 if 0 else 3 }}',
          '{{ -n }} {{ +n }} {{ -f }} {{ - - n }} {{ -true }}',
          ]: add(t)
CAT[0] = 'expr'
# variables, undefined
for t in ['{{ u }}|{{ u is defined }}|{{ u is undefined }}|{{ u|default("dv") }}|{{ none_v|default("dv") }}|{{ empty|default("dv", true) }}|{{ u|d("x") }}',
          '{{ u.attr }}', '{{ u["k"] }}', '{{ u() }}', '{{ u + 1 }}', '{{ u ~ "a" }}|{{ u|length }}|{{ u|string }}|{{ u|list }}|{{ u|upper }}',
          '{% for x in u %}{{ x }}{% else %}empty{% endfor %}', '{{ d.missing }}|{{ d.missing is defined }}|{{ d["missing"] }}',
          '{{ d.missing.deeper }}', '{{ none_v.attr }}|{{ none_v.attr is defined }}', '{{ none_v.attr.x }}',
          '{{ xs[10] }}|{{ xs[-1] }}|{{ xs[-4] }}|{{ "abc"[1] }}|{{ "abc"[-1] }}|{{ "abc"[5] }}|{{ xs.0 }}|{{ d["b"][1] }}|{{ d.b.1 }}',
          '{{ xs[1:] }}|{{ xs[:-1] }}|{{ xs[::-1] }}|{{ xs[::2] }}|{{ xs[5:] }}|{{ xs[-2:] }}|{{ "hello"[1:3] }}|{{ "hello"[::-1] }}|{{ uni[1:4] }}|{{ uni[::-2] }}|{{ xs[1:2:0] if false else 1 }}',
          '{{ xs[::0] }}', '{{ messages[1:]|length }}|{{ messages[-1].content }}|{{ messages[0]["role"] }}',
          '{{ d.items }}', '{{ d["items"] }}', '{{ d.keys() }}|{{ d.values()|list }}|{{ d.items()|list }}',
          '{{ u is none }}{{ none_v is none }}{{ u is string }}{{ u is iterable }}{{ u is sequence }}{{ u is mapping }}',
          ]: add(t)
CAT[0] = 'syntax'
# statements
for t in ['{% if n > 3 %}big{% elif n > 1 %}mid{% else %}small{% endif %}', '{% if 0 %}a{% elif 0 %}b{% endif %}x',
          '{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}/{% endfor %}',
          '{% for x in xs %}{{ loop.previtem }}-{{ loop.nextitem }}|{% endfor %}',
          '{% for x in xs if x > 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}',
          '{% for x in xs %}{{ loop.cycle("a", "b") }}{% endfor %}',
          '{% for x in [1, 1, 2, 2, 3] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}',
          '{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', '{% for k in d %}{{ k }}{% endfor %}', '{% for c in "héy" %}[{{ c }}]{% endfor %}',
          '{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}', '{% for a, b in [[1, 2, 3]] %}{% endfor %}', '{% for a, b in [[1]] %}{% endfor %}',
          '{% for x in xs %}{% if x == 1 %}{% break %}{% endif %}{{ x }}{% endfor %}', '{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}',
          '{% for x in [] %}a{% else %}b{% endfor %}', '{% for x in xs %}{% for y in [1, 2] %}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %}',
          '{% for x in none_v %}{% endfor %}', '{% for x in 5 %}{% endfor %}',
          '{% set x = 1 %}{% for i in xs %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}',
          '{% set ns = namespace(c=0, s="") %}{% for i in xs %}{% set ns.c = ns.c + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.c }} {{ ns.s }} {{ ns.missing }}',
          '{% set ns = namespace() %}{% set ns.a = 1 %}{{ ns.a }}{{ ns }}', '{% set q = 1 %}{% set q.a = 1 %}',
          '{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set (c, d2) = [3, 4] %}{{ c }}{{ d2 }}', '{% set x %}  block {{ n }} {% endset %}[{{ x }}]',
          '{% set x | upper | trim %}  block {{ n }} {% endset %}[{{ x }}]', '{% if true %}{% set z = 5 %}{% endif %}{{ z }}',
          '{% macro m(a, b=2, c="x") %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, 3) }}|{{ m(1, c="y") }}|{{ m(b=0, a=9) }}',
          '{% macro m(a) %}{{ a }}{% endmacro %}{{ m() }}|{{ m(1, 2) }}', '{% macro m(a) %}{{ a }}{% endmacro %}{{ m(z=1) }}',
          '{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}',
          '{% macro m(n) %}{% if n > 0 %}{{ n }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(4) }}',
          '{% macro m(x) %}<{{ caller(x * 2) }}>{% endmacro %}{% call(v) m(21) %}v={{ v }}{% endcall %}',
          '{% macro m() %}[{{ caller() }}]{% endmacro %}{% call m() %}inner {{ n }}{% endcall %}',
          '{% macro m(a, b=a * 2) %}{{ b }}{% endmacro %}{{ m(3) }}',
          '{% filter upper %}hello {{ s }}{% endfilter %}', '{% filter replace("l", "L") | trim %}  hello  {% endfilter %}',
          '{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}', '{{ range(5)|list }}{{ range(2, 8, 3)|list }}{{ range(5, 0, -2)|list }}{{ range(0)|list }}',
          '{% for i in range(3) %}{{ i }}{% endfor %}', '{{ dict(a=1, b=2) }}{{ dict([["x", 1]]) }}{{ dict({"k": "v"}, z=0) }}',
          '{% set j = joiner(", ") %}{% for x in xs %}{{ j() }}{{ x }}{% endfor %}', '{{ raise_exception("boom") }}',
          '{% print "p" ~ n %}', '{% raw %}{{ not processed }}{% endraw %}', '{% generation %}gen {{ n }}{% endgeneration %}',
          '{{ x.y is defined if x is defined else "nx" }}', '{{ n is divisibleby 5 }}{{ n is divisibleby(2) }}{{ n is odd }}{{ n is even }}',
          '{{ "x" is sameas "x" }}{{ none_v is sameas none }}{{ t is sameas true }}{{ 1 is eq 1 }}{{ 1 is ne 2 }}{{ 2 is gt 1 }}{{ 2 is lessthan 1 }}{{ 2 is in [2] }}{{ 1 is equalto 1.0 }}',
          '{{ "abc" is lower }}{{ "ABC" is upper }}{{ "Abc" is lower }}{{ "123" is lower }}{{ "upper" is filter }}{{ "odd" is test }}{{ "zz" is filter }}',
          '{{ 1 is number }}{{ 1.5 is number }}{{ t is number }}{{ "1" is number }}{{ 1 is integer }}{{ t is integer }}{{ 1.0 is integer }}{{ 1.0 is float }}{{ t is boolean }}{{ 0 is false }}{{ false is false }}{{ true is true }}',
          '{{ xs is iterable }}{{ "s" is iterable }}{{ d is iterable }}{{ 1 is iterable }}{{ none_v is iterable }}{{ xs is sequence }}{{ d is sequence }}{{ d is mapping }}{{ xs is mapping }}{{ range is callable }}{{ xs is callable }}',
          '{% for m in messages %}{% if m.role == "user" %}U:{{ m.content }}{% elif m.role == "assistant" %}A:{{ m.content }}{% endif %}{% endfor %}',
          '{% for m in messages if m.tool_calls is defined %}{% for tc in m.tool_calls %}{{ tc.function.name }}({{ tc.function.arguments|tojson }}){% endfor %}{% endfor %}',
          ]: add(t)
CAT[0] = 'filters'
# filters
for t in ['{{ s|trim }}|{{ s|upper }}|{{ s|lower }}|{{ s|title }}|{{ s|capitalize }}|{{ s|length }}|{{ s|count }}|{{ s|wordcount }}|{{ s|reverse }}',
          '{{ "hello world-foo (bar[baz<q {x"|title }}|{{ "hELLO wORLD"|capitalize }}|{{ "o\'neil mc-d"|title }}|{{ uni|title }}|{{ uni|upper }}|{{ "ÀÉÎ"|lower }}',
          '{{ "xxhixx"|trim("x") }}|{{ "a-b-c"|replace("-", "+") }}|{{ "aaa"|replace("a", "b", 2) }}|{{ "abc"|replace("", "-") }}|{{ "abc"|center(9) }}|{{ "ab"|center(7) }}|{{ "abc"|center(2) }}',
          '{{ xs|join(",") }}|{{ xs|join }}|{{ people|join(", ", attribute="name") }}|{{ xs|sort }}|{{ xs|sort(reverse=true) }}|{{ words|sort }}|{{ words|sort(case_sensitive=true) }}|{{ people|sort(attribute="name")|map(attribute="name")|join }}',
          '{{ [3, "a"]|sort }}', '{{ words|unique|list }}|{{ words|unique(case_sensitive=true)|list }}|{{ words|min }}|{{ words|max }}|{{ xs|min }}|{{ xs|max }}|{{ []|min }}|{{ people|max(attribute="name") }}',
          '{{ xs|sum }}|{{ [1.5, 2]|sum }}|{{ people|selectattr("age")|sum(attribute="age") }}|{{ xs|sum(start=10) }}|{{ [[1], [2]]|sum(start=[]) }}',
          '{{ xs|first }}|{{ xs|last }}|{{ "abc"|first }}|{{ "abc"|last }}|{{ []|first }}|{{ d|first }}|{{ xs|list }}|{{ "ab"|list }}|{{ d|list }}|{{ xs|reverse|list }}',
          '{{ xs|length }}|{{ d|length }}|{{ uni|length }}', '{{ 5|length }}', '{{ none_v|length }}',
          '{{ people|selectattr("age")|list|length }}|{{ people|rejectattr("age")|map(attribute="name")|list }}|{{ people|selectattr("name", "equalto", "bob")|first }}|{{ people|selectattr("age")|selectattr("age", "gt", 26)|map(attribute="name")|list }}|{{ people|selectattr("tags", "defined")|list|length }}|{{ people|selectattr("tags.0", "eq", "x")|list|length }}',
          '{{ xs|select("odd")|list }}|{{ xs|reject("odd")|list }}|{{ [0, 1, "", "a", none]|select|list }}|{{ [0, 1, "", "a"]|reject|list }}|{{ xs|select("gt", 1)|list }}|{{ none_v|select|list }}|{{ u|selectattr("x")|list }}',
          '{{ xs|map("string")|join("-") }}|{{ words|map("upper")|list }}|{{ people|map(attribute="age", default=0)|list }}|{{ people|map(attribute="missing", default="?")|list }}|{{ ["1", "2"]|map("int")|sum }}|{{ people|map(attribute="name")|map("lower")|list }}',
          '{{ d|items|list }}|{{ u|items|list }}|{{ d|dictsort }}|{{ {"b": 1, "A": 2}|dictsort }}|{{ {"b": 1, "a": 0}|dictsort(by="value") }}', '{{ xs|items }}',
          '{{ xs|batch(2)|list }}|{{ xs|batch(2, "z")|list }}|{{ []|batch(2)|list }}',
          '{{ "42"|int }}|{{ "4.7"|int }}|{{ " 12 "|int }}|{{ "x"|int }}|{{ "x"|int(7) }}|{{ 3.9|int }}|{{ -3.9|int }}|{{ "0x1A"|int }}|{{ "0x1A"|int(base=16) }}|{{ "1_000"|int }}|{{ none_v|int }}|{{ t|int }}',
          '{{ "4.5"|float }}|{{ "x"|float }}|{{ 3|float }}|{{ "1e3"|float }}|{{ " -2.5 "|float }}|{{ "inf"|float }}|{{ "nan"|float }}|{{ none_v|float(1) }}',
          '{{ 2.5|round }}|{{ 3.5|round }}|{{ 2.675|round(2) }}|{{ 3|round }}|{{ -2.5|round }}|{{ 2.1|round(0, "ceil") }}|{{ 2.9|round(0, "floor") }}|{{ 1234.5|round(-2) }}|{{ 7|round(1) }}|{{ 1.05|round(1) }}',
          '{{ -3|abs }}|{{ -3.5|abs }}|{{ t|abs }}', '{{ "x"|abs }}',
          '{{ d|tojson }}|{{ "é\\n\\"q\\"\\\\"|tojson }}|{{ [1, 2.5, none, true, "s"]|tojson }}|{{ {"a": {"b": [1, {}]}, "c": []}|tojson(indent=2) }}|{{ {"k": 1}|tojson(indent="\\t") }}',
          '{{ d|tojson(sort_keys=true) }}|{{ {"z": 1, "a": 2}|tojson(sort_keys=true) }}|{{ {1: "a", none: "b", true: "c", 2.5: "d"}|tojson }}|{{ "é✓"|tojson(ensure_ascii=true) }}|{{ d|tojson(separators=(",", ":")) }}|{{ (1, 2)|tojson }}|{{ {"a": 1}|tojson(indent=0) }}',
          '{{ u|tojson }}', '{{ namespace(a=1)|tojson }}', '{{ messages|tojson }}',
          '{{ "line1\\nline2\\n\\nline4"|indent }}|{{ "a\\nb"|indent(2, true) }}|{{ "a\\n\\nb"|indent(2, blank=true) }}|{{ "a\\nb"|indent(">>") }}|{{ "x\\n"|indent(2) }}|{{ ""|indent(2, true) }}',
          '{{ "<a href=\'x\'>&</a>"|escape }}|{{ "<b>"|e }}|{{ "<b>"|safe }}|{{ 5|string ~ "!" }}|{{ none_v|string }}|{{ xs|string }}|{{ "x"|pprint }}|{{ xs|pprint }}',
          '{{ "hello world foo"|truncate(9) }}|{{ "hello world foo"|truncate(9, true) }}|{{ "hello"|truncate(10) }}|{{ "hello world foo bar baz"|truncate(12, false, "..", 0) }}',
          '{{ "%s-%s"|format("a", "b") }}|{{ "%(k)s"|format(k="v") }}|{{ "hi"|attr("upper")() }}|{{ d|attr("missing") }}',
          '{{ "a b  c\\td"|wordcount }}|{{ "don\'t stop_me-now"|wordcount }}|{{ "ünï cöde"|wordcount }}',
          ]: add(t)
CAT[0] = 'methods'
# python methods
for t in ['{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ "xxhixx".strip("x") }}|{{ "abcba".strip("ab") }}|{{ " \\t\\n x \\u3000".strip() }}',
          '{{ "a b  c".split() }}|{{ "a,b,,c".split(",") }}|{{ "a,b,c".split(",", 1) }}|{{ "  a b c  ".split(none, 1) }}|{{ "a b c".rsplit(none, 1) }}|{{ "  a b c  ".rsplit(none, 1) }}|{{ "a,b,c".rsplit(",", 1) }}|{{ "".split() }}|{{ "".split(",") }}',
          '{{ "x".split("") }}', '{{ "a\\nb\\r\\nc\\rd\\n"|trim }}|{{ "a\\nb\\r\\nc".splitlines() }}|{{ "a\\nb\\n".splitlines(true) }}',
          '{{ "hello".startswith("he") }}{{ "hello".startswith(("x", "h")) }}{{ "hello".endswith("lo") }}{{ "hello".endswith("") }}{{ "hello".startswith("hello!") }}',
          '{{ "hEllo wOrld".upper() }}|{{ "hEllo".lower() }}|{{ "hello world".title() }}|{{ "they\'re bill\'s"|title }}|{{ "they\'re bill\'s".title() }}|{{ "hELLO".capitalize() }}|{{ "ß".upper() }}',
          '{{ "aaa".replace("a", "b") }}|{{ "aaa".replace("a", "b", 1) }}|{{ "hello".find("l") }}|{{ "hello".rfind("l") }}|{{ "hello".find("z") }}|{{ "héllo".find("l") }}|{{ "hello".count("l") }}|{{ "hello".index("e") }}',
          '{{ "hello".index("z") }}', '{{ ", ".join(["a", "b"]) }}|{{ "".join(words) }}', '{{ ", ".join([1, 2]) }}',
          '{{ "{} and {}".format("a", "b") }}|{{ "{0}{1}{0}".format("x", "y") }}|{{ "{name}!".format(name="hi") }}|{{ "{{literal}}".format() }}',
          '{{ "123".isdigit() }}{{ "12a".isdigit() }}{{ "abc".isalpha() }}{{ "ab1".isalnum() }}{{ "  ".isspace() }}{{ "".isspace() }}{{ "AB".isupper() }}{{ "ab".islower() }}{{ "Ab".islower() }}',
          '{{ "prefix-x".removeprefix("prefix-") }}|{{ "x.txt".removesuffix(".txt") }}|{{ "ab".ljust(5, "*") }}|{{ "ab".rjust(5) }}|{{ "ab".center(6, "-") }}',
          '{% set l = [1, 2] %}{% set _ = l.append(3) %}{% set _ = l.extend([4, 5]) %}{% set _ = l.insert(0, 0) %}{{ l }}|{{ l.pop() }}|{{ l.pop(0) }}|{{ l }}|{{ l.index(2) }}|{{ l.count(2) }}',
          '{% set dd = {"a": 1} %}{% set _ = dd.update({"b": 2}) %}{% set _ = dd.update(c=3) %}{{ dd }}|{{ dd.get("a") }}|{{ dd.get("z") }}|{{ dd.get("z", 0) }}|{{ dd.pop("a") }}|{{ dd }}|{{ dd.setdefault("q", 7) }}|{{ dd }}',
          '{{ messages[0].get("role") }}|{{ messages[0].get("nope", "def") }}|{{ messages[2].tool_calls[0].function.arguments.x }}|{{ messages|map(attribute="role")|unique|list }}',
          '{{ xs.append }}', '{{ "s".nosuchmethod() }}', '{{ (1, 2).index(2) }}|{{ (1, 1).count(1) }}',
          ]: add(t)
CAT[0] = 'syntax'
# whitespace control
for t in ['a  {{- " b " -}}  c', 'a\n  {%- if true %}\n  b\n  {%- endif %}\nc', '  {% if true %}\nx\n  {% endif %}\ny',
          'a {%+ if true %}b{% endif %}', '{% if true -%}\n\n  x  \n{%- endif %}', 'x\n{# comment #}\ny', 'x\n  {#- comment -#}  \ny',
          '{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n', '{% for i in [1,2] %}\n  {{ i }}\n{% endfor +%}\nend', 'line\n',
          'line\n\n', 'a\r\nb\rc\n{% if true %}\r\nx{% endif %}', '{{ "a" }}\n{{ "b" }}', '  {{ "a" }}\n  {% if 1 %}{{ "b" }}{% endif %}',
          '{%- raw -%}   {{ x }}   {%- endraw -%}', 'x {% raw %}\n  {% if %}\n{% endraw %}\ny', 'a\t \t{% if 1 %}b{% endif %}',
          '{% if 1 %}a{% endif %}   \n{% if 1 %}b{% endif %}', 'x {%- if 1 -%} y {%- endif -%} z', '{{- "x" -}}\n\n',
          'text {# c #}\n  {# d #}\nmore', '{{ "}}" }}', '{{ {"a": "}}"}["a"] }}', '  \n  {%- set x = 1 %}\n{{ x }}',
          'x{{ 1 }}{#\n#}\n  {% if 1 %}y{% endif %}',
          ]: add(t)
CAT[0] = 'errors'
# syntax errors
for t in ['{{ 1 + }}', '{% if %}', '{% if 1 %}', '{% for x in %}{% endfor %}', '{% endif %}', '{{ x', '{% foo %}', '{{ 1 |nofilter }}',
          '{{ 1 is notest }}', '{# never closed', '{{ "unterminated }}', '{{ (1 }}', '{{ [1, 2) }}', '{% break %}', '{% set 1 = 2 %}',
          '{% macro m(a=1, b) %}{% endmacro %}', '{{ x.1.2 }}', '{{ 1 2 }}', '{% for x in xs %}{% endif %}', '{{ a is defined is defined }}',
          '{% include "x" %}', '{% set x = 1 %}{% endset %}', '{{ f(*args) }}', '{{ "\\x4" }}',
          ]: add(t)
CAT[0] = 'syntax'
# scoping and more
for t in ['{% for i in [1, 2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}',
          '{% macro m() %}{% set x = 5 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}',
          '{% set x = 1 %}{% macro m() %}{% set x = x + 1 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}',
          '{% set x = 1 %}{% macro m() %}{{ x }}{% set x = 2 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}',
          '{% set ns = namespace(v=[]) %}{% macro add(i) %}{% set ns.v = ns.v + [i] %}{% endmacro %}{% for i in range(3) %}{{ add(i) }}{% endfor %}{{ ns.v }}',
          '{% for i in [1, 2] %}{% set outer = loop %}{% for j in [3] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}',
          '{% with x = 1 %}{% set y = 2 %}{{ x }}{{ y }}{% endwith %}{{ x }}{{ y }}',
          '{% for i in [1] %}{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}{% endfor %}',
          '{% set x = 0 %}{% if true %}{% for i in [1] %}{% set x = i %}{% endfor %}{% endif %}{{ x }}',
          '{% macro outer() %}{% macro inner() %}in{% endmacro %}{{ inner() }}{% endmacro %}{{ outer() }}',
          '{% macro m(x) %}{{ x }}{% endmacro %}{{ m(x=[1, {"a": 2}]) }}',
          '{% set t = (1, 2) %}{{ t[0] }}{{ t|length }}{% for a in t %}{{ a }}{% endfor %}{{ t + (3,) }}{{ t * 2 }}',
          '{{ loop is defined }}{% for i in [1] %}{{ loop is defined }}{% endfor %}',
          '{% for i in [3, 4] %}{% for j in [1, 2] %}{% if j == 2 %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}',
          '{% for x in [1, 2, 3] %}{% if loop.last %}last{% endif %}{% endfor %}{% for m in messages %}{% if loop.first and m.role == "system" %}S{% endif %}{% endfor %}',
          '{{ messages[0]["content"] if messages[0]["role"] == "system" else "" }}',
          '{% set loop_messages = messages[1:] if messages[0].role == "system" else messages %}{{ loop_messages|length }}',
          '{{ (messages|selectattr("role", "equalto", "user")|list|last).content }}',
          '{{ messages|selectattr("role", "in", ["user", "system"])|map(attribute="content")|join("|") }}',
          '{% for m in messages %}{{ m.content|trim + "\\n" }}{% endfor %}',
          '{{ "%.3f"|format(f) }}{{ "%5s|"|format("ab") }}{{ "%-5s|"|format("ab") }}{{ "%+d"|format(5) }}',
          '{{ none_v is not none }}{{ u is not defined }}{{ not u is defined }}{{ xs is not string }}',
          '{{ messages[0].content.split(".")[0] }}{{ messages[1].content.rstrip() ~ "|" }}',
          '{{ 10 > 5 and "yes" or "no" }}|{{ [] or {} or 0 or "" }}|{{ 1 if [] else 2 }}',
          '{{ {"a": 1}.a }}|{{ {"a": 1}["a"] }}|{{ [1, 2][0] }}|{{ "str".upper() }}|{{ (1 + 2) ~ "x" }}',
          '{{ xs|map("string")|map("length")|list }}|{{ ["ab", "c"]|map("upper")|join }}|{{ [1.5, 2.5]|map("round")|list }}|{{ [1.55]|map("round", 1)|list }}',
          '{{ d|tojson(indent=2) }}', '{{ people|tojson(indent=4) }}', '{{ [[], {}, [1], {"a": []}]|tojson(indent=1) }}',
          '{{ -1|abs }}{{ (-1)|abs }}{{ -xs|length }}', '{{ 3 ~ 4 + 1 }}', '{{ 3 + 4 ~ 1 }}',
          '{{ "abc" ~ xs|join }}{{ 1 + 2 if true else 0 }}', '{{ n * -1 }}{{ n ** 2 ** 2 }}{{ 2 ** 0.5 }}{{ (-8) ** (1/3) if false else 1 }}',
          '{{ 9007199254740993 }}{{ 9007199254740993 == 9007199254740992.0 }}{{ 2 ** 62 }}', '{{ 2 ** 64 }}',
          '{{ 1e308 * 10 }}|{{ -1e308 * 10 }}|{{ (1e308 * 10) - (1e308 * 10) }}',
          '{{ "%s" % (1,) }}{{ "%s %s" % ("a",) if false else "" }}', '{{ "%s %s" % ("a",) }}', '{{ "x" % 1 }}',
          '{% set x = [1] %}{% set y = x %}{% set _ = y.append(2) %}{{ x }}',
          '{% set x = {"k": [1]} %}{% set _ = x["k"].append(2) %}{{ x }}',
          '{{ "Ünïcödé"|lower }}|{{ "ünïcödé"|upper }}|{{ "ǅungla"|lower }}|{{ "ǆ"|capitalize }}|{{ "ﬁne"|title }}|{{ "ﬁne".title() }}|{{ "İ"|lower|length }}',
          '{{ "a\u00a0b".split() }}|{{ "\u2003x\u2003".strip() }}|{{ "x\u200b".strip() }}|{{ "\u0085y".strip() }}',
          '{{ "😀x"[0] }}|{{ "😀x"|length }}|{{ "😀x"|reverse }}|{{ "😀"|tojson(ensure_ascii=true) }}|{{ ["😀", "\u00e9\u0301"] }}',
          '{{ messages|length }}{{ messages|last|attr("role") }}', '{% for m in messages|reverse %}{{ m.role[0] }}{% endfor %}',
          '{% for m in messages %}{{ m.role }}{{ ":" if not loop.last }}{% endfor %}',
          '{{ [1, 2, 3]|select("divisibleby", 2)|list }}{{ [1, 2, 3]|reject("in", [1, 3])|list }}{{ ["a", "B"]|select("upper")|list }}',
          '{{ {"b": 2, "a": 1}|dictsort(reverse=true) }}|{{ {"a": 1}|items|first }}',
          ]: add(t)
CAT[0] = 'syntax'
# whitespace with typical template structure
for t in ["{%- for m in messages %}\n    {%- if m.role == 'user' %}\n        {{- '[INST] ' + m.content + ' [/INST]' }}\n    {%- else %}\n        {{- m.content }}\n    {%- endif %}\n{%- endfor %}",
          "{% for m in messages %}\n{{ m.role }}: {{ m.content }}\n{% endfor %}\n{% if add_generation_prompt %}\nassistant:\n{% endif %}",
          "{% if true %}\n    indented {{ 1 }}\n    {% if true %}\n        deeper\n    {% endif %}\n{% endif %}\n",
          "  {%- macro m() -%}\n  x\n  {%- endmacro -%}\n  [{{ m() }}]",
          "{#- leading comment -#}\n{{ bos_token }}\n{#- trailing -#}",
          "a\n{% set x = 1 %}\nb\n{% set y %}\nblock\n{% endset %}\nc{{ y }}",
          "{% for i in [1,2] -%}\n  {{ i }}\n{%- endfor %}",
          "x {%+ if true -%} y {%- endif +%} z",
          ]: add(t, add_generation_prompt=True)


# Known differences, by design: Python's big integers (slmd has 64-bit ints and fails on
# overflow), dict views and generators printed as such, and the repr of bound methods.
KNOWN_DIFFERENCES = {"{{ 2 ** 64 }}", "{{ d.items }}", '{{ d["items"] }}', "{{ xs.append }}",
                     "{{ xs|items }}", "{{ d.keys() }}|{{ d.values()|list }}|{{ d.items()|list }}"}


class GenerationTag(jinja2.ext.Extension):
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
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                             extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def jinja_render(template, variables):
    try:
        return True, environment().from_string(template).render(
            bos_token="<s>", eos_token="</s>", **variables)
    except Exception as e:
        return False, f"{type(e).__name__}: {e}"


def c_string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "?":
            out.append("\\?")
        elif o < 0x20 or o == 0x7f:
            out.append("\\%03o" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


C_FILES = {
    "expr": "literals, operators, comparisons, Undefined, item access and slicing",
    "syntax": "statements, scoping, macros, loops and whitespace control",
    "filters": "Jinja2's filters and tests",
    "methods": "Python's str, list and dict methods",
    "errors": "syntax and runtime errors, with their line numbers",
}


def emit_c(unit_dir, results):
    context = c_string(json.dumps(V, ensure_ascii=False, separators=(",", ":")))
    for cat, what in C_FILES.items():
        lines = [
            f"/* Chat templates: {what}.",
            " * Generated by tests/conformance/templates/differential.py from cases whose",
            " * output matches Python's jinja2 3.1 configured like Hugging Face's",
            " * apply_chat_template: the expected strings are Jinja2's. Errors are compared",
            " * by message. */",
            '#include "test_template_cases.h"',
            "",
            "/* the variables every case sees, besides bos_token and eos_token */",
            f"static const char context_json[] =\n    {context};",
            "",
            "static const struct template_case cases[] = {",
        ]
        for template, ok, text, mine, kw in results[cat]:
            agp = "true" if kw.get("add_generation_prompt") else "false"
            expected = c_string(text) if ok else "NULL"
            error = "NULL" if ok else c_string(mine)
            lines.append(f"    {{{c_string(template)}, {agp},\n     {expected}, {error}}},")
        lines += ["};", "", "int main(void)", "{",
                  "    run_template_cases(cases, sizeof(cases) / sizeof(cases[0]), context_json);",
                  "    return test_report();", "}", ""]
        with open(os.path.join(unit_dir, f"test_template_{cat}.c"), "w") as f:
            f.write("\n".join(lines))


def main():
    build = sys.argv[1]
    tool = os.path.join(build, "tests/conformance/templates/conformance_templates")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([{"template": t, "vars": v} for t, v, _, _ in T], f)
        path = f.name
    try:
        out = subprocess.run([tool, "--cases", path], check=True, capture_output=True, text=True)
    finally:
        os.unlink(path)
    ours = [json.loads(line) for line in out.stdout.splitlines()]
    results = {cat: [] for cat in C_FILES}
    differ = 0
    for (template, variables, cat, kw), mine in zip(T, ours):
        ok, text = jinja_render(template, variables)
        got = mine.get("output", mine.get("error"))
        same = ok == mine["ok"] and (not ok or text == got)
        if same:
            results[cat].append((template, ok, text, got, kw))
        elif template not in KNOWN_DIFFERENCES:
            differ += 1
            print(f"DIFFERS {template!r}\n  jinja2: {text!r}\n  slmd:   {got!r}")
    print(f"{len(T) - differ} of {len(T)} cases agree with jinja2 "
          f"({len(KNOWN_DIFFERENCES)} known differences)")
    if "--emit-c" in sys.argv:
        here = os.path.dirname(os.path.abspath(__file__))
        emit_c(os.path.join(here, "../../unit"), results)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
