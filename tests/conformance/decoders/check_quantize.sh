#!/bin/sh
# check_quantize.sh SLM REFCMP — `slm quantize` of the F32 reference model:
#  - to Q8_0: within the quantized tolerance of the unquantized reference logits;
#  - to Q8_0 and Q4_0: within tolerance of the reference engine's own Q8_0/Q4_0 files'
#    logits (same weights quantized by the reference tool), i.e. our rounding matches;
#  - K-quants on a model wide enough for 256-element blocks load and run.
set -eu
slm=$1 refcmp=$2
shared=${SLM_SHARED:-../shared}
if [ ! -f "$shared/ref/llama-spm-tiny-F32.ids" ]; then
  echo "SKIPPED: reference data not found ($shared)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ids=$(cat "$shared/ref/llama-spm-tiny-F32.ids")
rows=$(echo "$ids" | wc -w)
for type in Q8_0 Q4_0; do
  "$slm" quantize "$shared/models/llama-spm-tiny-F32.gguf" "$tmp/$type.gguf" "$type"
  "$slm" logits -m "$tmp/$type.gguf" --tokens "$ids" -o "$tmp/$type.f32"
  echo "$type vs reference $type file:"
  "$refcmp" "$tmp/$type.f32" "$shared/ref/llama-spm-tiny-$type.logits.f32" "$rows" 0.25 85
done
echo "Q8_0 vs unquantized:"
"$refcmp" "$tmp/Q8_0.f32" "$shared/ref/llama-spm-tiny-F32.logits.f32" "$rows" 0.25 85
# K-quants need rows of 256: a 256-wide model, quantized from F32, against its F32 logits
"$slm" mkmodel --arch llama --dim 256 --layers 2 --heads 4 --ff 512 --vocab 1024 --type F32 -o "$tmp/k.gguf"
kids="1 100 200 300 400 500 600 700"
"$slm" logits -m "$tmp/k.gguf" --tokens "$kids" -o "$tmp/k-f32.f32"
# Random uniform weights are the worst case for 4-bit rounding (the reference's own Q4_0
# of llama-spm-tiny lands at err 1.29 against its F32), so 4-bit gets a wider bound here.
for spec in Q4_K:0.5 Q5_K:0.25 Q6_K:0.1 Q8_0:0.1; do
  type=${spec%:*} limit=${spec#*:}
  "$slm" quantize "$tmp/k.gguf" "$tmp/k-$type.gguf" "$type"
  "$slm" logits -m "$tmp/k-$type.gguf" --tokens "$kids" -o "$tmp/k-$type.f32"
  echo "$type (256-wide model) vs its F32:"
  # near-ties in random logits make argmax a weak signal here; err is the check
  "$refcmp" "$tmp/k-$type.f32" "$tmp/k-f32.f32" 8 "$limit" 50
done
