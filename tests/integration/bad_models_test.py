#!/usr/bin/env python3
"""Model files that are well-formed GGUF or safetensors but wrong as models, the way
published GGUF-parser and model-loader bugs of other engines were triggered: layer counts
past SLM_MAX_LAYERS, head counts and key lengths whose products overflow, a tokenizer
whose arrays disagree with the vocabulary or with each other, string arrays that claim
more entries than the file holds, metadata of the wrong type for every key the loader
reads; and Hugging Face directories with a bad model.safetensors (the crafted files of
tests/data/encoder/safetensors/: header length past the file, overlapping and gapped
offsets ...), a truncated one, and one whose shapes disagree with config.json.

Each is given to `slm info -m FILE`: it must exit 1 with one line
`slm: error: FILE: reason` on stderr and no sanitizer report. The files are made at test
time from a random model written by `slm mkmodel`; an unchanged rewrite of it must load,
so a broken rewriter cannot make every case "pass".

usage: bad_models_test.py SLM SOURCE_DIR
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

from gguf_rewrite import Gguf, ARRAY, STRING, U32, I32, F32, U64, BOOL, encode_string
from slmd_harness import Failure, check, run_tests, shared_models_dir, skip

slm, source = sys.argv[1], sys.argv[2]
if not os.access(slm, os.X_OK):
    skip(f"{slm} is not built")
WORK = tempfile.mkdtemp(prefix="slm-bad-models-")
BASE = os.path.join(WORK, "base.gguf")
SANITIZER_MARKERS = ("Sanitizer", "runtime error:")
MAX_LAYERS = 512  # SLM_MAX_LAYERS in core/include/slm/model.h


def run_slm(*args):
    return subprocess.run([slm, *args], capture_output=True, timeout=120)


def make_base():
    p = run_slm("mkmodel", "--arch", "llama", "--dim", "32", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--ff", "64", "--ctx", "128", "--vocab", "449", "--type",
                "Q8_0", "--seed", "7", "-o", BASE)
    check(p.returncode == 0, f"slm mkmodel: {p.stderr.decode(errors='replace')}")


def expect_refused(path, what):
    p = run_slm("info", "-m", path)
    err = p.stderr.decode(errors="replace")
    for marker in SANITIZER_MARKERS:
        check(marker not in err, f"{what}: sanitizer report:\n{err}")
    check(p.returncode == 1, f"{what}: slm info exited {p.returncode}, stderr {err!r}")
    lines = err.splitlines()
    check(len(lines) == 1, f"{what}: {len(lines)} lines on stderr: {err!r}")
    # FILE is the path given, or for a directory the file in it that is wrong
    m = re.match(r"slm: error: (%s(?:/[\w.-]+)?): (.{8,})$" % re.escape(path), lines[0])
    check(m, f"{what}: not 'slm: error: FILE: reason': {lines[0]!r}")
    return m.group(2)


def variant(name, edit):
    g = Gguf(BASE)
    edit(g)
    path = os.path.join(WORK, name + ".gguf")
    g.write(path)
    return path


def lying_string_array(count, strings):
    """An array of strings whose header claims `count` entries."""
    return struct.pack("<IQ", STRING, count) + b"".join(encode_string(s) for s in strings)


def test_unchanged_rewrite_loads():
    path = variant("unchanged", lambda g: None)
    p = run_slm("info", "-m", path)
    check(p.returncode == 0, f"the rewritten base model does not load: {p.stderr!r}")
    check(b"layers: 2" in p.stdout, p.stdout.decode(errors="replace"))


def llama(key):
    return f"llama.{key}"


CASES = {
    # counts beyond the limits
    "layers-past-limit": lambda g: g.set(llama("block_count"), U32, MAX_LAYERS + 1),
    "layers-u32-max": lambda g: g.set(llama("block_count"), U32, 0xFFFFFFFF),
    "layers-zero": lambda g: g.set(llama("block_count"), U32, 0),
    "embedding-huge": lambda g: g.set(llama("embedding_length"), U32, 0x80000000),
    "heads-huge": lambda g: g.set(llama("attention.head_count"), U32, 0x80000000),
    "heads-zero": lambda g: g.set(llama("attention.head_count"), U32, 0),
    "kv-heads-zero": lambda g: g.set(llama("attention.head_count_kv"), U32, 0),
    "kv-heads-not-dividing": lambda g: g.set(llama("attention.head_count_kv"), U32, 3),
    "heads-not-dividing": lambda g: g.set(llama("attention.head_count"), U32, 5),
    # heads x key length past 2^32 (and past anything that fits in memory)
    "key-length-overflows": lambda g: (g.set(llama("attention.head_count"), U32, 1024),
                                       g.set(llama("attention.key_length"), U32, 0x400000)),
    "ff-huge": lambda g: g.set(llama("feed_forward_length"), U32, 0xFFFFFFFF),
    "rope-dims-odd": lambda g: g.set(llama("rope.dimension_count"), U32, 7),
    "rope-dims-past-head": lambda g: g.set(llama("rope.dimension_count"), U32, 4096),
    "per-layer-heads-short": lambda g: g.set(llama("attention.head_count"), ARRAY, (U32, [4])),
    "per-layer-heads-long": lambda g: g.set(llama("attention.head_count"), ARRAY,
                                            (U32, [4, 4, 4])),
    # shapes the metadata and the tensors disagree on
    "embedding-disagrees": lambda g: g.set(llama("embedding_length"), U32, 64),
    "ff-disagrees": lambda g: g.set(llama("feed_forward_length"), U32, 96),
    "tensor-missing": lambda g: setattr(g, "tensors",
                                        [t for t in g.tensors if t[0] != "blk.1.ffn_down.weight"]),
    "tensor-shape-wrong": lambda g: [t.__setitem__(1, [t[1][1], t[1][0]]) for t in g.tensors
                                     if t[0] == "blk.0.attn_k.weight"],
    # the tokenizer against the vocabulary
    "tokens-fewer-than-vocab": lambda g: g.set("tokenizer.ggml.tokens", ARRAY,
                                               (STRING, g.get("tokenizer.ggml.tokens")[1][:-1])),
    "tokens-more-than-vocab": lambda g: g.set("tokenizer.ggml.tokens", ARRAY, (
        STRING, g.get("tokenizer.ggml.tokens")[1] + ["extra"])),
    "scores-shorter": lambda g: g.set("tokenizer.ggml.scores", ARRAY,
                                      (F32, g.get("tokenizer.ggml.scores")[1][:-5])),
    "token-types-longer": lambda g: g.set("tokenizer.ggml.token_type", ARRAY, (
        I32, g.get("tokenizer.ggml.token_type")[1] + [1])),
    "tokens-empty": lambda g: g.set("tokenizer.ggml.tokens", ARRAY, (STRING, [])),
    # string arrays that claim more than the file holds
    "tokens-count-huge": lambda g: g.set_raw("tokenizer.ggml.tokens", ARRAY,
                                             lying_string_array(1 << 40, ["a", "b"])),
    "tokens-count-wraps": lambda g: g.set_raw("tokenizer.ggml.tokens", ARRAY,
                                              lying_string_array((1 << 64) - 1, ["a"])),
    "merges-count-huge": lambda g: g.set_raw("tokenizer.ggml.merges", ARRAY,
                                             lying_string_array(1 << 33, ["a b"])),
    # metadata of the wrong type, for the keys the loader reads
    "arch-not-string": lambda g: g.set("general.architecture", U32, 1),
    "arch-unknown": lambda g: g.set("general.architecture", STRING, "gptj"),
    "layers-string": lambda g: g.set(llama("block_count"), STRING, "2"),
    "layers-float": lambda g: g.set(llama("block_count"), F32, 2.0),
    "embedding-u64-huge": lambda g: g.set(llama("embedding_length"), U64, 1 << 40),
    "heads-bool": lambda g: g.set(llama("attention.head_count"), BOOL, True),
    "eps-string": lambda g: g.set(llama("attention.layer_norm_rms_epsilon"), STRING, "1e-5"),
    "eps-negative": lambda g: g.set(llama("attention.layer_norm_rms_epsilon"), F32, -1.0),
    "eps-nan": lambda g: g.set(llama("attention.layer_norm_rms_epsilon"), F32, float("nan")),
    "rope-base-inf": lambda g: g.set(llama("rope.freq_base"), F32, float("inf")),
    "context-string": lambda g: g.set(llama("context_length"), STRING, "128"),
    "tokenizer-model-number": lambda g: g.set("tokenizer.ggml.model", U32, 1),
    "tokenizer-model-unknown": lambda g: g.set("tokenizer.ggml.model", STRING, "rwkv"),
    "tokens-not-strings": lambda g: g.set("tokenizer.ggml.tokens", ARRAY, (U32, list(range(449)))),
    "tokens-not-array": lambda g: g.set("tokenizer.ggml.tokens", STRING, "a"),
    "scores-strings": lambda g: g.set("tokenizer.ggml.scores", ARRAY, (STRING, ["0"] * 449)),
    "token-types-floats": lambda g: g.set("tokenizer.ggml.token_type", ARRAY, (F32, [1.0] * 449)),
    "bos-string": lambda g: g.set("tokenizer.ggml.bos_token_id", STRING, "1"),
    "template-number": lambda g: g.set("tokenizer.chat_template", U32, 3),
    "template-array": lambda g: g.set("tokenizer.chat_template", ARRAY, (STRING, ["{{x}}"])),
    "name-number": lambda g: g.set("general.name", U64, 5),
    "pre-number": lambda g: g.set("tokenizer.ggml.pre", U32, 3),
    "alignment-wrong-type": lambda g: g.set("general.alignment", STRING, "32"),
}


def test_bad_gguf_models():
    refused = {}
    for name, edit in CASES.items():
        path = variant(name, edit)
        try:
            refused[name] = expect_refused(path, name)
        except Failure as e:
            raise Failure(f"{name}: {e}")
    width = max(map(len, refused))
    for name, reason in refused.items():
        print(f"  {name:<{width}}  {reason}")


# Special-token ids outside the vocabulary are ignored on purpose (the tokenizer keeps its
# default for that role, as other engines do with converted files that carry stale ids):
# such a model must load and generate without reading past its tables.
TOLERATED = {
    "bos-past-vocab": lambda g: g.set("tokenizer.ggml.bos_token_id", U32, 449),
    "eos-u32-max": lambda g: g.set("tokenizer.ggml.eos_token_id", U32, 0xFFFFFFFF),
    "unk-past-vocab": lambda g: g.set("tokenizer.ggml.unknown_token_id", U32, 100000),
}


def test_tolerated_special_ids():
    for name, edit in TOLERATED.items():
        path = variant(name, edit)
        p = run_slm("generate", "-m", path, "-p", "Hello", "-n", "4", "--temp", "0")
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 0 and not any(m in err for m in SANITIZER_MARKERS),
              f"{name}: slm generate exited {p.returncode}: {err}")


ENCODER_FILES = ("config.json", "vocab.txt", "tokenizer_config.json")


def encoder_dir(name, model):
    directory = os.path.join(WORK, name)
    os.makedirs(directory)
    for f in ENCODER_FILES:
        src = os.path.join(model, f)
        if os.path.exists(src):
            shutil.copy(src, directory)
    return directory


def test_bad_safetensors_models():
    models = shared_models_dir()
    if not models:
        print("note: reference data not found: the safetensors model cases are not run")
        return
    model = os.path.join(models, "distilbert-tiny-sst2")
    good = os.path.join(model, "model.safetensors")
    corpus = os.path.join(source, "tests", "data", "encoder", "safetensors")
    # the crafted files: every one but the valid one is refused by the whole loader too
    names = sorted(f for f in os.listdir(corpus) if f != "valid.safetensors")
    for required in ("header-past-end", "overlap", "gap", "header-length-wraps",
                     "offsets-huge", "past-end", "truncated-data"):
        check(f"{required}.safetensors" in names, f"the corpus lacks {required}")
    for f in names:
        d = encoder_dir(f.replace(".", "-"), model)
        shutil.copy(os.path.join(corpus, f), os.path.join(d, "model.safetensors"))
        expect_refused(d, f)
    # the real file cut short in its data, and cut inside its header
    size = os.path.getsize(good)
    with open(good, "rb") as fsrc:
        data = fsrc.read()
    header_len = struct.unpack_from("<Q", data)[0]
    for what, cut in (("truncated-data", size - 1000), ("truncated-header", 8 + header_len // 2)):
        d = encoder_dir(what, model)
        with open(os.path.join(d, "model.safetensors"), "wb") as f:
            f.write(data[:cut])
        expect_refused(d, what)
    # shapes against config.json: a config that says the model is twice as wide
    d = encoder_dir("config-disagrees", model)
    shutil.copy(good, d)
    import json
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    config["dim"] = config.get("dim", 32) * 2
    config["hidden_dim"] = config.get("hidden_dim", 64) * 2
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f)
    expect_refused(d, "config-disagrees")
    # and the untouched directory loads (the cases above differ from it in one thing each)
    d = encoder_dir("good", model)
    shutil.copy(good, d)
    p = run_slm("info", "-m", d)
    check(p.returncode == 0, f"the copied model does not load: {p.stderr!r}")


try:
    make_base()
    run_tests([test_unchanged_rewrite_loads, test_bad_gguf_models, test_tolerated_special_ids,
               test_bad_safetensors_models])
finally:
    shutil.rmtree(WORK, ignore_errors=True)
