#!/bin/sh
# End-to-end decoder figures for bench/README.md: `slm bench` on TinyLlama-1.1B-shaped
# models with random weights (written once into CACHE by `slm mkmodel`), for each weight
# type at 1 and 2 threads, printed as a Markdown table. Every row is one `slm bench` run:
# prompt and generation speed and the generation's fraction of the read-bandwidth bound
# measured in that same run (only the ratio is comparable across runs on a shared
# machine).
#
# usage: bench/run-decoders.sh [BUILD] [TYPES] [THREADS]
#   BUILD    build tree (default build)
#   TYPES    weight types (default "Q4_0 Q4_K Q8_0 F16"; Q4_K stands for Q4_K_M, which
#            mkmodel cannot mix: same bytes per weight in the large matrices)
#   THREADS  thread counts (default "1 2")
# Environment: CACHE (default /tmp/slm-bench), PROMPT (128), GEN (32), REPEATS (5).
set -eu
build=${1:-build}
types=${2:-"Q4_0 Q4_K Q8_0 F16"}
threads=${3:-"1 2"}
cache=${CACHE:-/tmp/slm-bench}
slm="$build/tools/slm"
[ -x "$slm" ] || { echo "$slm: not built" >&2; exit 1; }
mkdir -p "$cache"

echo "| type | threads | weights | prompt ${PROMPT:-128} tok/s | generate tok/s (min-max) | read GB/s | generation / bound |"
echo "| --- | ---: | --- | ---: | ---: | ---: | ---: |"
for type in $types; do
  model="$cache/tinyllama-shape-$type.gguf"
  if [ ! -f "$model" ]; then
    echo "writing $model" >&2
    "$slm" mkmodel --arch llama --preset tinyllama --type "$type" -o "$model" >&2
  fi
  for t in $threads; do
    "$slm" bench -m "$model" -t "$t" -p "${PROMPT:-128}" -n "${GEN:-32}" -r "${REPEATS:-5}" \
      --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
pp, tg = r["pp_tps"], r["tg_tps"]
print("| %s | %d | %s | %.1f | %.1f (%.1f-%.1f) | %.1f | %.0f%% |" % (
    r["type"], r["threads"], r["weights"], pp["median"], tg["median"], tg["min"], tg["max"],
    r["bandwidth_gbs"], 100 * r["tg_fraction_of_bound"]))'
  done
done
