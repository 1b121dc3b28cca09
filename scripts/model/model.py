"""model.py - the default model: a tiny Qwen3-MoE-style decoder in torch.

RMSNorm (pre-norm), RoPE (NeoX / rotate-half), grouped-query attention
with per-head RMSNorm on q and k, every layer a mixture of SwiGLU experts
(softmax router, top-k, renormalised weights), tied embeddings. This is
the computation llama.cpp (and moescope) run for general.architecture
"qwen3moe".
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(vocab_size=4096, hidden_size=256, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=2, head_dim=64,
              num_experts=8, num_experts_per_tok=2,
              moe_intermediate_size=256, rope_theta=10000.0,
              rms_norm_eps=1e-6, max_position_embeddings=512)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        v = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(v + self.eps) * self.weight


def rope_tables(T, hd, theta, device=None):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    t = torch.arange(T, dtype=torch.float32)
    f = torch.outer(t, inv)
    emb = torch.cat([f, f], -1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c["hidden_size"], c["head_dim"]
        self.nh, self.nkv, self.hd = (c["num_attention_heads"],
                                      c["num_key_value_heads"], hd)
        self.q_proj = nn.Linear(d, self.nh * hd, bias=False)
        self.k_proj = nn.Linear(d, self.nkv * hd, bias=False)
        self.v_proj = nn.Linear(d, self.nkv * hd, bias=False)
        self.o_proj = nn.Linear(self.nh * hd, d, bias=False)
        self.q_norm = RMSNorm(hd, c["rms_norm_eps"])
        self.k_norm = RMSNorm(hd, c["rms_norm_eps"])

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(B, T, self.nh, self.hd))
        k = self.k_norm(self.k_proj(x).view(B, T, self.nkv, self.hd))
        v = self.v_proj(x).view(B, T, self.nkv, self.hd)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.nh // self.nkv
        k = k.repeat_interleave(rep, 1)
        v = v.repeat_interleave(rep, 1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        s = s + mask
        a = torch.softmax(s, -1) @ v
        return self.o_proj(a.transpose(1, 2).reshape(B, T, -1))


class Expert(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.E, self.k = c["num_experts"], c["num_experts_per_tok"]
        self.gate = nn.Linear(c["hidden_size"], self.E, bias=False)
        self.experts = nn.ModuleList(
            Expert(c["hidden_size"], c["moe_intermediate_size"])
            for _ in range(self.E))

    def forward(self, x):
        B, T, D = x.shape
        h = x.reshape(-1, D)
        logits = self.gate(h)
        probs = torch.softmax(logits.float(), -1)
        w, idx = probs.topk(self.k, -1)
        w = w / w.sum(-1, keepdim=True)
        out = torch.zeros_like(h)
        flat = idx.reshape(-1)
        tok = torch.arange(h.shape[0]).repeat_interleave(self.k)
        wf = w.reshape(-1)
        for e in range(self.E):
            sel = (flat == e).nonzero(as_tuple=True)[0]
            if sel.numel() == 0:
                continue
            t = tok[sel]
            y = self.experts[e](h[t]) * wf[sel, None]
            out.index_add_(0, t, y)
        # Switch/Mixtral load balancing: E * sum_i f_i * P_i
        f = torch.bincount(flat, minlength=self.E).float() / flat.numel()
        P = probs.mean(0)
        aux = self.E * (f * P).sum()
        z = torch.logsumexp(logits.float(), -1).pow(2).mean()
        return out.view(B, T, D), aux, z, idx


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"],
                                                c["rms_norm_eps"])
        self.mlp = MoE(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        m, aux, z, idx = self.mlp(self.post_attention_layernorm(x))
        return x + m, aux, z, idx


class TinyMoE(nn.Module):
    def __init__(self, c=CONFIG):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Block(c)
                                    for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.apply(self._init)
        # scale residual output projections down with depth
        s = 0.02 / math.sqrt(2 * c["num_hidden_layers"])
        for n, p in self.named_parameters():
            if n.endswith("o_proj.weight") or n.endswith("down_proj.weight"):
                nn.init.normal_(p, 0.0, s)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, ids):
        B, T = ids.shape
        cos, sin = rope_tables(T, self.c["head_dim"], self.c["rope_theta"])
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed_tokens(ids)
        auxs, zs, routes = [], [], []
        for blk in self.layers:
            x, aux, z, idx = blk(x, cos, sin, mask)
            auxs.append(aux)
            zs.append(z)
            routes.append(idx)
        x = self.norm(x)
        logits = x @ self.embed_tokens.weight.t()
        return logits, torch.stack(auxs).mean(), torch.stack(zs).mean(), \
            routes
