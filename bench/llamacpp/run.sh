#!/bin/sh
# slmd against llama.cpp on the same GGUF files, back to back: for each weight type and
# thread count, `slm bench` then llama.cpp (through node-llama-cpp's prebuilt binaries,
# llamacpp_bench.mjs), ROUNDS times alternating, so that both see the same machine. The
# read bandwidth measured by `slm bench` in the same round gives both engines' fraction of
# the bandwidth bound. Prints a Markdown table.
#
# usage: bench/llamacpp/run.sh [BUILD] [TYPES] [THREADS]
#   BUILD    build tree (default build)
#   TYPES    default "Q4_0 Q8_0 Q4_K" (models written once by `slm mkmodel` into CACHE)
#   THREADS  default 2
# Environment: CACHE (/tmp/slm-bench), NLC (directory where node-llama-cpp is installed,
# default /tmp/nlc), PROMPT (128), GEN (32), REPEATS (3), ROUNDS (2).
#
# llama.cpp is optional and never part of the build or the tests. It comes from the npm
# registry (prebuilt, CPU variant chosen at run time), installed once by hand:
#   mkdir -p /tmp/nlc && cd /tmp/nlc && npm init -y && npm install node-llama-cpp@3.22.1
set -eu
build=${1:-build}
types=${2:-"Q4_0 Q8_0 Q4_K"}
threads=${3:-2}
cache=${CACHE:-/tmp/slm-bench}
nlc=${NLC:-/tmp/nlc}
here=$(cd "$(dirname "$0")" && pwd)
slm="$build/tools/slm"
[ -x "$slm" ] || { echo "$slm: not built" >&2; exit 1; }
[ -d "$nlc/node_modules/node-llama-cpp" ] ||
  { echo "node-llama-cpp not found in $nlc (see the comment at the top)" >&2; exit 1; }
cp "$here/llamacpp_bench.mjs" "$nlc/"
mkdir -p "$cache"
p=${PROMPT:-128} n=${GEN:-32} r=${REPEATS:-3}

echo "| type | threads | round | slmd prompt | llama.cpp prompt | ratio | slmd generate | llama.cpp generate | ratio | read GB/s | slmd / bound | llama.cpp / bound |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for type in $types; do
  model="$cache/tinyllama-shape-$type.gguf"
  [ -f "$model" ] || "$slm" mkmodel --arch llama --preset tinyllama --type "$type" -o "$model" >&2
  for t in $threads; do
    round=1
    while [ "$round" -le "${ROUNDS:-2}" ]; do
      ours=$("$slm" bench -m "$model" -t "$t" -p "$p" -n "$n" -r "$r" --json)
      theirs=$(cd "$nlc" && node llamacpp_bench.mjs "$model" "$t" "$p" "$n" "$r" | tail -1)
      OURS="$ours" THEIRS="$theirs" ROUND="$round" python3 -c '
import json, os
o, l = json.loads(os.environ["OURS"]), json.loads(os.environ["THEIRS"])
bw, per_token = o["bandwidth_gbs"], o["bytes_per_token"]
op, lp = o["pp_tps"]["median"], l["pp_tps"]["median"]
og, lg = o["tg_tps"]["median"], l["tg_tps"]["median"]
bound = lambda tps: "%.0f%%" % (100 * tps * per_token / (bw * 1e9))
print("| %s | %d | %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.1f | %s | %s |" % (
    o["type"], o["threads"], os.environ["ROUND"], op, lp, op / lp, og, lg, og / lg, bw,
    bound(og), bound(lg)))'
      round=$((round + 1))
    done
  done
done
