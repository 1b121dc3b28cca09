#!/usr/bin/python3
"""evaluate.py - measure the shipped GGUF through moescope itself.

Usage: /usr/bin/python3 scripts/model/evaluate.py CORPUSDIR MOESCOPE GGUF
       OUTDIR [--part routing|sums|samples|bench|all]

  routing  held-out plain text per domain (documents the model never
           trained on) through `moescope route`; per layer, each domain's
           histogram of top-2 expert slots, the overall load, and the
           Jensen-Shannon divergence (bits) between domains' histograms.
  sums     the 100 held-out two-digit additions, asked in chat format with
           `moescope run GGUF --chat -p "What is A + B?" --temp 0`.
  samples  a few chat prompts (`--temp 0.7 --seed 1`), verbatim.
  bench    `moescope bench GGUF --threads 1` and `--threads 2`.

Writes OUTDIR/{routing,sums,samples,bench}.{json,md}.
"""
import json
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

DOMAINS = ["prose", "bible", "quotes", "dict", "code", "math"]
CHUNK = 240         # tokens per route call (the model trained on 256)
CHUNKS = 8          # per domain


def heldout_chunks(cdir, enc):
    out = {}
    for dom in DOMAINS:
        docs = []
        with open(os.path.join(cdir, f"{dom}.jsonl")) as fh:
            for ln in fh:
                x = json.loads(ln)
                if x["v"] and not x["chat"]:
                    docs.append(x["t"])
        chunks = []
        for t in docs:
            ids = enc.encode(t)
            # cut at whole documents' token boundaries, CHUNK at most
            for i in range(0, len(ids), CHUNK):
                part = ids[i:i + CHUNK]
                if len(part) >= CHUNK // 2:
                    chunks.append(part)
            if len(chunks) >= CHUNKS:
                break
        out[dom] = chunks[:CHUNKS]
    return out


def js_bits(p, q):
    m = [(a + b) / 2 for a, b in zip(p, q)]

    def kl(x, y):
        return sum(a * math.log2(a / b) for a, b in zip(x, y) if a > 0)
    return (kl(p, m) + kl(q, m)) / 2


def routing(cdir, ms, gguf, out):
    enc = bpe.load(os.path.join(cdir, "tokenizer.json"))
    chunks = heldout_chunks(cdir, enc)
    hist = {}
    n_layer = n_exp = None
    tmp = os.path.join(out, "route.tmp.jsonl")
    for dom, cs in chunks.items():
        for ids in cs:
            subprocess.run([ms, "route", gguf, "--tokens",
                            ",".join(map(str, ids)), "-o", tmp,
                            "--threads", "1"], check=True,
                           stdout=subprocess.DEVNULL)
            with open(tmp) as fh:
                for ln in fh:
                    r = json.loads(ln)
                    n_exp = r["n_expert"]
                    n_layer = len(r["layers"])
                    h = hist.setdefault(dom, [[0] * n_exp
                                              for _ in range(n_layer)])
                    for L in r["layers"]:
                        for ex in L["experts"]:
                            h[L["layer"]][ex] += 1
    os.remove(tmp)
    res = {"n_layer": n_layer, "n_expert": n_exp, "layers": []}
    md = []
    for il in range(n_layer):
        rows = {}
        for dom in DOMAINS:
            c = hist[dom][il]
            s = sum(c)
            rows[dom] = [x / s for x in c]
        tot = [sum(hist[d][il][e] for d in DOMAINS) for e in range(n_exp)]
        ts = sum(tot)
        load = [x / ts for x in tot]
        ent = -sum(p * math.log(p) for p in load if p > 0) / math.log(n_exp)
        pairs = [(a, b, js_bits(rows[a], rows[b]))
                 for i, a in enumerate(DOMAINS) for b in DOMAINS[i + 1:]]
        mean_js = sum(p[2] for p in pairs) / len(pairs)
        tp = [p[2] for p in pairs if "math" not in p[:2]]
        text_js = sum(tp) / len(tp)
        res["layers"].append({"layer": il, "share": rows, "load": load,
                              "load_entropy": ent, "mean_js_bits": mean_js,
                              "text_js_bits": text_js,
                              "js_bits": {f"{a}/{b}": v
                                          for a, b, v in pairs}})
        md.append(f"Layer {il}: mean pairwise JS {mean_js:.3f} bits "
                  f"({text_js:.3f} without math), "
                  f"load entropy {ent:.3f}, busiest expert "
                  f"{max(load) * 100:.1f} %\n")
        md.append("| domain | " + " | ".join(f"e{e}" for e in range(n_exp))
                  + " |")
        md.append("|---" * (n_exp + 1) + "|")
        for dom in DOMAINS + ["overall"]:
            r = load if dom == "overall" else rows[dom]
            md.append(f"| {dom} | " + " | ".join(
                f"**{x * 100:.0f}**" if x >= 0.25 else f"{x * 100:.0f}"
                for x in r) + " |")
        md.append("")
    res["tokens_per_domain"] = {d: sum(len(c) for c in chunks[d])
                                for d in DOMAINS}
    with open(os.path.join(out, "routing.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    with open(os.path.join(out, "routing.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    print("\n".join(md))


def chat_run(ms, gguf, prompt, extra):
    r = subprocess.run([ms, "run", gguf, "--chat", "-p", prompt,
                        "--threads", "1"] + extra, capture_output=True,
                       text=True)
    return r.stdout


def sums(cdir, ms, gguf, out):
    with open(os.path.join(cdir, "heldout-sums.json")) as fh:
        held = json.load(fh)
    ok, rows = 0, []
    for a, b in held:
        ans = chat_run(ms, gguf, f"What is {a} + {b}?",
                       ["--temp", "0", "-n", "24"])
        nums = re.findall(r"-?\d+", ans.split("=")[-1]) if "=" in ans \
            else re.findall(r"-?\d+", ans)
        good = bool(nums) and int(nums[0]) == a + b
        ok += good
        rows.append({"a": a, "b": b, "answer": ans, "correct": good})
    res = {"correct": ok, "total": len(held), "rows": rows}
    with open(os.path.join(out, "sums.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    print(f"sums: {ok}/{len(held)}")


SAMPLE_PROMPTS = ["Hello", "Tell me a story.", "Give me a Bible verse.",
                  "Tell me a fortune.", 'What does "harbour" mean?',
                  "Show me some C code.", "What is 23 + 45?"]


def samples(ms, gguf, out):
    md = []
    for p in SAMPLE_PROMPTS:
        a = chat_run(ms, gguf, p, ["--temp", "0.7", "--top-k", "40",
                                   "--seed", "1", "-n", "120"])
        md.append(f"USER: {p}\nMODEL: {a.strip()}\n")
    with open(os.path.join(out, "samples.md"), "w") as fh:
        fh.write("\n".join(md))
    print("\n".join(md))


def bench(ms, gguf, out):
    res = {}
    for t in (1, 2):
        r = subprocess.run([ms, "bench", gguf, "--threads", str(t),
                            "--json"], capture_output=True, text=True,
                           check=True)
        res[f"threads{t}"] = json.loads(r.stdout)
    with open(os.path.join(out, "bench.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    print(json.dumps(res))


def main():
    cdir, ms, gguf, out = sys.argv[1:5]
    part = sys.argv[6] if len(sys.argv) > 6 and sys.argv[5] == "--part" \
        else "all"
    os.makedirs(out, exist_ok=True)
    if part in ("routing", "all"):
        routing(cdir, ms, gguf, out)
    if part in ("sums", "all"):
        sums(cdir, ms, gguf, out)
    if part in ("samples", "all"):
        samples(ms, gguf, out)
    if part in ("bench", "all"):
        bench(ms, gguf, out)


if __name__ == "__main__":
    main()
