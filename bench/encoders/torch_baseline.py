#!/usr/bin/env python3
"""PyTorch eager baseline for bench/encoders.

Loads a DistilBertForSequenceClassification Hugging Face directory (config.json +
model.safetensors, as encoder_mkmodel writes it) into a plain torch.nn DistilBERT written
after the Hugging Face definition, and measures sequences/s of the full forward pass
(embeddings, layers, pre_classifier + ReLU + classifier on [CLS]) at the shapes slmd's
encoder_bench uses. With --slm PATH it first checks that both compute the same logits
for one sequence, so the comparison is on the same weights and the same function.

Benchmark tool only: needs Debian's python3-torch (and python3-numpy); nothing in the
build or the tests uses it.

    torch_baseline.py MODEL_DIR [--threads 2] [--seconds 5] [--slm build/tools/slm]
"""
import argparse
import json
import math
import os
import struct
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DTYPES = {"F32": np.float32, "F16": np.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        data = np.memmap(path, dtype=np.uint8, mode="r")
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(raw.reshape(info["shape"]).astype(np.float32))
    return tensors


class Layer(nn.Module):
    def __init__(self, dim, heads, ff):
        super().__init__()
        self.heads = heads
        self.q_lin, self.k_lin = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_lin, self.out_lin = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.sa_layer_norm = nn.LayerNorm(dim, eps=1e-12)
        self.lin1, self.lin2 = nn.Linear(dim, ff), nn.Linear(ff, dim)
        self.output_layer_norm = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x, mask):
        b, n, dim = x.shape
        hd = dim // self.heads

        def split(t):
            return t.view(b, n, self.heads, hd).transpose(1, 2)

        q = split(self.q_lin(x)) / math.sqrt(hd)
        k, v = split(self.k_lin(x)), split(self.v_lin(x))
        scores = q @ k.transpose(2, 3)
        scores = scores.masked_fill(mask.view(b, 1, 1, n) == 0, torch.finfo(scores.dtype).min)
        ctx = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, dim)
        x = self.sa_layer_norm(self.out_lin(ctx) + x)
        return self.output_layer_norm(self.lin2(F.gelu(self.lin1(x))) + x)


class DistilBertClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim = cfg["dim"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], dim)
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], dim)
        self.embed_norm = nn.LayerNorm(dim, eps=1e-12)
        self.layers = nn.ModuleList(
            Layer(dim, cfg["n_heads"], cfg["hidden_dim"]) for _ in range(cfg["n_layers"]))
        self.pre_classifier = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, len(cfg["id2label"]))

    def forward(self, ids, mask):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.embed_norm(self.word_embeddings(ids) + self.position_embeddings(pos))
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(F.relu(self.pre_classifier(x[:, 0])))

    def load(self, t):
        p = "distilbert."
        with torch.no_grad():
            self.word_embeddings.weight.copy_(t[p + "embeddings.word_embeddings.weight"])
            self.position_embeddings.weight.copy_(t[p + "embeddings.position_embeddings.weight"])
            self.embed_norm.weight.copy_(t[p + "embeddings.LayerNorm.weight"])
            self.embed_norm.bias.copy_(t[p + "embeddings.LayerNorm.bias"])
            names = {"q_lin": "attention.q_lin", "k_lin": "attention.k_lin",
                     "v_lin": "attention.v_lin", "out_lin": "attention.out_lin",
                     "sa_layer_norm": "sa_layer_norm", "lin1": "ffn.lin1", "lin2": "ffn.lin2",
                     "output_layer_norm": "output_layer_norm"}
            for i, layer in enumerate(self.layers):
                for attr, name in names.items():
                    mod = getattr(layer, attr)
                    mod.weight.copy_(t[f"{p}transformer.layer.{i}.{name}.weight"])
                    mod.bias.copy_(t[f"{p}transformer.layer.{i}.{name}.bias"])
            for attr in ("pre_classifier", "classifier"):
                getattr(self, attr).weight.copy_(t[attr + ".weight"])
                getattr(self, attr).bias.copy_(t[attr + ".bias"])


def random_ids(vocab, length, batch):
    # the same generator as encoder_bench.c: words between [CLS] and [SEP]
    rng, ids = 12345, []
    for _ in range(batch):
        row = []
        for _ in range(length):
            rng = (rng * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            row.append(1000 + (rng >> 33) % (vocab - 1000))
        row[0], row[-1] = 101, 102
        ids.append(row)
    return torch.tensor(ids)


def check_against_slm(model, cfg, model_dir, slm):
    ids = random_ids(cfg["vocab_size"], 24, 1)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.f32")
        subprocess.run([slm, "logits", "-m", model_dir, "--tokens",
                        " ".join(str(int(i)) for i in ids[0]), "-o", out], check=True)
        mine = np.fromfile(out, dtype=np.float32)
    with torch.inference_mode():
        ref = model(ids, torch.ones_like(ids))[0].numpy()
    diff = float(np.max(np.abs(mine - ref)))
    print(f"slm vs PyTorch logits on one sequence: {mine} vs {ref}, max diff {diff:.2e}")
    if diff > 1e-3 * max(1.0, float(np.max(np.abs(ref)))):
        raise SystemExit("the two implementations disagree: not the same model")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--slm", help="path to slm: check that both give the same logits")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    model = DistilBertClassifier(cfg).eval()
    model.load(load_safetensors(os.path.join(args.model_dir, "model.safetensors")))
    if args.slm:
        check_against_slm(model, cfg, args.model_dir, args.slm)
    print(f"PyTorch {torch.__version__} eager, {torch.get_num_threads()} threads")
    for length, batch in ((16, 1), (128, 1), (128, 32)):
        ids = random_ids(cfg["vocab_size"], length, batch)
        mask = torch.ones_like(ids)
        with torch.inference_mode():
            model(ids, mask)  # warm-up
            runs, start, cpu_start = 0, time.perf_counter(), time.process_time()
            while runs < 3 or time.perf_counter() - start < args.seconds:
                model(ids, mask)
                runs += 1
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
        print(f"{length:4d} tokens x {batch:2d}  {runs * batch / elapsed:8.2f} seq/s  "
              f"{elapsed / runs * 1e3:8.1f} ms/batch  {cpu / runs * 1e3:8.1f} CPU ms/batch  "
              f"({runs} runs)")


if __name__ == "__main__":
    main()
