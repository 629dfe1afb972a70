#!/usr/bin/env python3
"""Independent cross-check of the byte-level BPE expectations in conformance_vocab.c.

Not run by ctest (it needs the third-party `regex` module). It models the reference
engine's byte-level BPE with different machinery than slmd's C code: Python `regex` for the
pre-tokenizers (applied in sequence, the text between matches kept as pieces), a naive
lowest-rank-first merge loop, and a small GGUF metadata parser. Usage:

    SLM_SHARED=../shared python3 crosscheck_bpe.py deepseek-llm > py.out

prints one line of ids per .inp case, to compare with what slmd gives.
"""
import os
import re as _re
import struct
import sys

import regex

SHARED = os.environ.get('SLM_SHARED', '../shared')


def gguf_metadata(path):
    scalar = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q',
              12: 'd'}
    f = open(path, 'rb')

    def rd(fmt):
        return struct.unpack('<' + fmt, f.read(struct.calcsize(fmt)))

    def rstr():
        n, = rd('Q')
        return f.read(n)

    def rval(t):
        if t == 8:
            return rstr()
        if t == 9:
            et, = rd('I')
            n, = rd('Q')
            return [rval(et) for _ in range(n)]
        return rd(scalar[t])[0]

    assert f.read(4) == b'GGUF'
    rd('I')
    _, nkv = rd('QQ')
    kv = {}
    for _ in range(nkv):
        k = rstr().decode()
        t, = rd('I')
        kv[k] = rval(t)
    return kv
def decode_ref(b):
    cps, i = [], 0
    while i < len(b):
        c = b[i]
        if c < 0x80: cps.append(c); i += 1; continue
        if c & 0xE0 == 0xC0: need, cp = 1, c & 0x1F
        elif c & 0xF0 == 0xE0: need, cp = 2, c & 0x0F
        elif c & 0xF8 == 0xF0: need, cp = 3, c & 0x07
        else: cps.append(0xFFFD); i += 1; continue
        if i + need >= len(b):
            cps.append(0xFFFD); i += 1; continue
        ok = all(b[i + k] & 0xC0 == 0x80 for k in range(1, need + 1))
        if not ok: cps.append(0xFFFD); i += 1; continue
        for k in range(1, need + 1): cp = (cp << 6) | (b[i + k] & 0x3F)
        if cp > 0x10FFFF: cps.append(0xFFFD); i += 1; continue
        cps.append(cp); i += need + 1
    return cps

WS = {0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(range(0x2000, 0x200B))

def split(cps, patterns):
    subj = ''.join(chr(0x0B if c in WS else c) for c in cps)
    words = [(0, len(cps))]
    for p in patterns:
        q = p.replace(r'\S', '[^\t\n\x0B\f\r ]')
        q = regex.sub(r'\[(\^?)([^\]]*?)\\s', lambda m: '[' + m.group(1) + m.group(2) + '\t\n\x0B\f\r ', q)
        q = q.replace(r'\s', '[\t\n\x0B\f\r ]')
        rx = regex.compile(q, regex.V0)
        new = []
        for s, e in words:
            piece = subj[s:e]
            prev = 0
            for m in rx.finditer(piece):
                if m.end() == m.start(): continue
                if m.start() > prev: new.append((s + prev, s + m.start()))
                new.append((s + m.start(), s + m.end()))
                prev = m.end()
            if prev < e - s: new.append((s + prev, e))
        words = new
    return words

def byte_to_cp(b):
    if b <= 0x20: return 0x100 + b
    if 0x7F <= b <= 0xA0: return 0x100 + 33 + b - 0x7F
    if b == 0xAD: return 0x100 + 67
    return b

def encode_cp(cp):
    return chr(cp).encode('utf-8', 'surrogatepass')

class Vocab:
    def __init__(self, path):
        kv = gguf_metadata(path)
        self.tokens = kv['tokenizer.ggml.tokens']
        self.types = kv['tokenizer.ggml.token_type']
        self.id = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {}
        for i, m in enumerate(kv['tokenizer.ggml.merges']):
            a, b = m.split(b' ', 1)
            self.rank.setdefault((a, b), i)

def bpe_word(v, word_bytes):
    syms = [chr(byte_to_cp(x)).encode() for x in word_bytes]
    while True:
        best = None
        for i in range(len(syms) - 1):
            r = v.rank.get((syms[i], syms[i + 1]))
            if r is not None and (best is None or r < best[0]): best = (r, i)
        if best is None: break
        i = best[1]
        syms[i:i + 2] = [syms[i] + syms[i + 1]]
    out = []
    for s in syms:
        if s in v.id: out.append(v.id[s])
        else: out += [v.id[bytes([c])] for c in s if bytes([c]) in v.id]
    return out

def user_defined_split(v, text):
    """Pieces of text around user-defined tokens (always matched, longest first)."""
    specials = sorted([i for i, t in enumerate(v.types) if t == 4], key=lambda i: (-len(v.tokens[i]), i))
    pieces = [(text, None)]
    for sid in specials:
        st = v.tokens[sid]
        new = []
        for p, tok in pieces:
            if tok is not None or st not in p: new.append((p, tok)); continue
            parts = p.split(st)
            for k, part in enumerate(parts):
                if part: new.append((part, None))
                if k + 1 < len(parts): new.append((st, sid))
        pieces = new
    return pieces

def tokenize(v, patterns, text):
    out = []
    for piece, tok in user_defined_split(v, text):
        if tok is not None: out.append(tok); continue
        cps = decode_ref(piece)
        for s, e in split(cps, patterns):
            wb = b''.join(encode_cp(c) for c in cps[s:e])
            out += bpe_word(v, wb)
    return out
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}\p{Cn}]+|\s+(?!\S)|(?s:.)"
LET = r"\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+"
PRE = {
 'deepseek-llm': [r"[\r\n]", LET, r"\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+", r"\s+\Z", r"[\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+", r"\p{N}+"],
 'falcon': [r"[\p{P}$+<=>^~|`]+", GPT2, r"[0-9][0-9][0-9]"],
 'gpt-2': [GPT2],
}
import re as _re
for k in PRE:
    PRE[k] = [_re.sub(r'\\x\{([0-9A-F]+)\}', lambda m: '\\U%08x' % int(m.group(1), 16), p) for p in PRE[k]]
name = sys.argv[1]
v = Vocab(os.path.join(SHARED, 'vocab', 'ggml-vocab-%s.gguf' % name))
cases = open(os.path.join(SHARED, 'vocab', 'ggml-vocab-%s.gguf.inp' % name), 'rb').read().split(b'\n__ggml_vocab_test__\n')
for k, c in enumerate(cases):
    print(' '.join(map(str, tokenize(v, PRE[name], c))))
