#!/usr/bin/env python3
"""fuzz-seeds.py FIXTURES OUT - small seed corpora for scripts/fuzz.

gguf: every fixture GGUF re-emitted with arrays cut to 4 elements and only
its smallest tensors (offsets recomputed, alignment kept), so the seeds
carry real key sets and tensor layouts in a few KB.
safetensors: every fixture checkpoint re-emitted with its smallest
tensors, plus every config.json as is (the target parses both).
"""
import glob, json, os, struct, sys

def gguf_seed(path):
    b = open(path, "rb").read()
    pos = 0
    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, b, pos)
        pos += struct.calcsize(fmt)
        return v[0]
    def rstr():
        nonlocal pos
        n = rd("Q"); s = b[pos:pos + n]; pos += n
        return s
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    def rval(t):
        """return the encoded payload, arrays cut to 4 elements"""
        nonlocal pos
        if t == 8:
            s = rstr()
            return struct.pack("<Q", len(s)) + s
        if t != 9:
            v = b[pos:pos + sizes[t]]; pos += sizes[t]
            return v
        et = rd("I"); n = rd("Q")
        keep = min(n, 4)
        out = b""
        for i in range(n):
            v = rval(et)
            if i < keep:
                out += v
        return struct.pack("<IQ", et, keep) + out
    assert b[:4] == b"GGUF"
    pos = 4
    ver = rd("I"); nt = rd("Q"); nkv = rd("Q")
    kvs = []
    align = 32
    for _ in range(nkv):
        k = rstr(); t = rd("I"); v = rval(t)
        if k == b"general.alignment":
            align = struct.unpack("<I", v)[0]
        kvs.append(struct.pack("<Q", len(k)) + k + struct.pack("<I", t) + v)
    tis = []
    for _ in range(nt):
        name = rstr(); nd = rd("I")
        ne = [rd("Q") for _ in range(nd)]
        t = rd("I"); off = rd("Q")
        tis.append((name, ne, t, off))
    data0 = (pos + align - 1) // align * align
    # byte size from the original layout: next offset or file end
    offs = sorted(o for _, _, _, o in tis) + [len(b) - data0]
    def size(o):
        nxt = min(x for x in offs if x > o)
        return nxt - o
    small = sorted(tis, key=lambda x: size(x[3]))[:4]
    out = b"GGUF" + struct.pack("<IQQ", ver, len(small), len(kvs)) + b"".join(kvs)
    datas = []
    off = 0
    for name, ne, t, o in small:
        n = size(o)
        out += struct.pack("<Q", len(name)) + name + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", x) for x in ne) + struct.pack("<IQ", t, off)
        datas.append(b[data0 + o:data0 + o + n])
        off += (n + align - 1) // align * align
    out += b"\0" * ((-len(out)) % align)
    for d in datas:
        out += d + b"\0" * ((-len(d)) % align)
    return out

def st_seed(path):
    b = open(path, "rb").read()
    n = struct.unpack_from("<Q", b)[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop("__metadata__", None)
    items = sorted(h.items(), key=lambda kv: kv[1]["data_offsets"][1] - kv[1]["data_offsets"][0])[:6]
    hdr = {}
    if meta is not None:
        hdr["__metadata__"] = meta
    data = b""
    for k, v in sorted(items):
        s, e = v["data_offsets"]
        hdr[k] = {"dtype": v["dtype"], "shape": v["shape"], "data_offsets": [len(data), len(data) + e - s]}
        data += b[8 + n + s:8 + n + e]
    hj = json.dumps(hdr, separators=(",", ":")).encode()
    hj += b" " * ((-len(hj)) % 8)
    return struct.pack("<Q", len(hj)) + hj + data

def main():
    fx, out = sys.argv[1], sys.argv[2]
    g = os.path.join(out, "gguf.corpus"); s = os.path.join(out, "safetensors.corpus")
    os.makedirs(g, exist_ok=True); os.makedirs(s, exist_ok=True)
    paths = sorted(glob.glob(fx + "/models/*/*.gguf")) + sorted(glob.glob(fx + "/tokenizer/*.gguf"))
    for p in paths:
        open(os.path.join(g, os.path.basename(p) + ".seed"), "wb").write(gguf_seed(p))
    for p in sorted(glob.glob(fx + "/models/*/hf/model.safetensors")):
        a = p.split("/")[-3]
        open(os.path.join(s, a + ".safetensors.seed"), "wb").write(st_seed(p))
        open(os.path.join(s, a + ".config.json"), "wb").write(open(os.path.join(os.path.dirname(p), "config.json"), "rb").read())
    print("seeds: %d gguf, %d safetensors/config" % (len(os.listdir(g)), len(os.listdir(s))))

main()
