"""bpe.py - a byte-level BPE tokenizer with Qwen2's pre-tokenizer.

Training (train()), encoding (Encoder) and the Hugging Face tokenizer.json
layout (to_tokenizer_json()). Encoding is the llama.cpp / HF algorithm:
split on special tokens, split the rest with the Qwen2 regex, map bytes to
GPT-2's printable code points, then in each piece repeatedly merge the
adjacent pair of lowest merge rank (leftmost on ties).

Id layout: 0..255 the byte symbols (in byte order), then one id per merge,
then the special tokens <|endoftext|>, <|im_start|>, <|im_end|>.
"""
import heapq
from collections import Counter, defaultdict

import regex

# Qwen2's Split regex, exactly as in its tokenizer.json
QWEN2_RX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
            r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_rx = regex.compile(QWEN2_RX)
_sp = regex.compile("(" + "|".join(regex.escape(s) for s in SPECIALS)
                    + ")")


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) +
          list(range(ord("\xa1"), ord("\xac") + 1)) +
          list(range(ord("\xae"), ord("\xff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


B2U = bytes_to_unicode()


def pieces(text):
    """Pre-tokens of text (no specials inside), as byte-unicode strings."""
    return ["".join(B2U[b] for b in p.encode("utf-8"))
            for p in _rx.findall(text)]


def train(texts, vocab_size):
    """Learn vocab_size - 256 - len(SPECIALS) merges from texts.
    Deterministic: ties on count go to the lexicographically smallest
    pair."""
    words = Counter()
    for t in texts:
        for part in _sp.split(t):
            if part in SPECIALS or not part:
                continue
            words.update(pieces(part))
    wl = [list(w) for w in words]
    wc = [words[w] for w in words]
    pc = defaultdict(int)
    where = defaultdict(set)
    for i, w in enumerate(wl):
        for a, b in zip(w, w[1:]):
            pc[a, b] += wc[i]
            where[a, b].add(i)
    heap = [(-c, p) for p, c in pc.items()]
    heapq.heapify(heap)
    merges = []
    n_merges = vocab_size - 256 - len(SPECIALS)
    while len(merges) < n_merges and heap:
        c, p = heapq.heappop(heap)
        if pc.get(p, 0) != -c or c == 0:
            continue        # stale entry
        merges.append(p)
        a, b = p
        ab = a + b
        changed = defaultdict(int)
        for i in sorted(where[p]):
            w = wl[i]
            if len(w) < 2:
                continue
            n = wc[i]
            for x, y in zip(w, w[1:]):
                changed[x, y] -= n
            j, out = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(ab)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            wl[i] = out
            for x, y in zip(out, out[1:]):
                changed[x, y] += n
                where[x, y].add(i)
        for q, d in changed.items():
            if d:
                pc[q] += d
                heapq.heappush(heap, (-pc[q], q))
        pc.pop(p, None)
        where.pop(p, None)
    return merges


class Encoder:
    def __init__(self, merges):
        self.rank = {tuple(m): i for i, m in enumerate(merges)}
        self.vocab = {B2U[b]: b for b in range(256)}
        for i, (a, b) in enumerate(merges):
            self.vocab[a + b] = 256 + i
        n = 256 + len(merges)
        self.special = {s: n + i for i, s in enumerate(SPECIALS)}
        self.cache = {}

    def bpe(self, w):
        r = self.cache.get(w)
        if r is not None:
            return r
        s = list(w)
        while len(s) > 1:
            best, bi = None, -1
            for i in range(len(s) - 1):
                k = self.rank.get((s[i], s[i + 1]))
                if k is not None and (best is None or k < best):
                    best, bi = k, i
            if best is None:
                break
            s[bi:bi + 2] = [s[bi] + s[bi + 1]]
        r = [self.vocab[x] for x in s]
        self.cache[w] = r
        return r

    def encode(self, text):
        out = []
        for part in _sp.split(text):
            if not part:
                continue
            if part in self.special:
                out.append(self.special[part])
                continue
            for p in pieces(part):
                out.extend(self.bpe(p))
        return out

    def decode(self, ids):
        inv = {v: k for k, v in self.vocab.items()}
        u2b = {c: b for b, c in B2U.items()}
        sp = {v: k for k, v in self.special.items()}
        bs = bytearray()
        for i in ids:
            if i in sp:
                bs += sp[i].encode()
            else:
                bs += bytes(u2b[c] for c in inv[i])
        return bs.decode("utf-8", "replace")


def to_tokenizer_json(merges):
    enc = Encoder(merges)
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for s, i in enc.special.items()]
    bl = {"type": "ByteLevel", "add_prefix_space": False,
          "trim_offsets": False, "use_regex": False}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_RX},
             "behavior": "Isolated", "invert": False}, bl]},
        "post_processor": bl, "decoder": bl,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False,
                  "vocab": dict(sorted(enc.vocab.items(),
                                       key=lambda kv: kv[1])),
                  "merges": [a + " " + b for a, b in merges]},
    }


def load(path):
    """Encoder from a tokenizer.json written by to_tokenizer_json()."""
    import json
    with open(path) as fh:
        tj = json.load(fh)
    return Encoder([tuple(m.split(" ")) for m in tj["model"]["merges"]])
