#!/bin/sh
# check_regroup.sh SLM REFCMP — Q4_0 matrices whose rows are whole 512-element groups are
# regrouped at load (Q4_0_R16) where the kernels have a tile for that layout (x86 AVX2
# and AVX-512). The same file mapped (never regrouped) and through the generic kernels must
# give the same logits up to float summation order, for a prompt in one pass (tiles) and
# token by token (decode). Needs no reference data: the model is written by mkmodel.
set -eu
slm=$1 refcmp=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$slm" mkmodel --arch llama --dim 512 --layers 2 --heads 8 --kv-heads 2 --ff 1536 \
  --vocab 2048 --type Q4_0 -o "$tmp/m.gguf"
ids="1 17 300 1999 42 999 1500 7 260 1200 88 2000"
rows=$(echo "$ids" | wc -w)

level=$("$slm" info --cpu | sed -n 's/^kernels: *\([^ ]*\).*/\1/p')
case "$level" in
  avx2|avx512*)
    "$slm" info -m "$tmp/m.gguf" | grep -q "regrouped at load" ||
      { echo "FAIL: $level kernels but the Q4_0 matrices were not regrouped"; exit 1; } ;;
  *) echo "kernels '$level': no regrouping here, the comparison still runs" ;;
esac
if SLM_WEIGHTS=mapped "$slm" info -m "$tmp/m.gguf" | grep -q "regrouped at load"; then
  echo "FAIL: a mapped file was regrouped"
  exit 1
fi

# Limits: the matrix products agree to float rounding (unit.matmul checks 2e-4), but a
# rounding difference can move an activation across an 8-bit quantization step, which the
# random weights then spread: the file layout through AVX-512 against the generic kernels
# differs by err 0.027 here, regrouped against the file layout 0.022. A misplaced block
# or scale gives errors of order 1.
for mode in "" --stepwise; do
  "$slm" logits -m "$tmp/m.gguf" --tokens "$ids" $mode -o "$tmp/private.f32"
  SLM_WEIGHTS=mapped "$slm" logits -m "$tmp/m.gguf" --tokens "$ids" $mode -o "$tmp/mapped.f32"
  SLM_CPU_LEVEL=generic "$slm" logits -m "$tmp/m.gguf" --tokens "$ids" $mode \
    -o "$tmp/generic.f32"
  echo "regrouped ${mode:-one pass} vs the file layout (mapped):"
  "$refcmp" "$tmp/private.f32" "$tmp/mapped.f32" "$rows" 0.1 90
  echo "regrouped ${mode:-one pass} vs the generic kernels:"
  "$refcmp" "$tmp/private.f32" "$tmp/generic.f32" "$rows" 0.1 90
done
"$slm" logits -m "$tmp/m.gguf" --tokens "$ids" -o "$tmp/pass.f32"
"$slm" logits -m "$tmp/m.gguf" --tokens "$ids" --stepwise -o "$tmp/steps.f32"
echo "one pass vs token by token:"
"$refcmp" "$tmp/steps.f32" "$tmp/pass.f32" "$rows" 0.1 90
