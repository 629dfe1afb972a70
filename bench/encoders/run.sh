#!/bin/sh
# Encoder benchmark: slmd's forward pass against PyTorch eager on the same random-weight
# DistilBERT (dim 768, 6 layers, 12 heads, FFN 3072, vocab 30522), 2 threads.
#
#   bench/encoders/run.sh BUILD_DIR [MODEL_DIR]
#
# MODEL_DIR (default /tmp/slm-bench-distilbert-base) is written by encoder_mkmodel when it
# does not exist. The PyTorch half needs python3-torch (Debian); it is skipped without it.
set -eu
build=${1:?usage: run.sh BUILD_DIR [MODEL_DIR]}
model=${2:-/tmp/slm-bench-distilbert-base}
here=$(dirname "$0")
threads=${THREADS:-2}
seconds=${SECONDS_PER_SHAPE:-10}

if [ ! -f "$model/model.safetensors" ]; then
    "$build/bench/encoders/encoder_mkmodel" -o "$model"
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/encoders/encoder_bench" -m "$model" -t "$threads" --seconds "$seconds"
echo "load after slmd: $(cut -d' ' -f1-3 /proc/loadavg)"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    /usr/bin/python3 "$here/torch_baseline.py" "$model" --threads "$threads" \
        --seconds "$seconds" --slm "$build/tools/slm"
    echo "load after PyTorch: $(cut -d' ' -f1-3 /proc/loadavg)"
else
    echo "python3-torch is not installed: PyTorch baseline skipped"
fi
