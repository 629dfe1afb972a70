#!/bin/sh
# check_decoder.sh SLM REFCMP MODEL — tokenize, logits and greedy ids of one reference model.
set -eu
slm=$1 refcmp=$2 model=$3
shared=${SLM_SHARED:-../shared}
if [ ! -f "$shared/ref/$model.ids" ]; then
  echo "SKIPPED: reference data not found ($shared)"
  exit 0
fi
gguf="$shared/models/$model.gguf"
prompt="Once upon a time, a small gateway in a quiet village answered every question it was asked."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. tokenizer: the prompt's ids, BOS included
ids=$(printf '%s' "$prompt" | "$slm" tokenize -m "$gguf")
want=$(cat "$shared/ref/$model.ids")
if [ "$ids" != "$want" ]; then
  echo "tokenize mismatch"; echo " got:  $ids"; echo " want: $want"; exit 1
fi
echo "tokenize: ok ($(echo "$ids" | wc -w) tokens)"

# 2. logits for every position, against the reference
rows=$(echo "$want" | wc -w)
"$slm" logits -m "$gguf" --tokens "$want" -o "$tmp/logits.f32"
case "$model" in
  *-F32|*-F16|*-BF16|llama-2-tiny-random) max_err=0.01 min_agree=100 float=1 ;;
  *) max_err=0.25 min_agree=85 float=0 ;;
esac
"$refcmp" "$tmp/logits.f32" "$shared/ref/$model.logits.f32" "$rows" "$max_err" "$min_agree"

# 3. greedy generation; float models must reproduce the first 16 reference ids
got=$("$slm" generate -m "$gguf" --tokens "$want" -n 32 --temp 0 --ids)
echo "greedy: $got"
if [ "$float" = 1 ]; then
  g16=$(echo "$got" | tr ' ' '\n' | head -n 16 | tr '\n' ' ')
  w16=$(tr ' ' '\n' < "$shared/ref/$model.greedy" | head -n 16 | tr '\n' ' ')
  if [ "$g16" != "$w16" ]; then
    echo "greedy mismatch"; echo " got:  $g16"; echo " want: $w16"; exit 1
  fi
  echo "greedy: first 16 ids match"
fi
