#!/bin/sh
# check_extra.sh SLM — the models in models/extra (no published outputs) load, tokenize,
# produce finite logits, and generate; plus determinism: a seeded sampled run repeats.
set -eu
slm=$1
shared=${SLM_SHARED:-../shared}
if [ ! -d "$shared/models/extra" ]; then
  echo "SKIPPED: reference data not found ($shared)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for gguf in "$shared"/models/extra/*.gguf; do
  echo "== $gguf"
  "$slm" info -m "$gguf" > "$tmp/info"
  grep -E '^(architecture|layers|vocabulary):' "$tmp/info"
  ids=$(printf 'Once upon a time there was a little robot.' | "$slm" tokenize -m "$gguf")
  echo "ids: $ids"
  "$slm" logits -m "$gguf" --tokens "$ids" -o "$tmp/l.f32"
  a=$("$slm" generate -m "$gguf" --tokens "$ids" -n 16 --temp 0.8 --seed 42 --ids)
  b=$("$slm" generate -m "$gguf" --tokens "$ids" -n 16 --temp 0.8 --seed 42 --ids -t 1)
  echo "sampled: $a"
  [ "$a" = "$b" ] || { echo "seeded sampling differs between runs/thread counts"; exit 1; }
done
