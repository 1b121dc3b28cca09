#!/usr/bin/python3
"""train_tokenizer.py - train the default model's byte-level BPE.

Usage: /usr/bin/python3 scripts/model/train_tokenizer.py CORPUSDIR

Writes CORPUSDIR/tokenizer.json (Hugging Face layout: byte-level BPE, the
Qwen2 pre-tokenizer regex, 4096 ids: 256 bytes, 3837 merges, and the
specials <|endoftext|> 4093, <|im_start|> 4094, <|im_end|> 4095). The
training text is a deterministic, deduplicated sample of the training
documents (held-out documents excluded), mixed like the training batches.
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

WEIGHTS = {"prose": 0.27, "dict": 0.19, "code": 0.15, "bible": 0.12,
           "quotes": 0.11, "math": 0.15, "chat": 0.01}
SAMPLE_CHARS = 8_000_000
VOCAB = 4096


def main():
    d = sys.argv[1]
    rng = random.Random(4321)
    texts, seen = [], set()
    for dom in sorted(WEIGHTS):
        docs = []
        with open(os.path.join(d, f"{dom}.jsonl")) as fh:
            for ln in fh:
                x = json.loads(ln)
                if not x["v"]:
                    docs.append(x["t"])
        budget = SAMPLE_CHARS * WEIGHTS[dom]
        rng.shuffle(docs)
        n = 0
        for t in docs:
            if n >= budget:
                break
            # deduplicate repeated lines (templated text)
            for l in t.split("\n"):
                if l and l not in seen:
                    seen.add(l)
                    texts.append(l + "\n")
                    n += len(l)
    merges = bpe.train(texts, VOCAB)
    with open(os.path.join(d, "tokenizer.json"), "w") as fh:
        json.dump(bpe.to_tokenizer_json(merges), fh, ensure_ascii=False,
                  indent=1)
    print(f"{len(merges)} merges", file=sys.stderr)


if __name__ == "__main__":
    main()
