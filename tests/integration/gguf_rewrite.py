"""Reads a GGUF file into its parts and writes it back with metadata changed, so a test
can take a valid model (from `slm mkmodel`) and make one precise thing wrong with it:
a value of the wrong type, a count past a limit, an array of another length. Tensor
infos and data are kept as they are unless the caller edits them.

Only what the tests need: GGUF v2/v3, little-endian.
"""
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FORMAT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
                 BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        value = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value[0]

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s.decode("utf-8")

    def value(self, vtype):
        if vtype == STRING:
            return self.string()
        if vtype == ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            return (etype, [self.value(etype) for _ in range(n)])
        return self.take(SCALAR_FORMAT[vtype])


def encode_string(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def encode_value(vtype, value):
    if vtype == STRING:
        return encode_string(value)
    if vtype == ARRAY:
        etype, items = value
        return struct.pack("<IQ", etype, len(items)) + b"".join(
            encode_value(etype, v) for v in items)
    return struct.pack(SCALAR_FORMAT[vtype], value)


class Gguf:
    """kv: list of [key, type, value]; tensors: list of [name, dims, type, offset]."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        r = Reader(data)
        magic, self.version = data[:4], struct.unpack_from("<I", data, 4)[0]
        if magic != b"GGUF" or self.version not in (2, 3):
            raise ValueError(f"{path}: not a GGUF v2/v3 file")
        r.pos = 8
        n_tensors, n_kv = r.take("<Q"), r.take("<Q")
        self.kv = []
        for _ in range(n_kv):
            key = r.string()
            vtype = r.take("<I")
            self.kv.append([key, vtype, r.value(vtype)])
        self.tensors = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.take("<I")
            dims = [r.take("<Q") for _ in range(n_dims)]
            self.tensors.append([name, dims, r.take("<I"), r.take("<Q")])
        align = self.get("general.alignment", 32)
        self.data_start = (r.pos + align - 1) // align * align
        self.blob = data[self.data_start:]
        self.raw_kv = {}  # key -> bytes written instead of the encoded value (lying counts)

    def get(self, key, default=None):
        for k, _, v in self.kv:
            if k == key:
                return v
        return default

    def set(self, key, vtype, value):
        for entry in self.kv:
            if entry[0] == key:
                entry[1], entry[2] = vtype, value
                return self
        self.kv.append([key, vtype, value])
        return self

    def remove(self, key):
        self.kv = [e for e in self.kv if e[0] != key]
        return self

    def set_raw(self, key, vtype, raw):
        """The value is written as the bytes `raw` (e.g. an array header whose count lies)."""
        self.set(key, vtype, None)
        self.raw_kv[key] = raw
        return self

    def write(self, path):
        out = bytearray(b"GGUF" + struct.pack("<IQQ", self.version, len(self.tensors),
                                               len(self.kv)))
        for key, vtype, value in self.kv:
            out += encode_string(key) + struct.pack("<I", vtype)
            out += self.raw_kv[key] if key in self.raw_kv else encode_value(vtype, value)
        for name, dims, ttype, offset in self.tensors:
            out += encode_string(name) + struct.pack("<I", len(dims))
            out += b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<IQ", ttype, offset)
        align = self.get("general.alignment", 32)
        if not isinstance(align, int) or align <= 0:
            align = 32
        out += b"\0" * (-len(out) % align)
        out += self.blob
        with open(path, "wb") as f:
            f.write(out)
