#!/usr/bin/python3
"""train.py - train the default model on the corpus.

Usage: /usr/bin/python3 scripts/model/train.py CORPUSDIR [--steps N]
       [--decay-frac F] [--eval-every N] [--ckpt-every N]

Needs CORPUSDIR/{domain}.jsonl (build_corpus.py) and
CORPUSDIR/tokenizer.json (train_tokenizer.py). Writes CORPUSDIR/train/:
tokens.pt (encoded corpus, cached), ckpt.pt (model + optimiser + step,
written every --ckpt-every steps; the run resumes from it), log.jsonl
(loss per step, held-out loss per domain every --eval-every steps),
final.pt (the weights after the last step).

The schedule is by step count: linear warm-up over 100 steps, constant lr,
then a linear decay to lr/10 over the last --decay-frac of the steps
(WSD). Each step's batch is drawn from a generator seeded with the step
number, so a resumed run sees the same batches. Threads adapt to load:
when other processes use more than 0.6 of a core, training drops to one
thread (two OpenMP threads stall at every barrier when one is
descheduled); this changes the floating-point order, not the schedule.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from model import CONFIG, TinyMoE  # noqa: E402

WEIGHTS = {"prose": 0.27, "dict": 0.19, "code": 0.15, "bible": 0.12,
           "quotes": 0.11, "math": 0.15, "chat": 0.01}
DOMAINS = sorted(WEIGHTS)
SEED = 1234
B, T = 16, 256
LR, LR_MIN, WARMUP = 3e-3, 3e-4, 100
AUX, ZLOSS = 0.01, 0.001
EOT = 4093          # <|endoftext|> ends every document


def encode_corpus(d):
    cache = os.path.join(d, "train", "tokens.pt")
    if os.path.exists(cache):
        return torch.load(cache)
    enc = bpe.load(os.path.join(d, "tokenizer.json"))
    out = {}
    for dom in DOMAINS:
        tr, va = [], []
        with open(os.path.join(d, f"{dom}.jsonl")) as fh:
            docs = [json.loads(l) for l in fh]
        for x in docs:
            (va if x["v"] else tr).extend(enc.encode(x["t"]) + [EOT])
        if len(va) < B * (T + 1):       # tiny domain: no held-out
            va = []
        out[dom] = (torch.tensor(tr, dtype=torch.int16),
                    torch.tensor(va, dtype=torch.int16))
        print(f"{dom:7s} train {len(tr):9d} tok  held-out {len(va):8d}",
              file=sys.stderr)
    torch.save(out, cache)
    return out


def batch(data, step):
    g = np.random.default_rng([SEED, step])
    doms = g.choice(len(DOMAINS), size=B,
                    p=[WEIGHTS[x] for x in DOMAINS])
    rows = []
    for di in doms:
        s = data[DOMAINS[di]][0]
        o = int(g.integers(0, len(s) - T - 1))
        rows.append(s[o:o + T + 1].long())
    x = torch.stack(rows)
    return x[:, :-1], x[:, 1:]


def lr_at(step, total, decay_frac):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    d0 = int(total * (1 - decay_frac))
    if step < d0:
        return LR
    return LR + (LR_MIN - LR) * (step - d0) / max(1, total - d0)


@torch.no_grad()
def evaluate(model, data, rows=4 * B):
    model.eval()
    res = {}
    for dom in DOMAINS:
        v = data[dom][1]
        if len(v) == 0:
            continue
        n = min(rows, len(v) // (T + 1) // B * B)
        xs = torch.stack([v[i * (T + 1):(i + 1) * (T + 1)].long()
                          for i in range(n)])
        tot = 0.0
        for i in range(0, n, B):
            x = xs[i:i + B]
            lg, _, _, _ = model(x[:, :-1])
            tot += F.cross_entropy(lg.reshape(-1, lg.shape[-1]),
                                   x[:, 1:].reshape(-1)).item()
        res[dom] = tot / (n // B)
    model.train()
    return res


class Threads:
    """Every 10 steps: 2 threads if the rest of the machine is idle, else
    1."""

    def __init__(self):
        self.last = self.sample()
        torch.set_num_threads(1)

    @staticmethod
    def sample():
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
        busy = sum(f) - f[3] - f[4]
        with open("/proc/self/stat") as fh:
            s = fh.read().rsplit(")", 1)[1].split()
        own = int(s[11]) + int(s[12])
        return time.monotonic(), busy, own

    def update(self):
        now = self.sample()
        if self.last:
            dt = now[0] - self.last[0]
            hz = os.sysconf("SC_CLK_TCK")
            other = ((now[1] - self.last[1]) - (now[2] - self.last[2])) \
                / hz / max(dt, 1e-3)
            torch.set_num_threads(1 if other > 0.6 else 2)
        self.last = now
        return torch.get_num_threads()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--steps", type=int, default=1300)
    ap.add_argument("--decay-frac", type=float, default=0.2)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--ckpt-every", type=int, default=50)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.dir, "train"), exist_ok=True)
    torch.manual_seed(SEED)
    data = encode_corpus(a.dir)
    model = TinyMoE(CONFIG)
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95), eps=1e-8)
    ck = os.path.join(a.dir, "train", "ckpt.pt")
    step = 0
    if os.path.exists(ck):
        st = torch.load(ck)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        print(f"resumed at step {step}", file=sys.stderr)
    npar = sum(p.numel() for p in model.parameters())
    print(f"{npar / 1e6:.2f} M parameters", file=sys.stderr)
    log = open(os.path.join(a.dir, "train", "log.jsonl"), "a")
    th = Threads()
    nth, start = 1, step
    t0 = time.time()
    while step < a.steps:
        if step % 10 == 0 and step > start:
            nth = th.update()
        if step % a.eval_every == 0 and step > 0:
            ev = evaluate(model, data, 2 * B)
            log.write(json.dumps({"step": step, "eval": ev}) + "\n")
            log.flush()
        lr = lr_at(step, a.steps, a.decay_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(data, step)
        lg, aux, z, routes = model(x)
        ce = F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1))
        loss = ce + AUX * aux + ZLOSS * z
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        maxload = max(torch.bincount(r.reshape(-1), minlength=8).max().item()
                      / r.numel() for r in routes)
        rec = {"step": step, "ce": round(ce.item(), 4),
               "aux": round(aux.item(), 4), "lr": lr, "threads": nth,
               "maxload": round(maxload, 3),
               "t": round(time.time() - t0, 1), "time": int(time.time())}
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if step % 10 == 0:
            print(json.dumps(rec), file=sys.stderr, flush=True)
        if step % a.ckpt_every == 0 or step == a.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                        "step": step}, ck + ".tmp")
            os.replace(ck + ".tmp", ck)
            if step % 300 == 0:
                torch.save({"model": model.state_dict(), "step": step},
                           os.path.join(a.dir, "train", f"w{step}.pt"))
    ev = evaluate(model, data)
    log.write(json.dumps({"step": step, "eval": ev}) + "\n")
    log.close()
    torch.save(model.state_dict(), os.path.join(a.dir, "train", "final.pt"))
    print(json.dumps({"final": ev}), file=sys.stderr)


if __name__ == "__main__":
    main()
