#!/usr/bin/python3
"""export_hf.py - write the trained model as a Hugging Face folder.

Usage: /usr/bin/python3 scripts/model/export_hf.py CORPUSDIR OUTDIR
       [WEIGHTS.pt]

Reads CORPUSDIR/train/final.pt (or WEIGHTS.pt: a state dict, or a
checkpoint with a "model" entry) and CORPUSDIR/tokenizer.json; writes
OUTDIR/config.json (Qwen3MoeForCausalLM), model.safetensors (BF16,
written by hand: 8-byte header length, JSON header, raw little-endian
data), tokenizer.json, tokenizer_config.json (ChatML chat template) and
generation_config.json.
"""
import json
import os
import shutil
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CONFIG  # noqa: E402

EOT, IM_START, IM_END = 4093, 4094, 4095
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}")


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.bfloat16).contiguous()
        raw = t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)))
        fh.write(h)
        for b in blobs:
            fh.write(b)


def main():
    d, out = sys.argv[1], sys.argv[2]
    wp = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        d, "train", "final.pt")
    sd = torch.load(wp)
    if "model" in sd:
        sd = sd["model"]
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"),
                      {"model." + k: v for k, v in sd.items()})
    c = CONFIG
    config = {
        "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
        "vocab_size": c["vocab_size"], "hidden_size": c["hidden_size"],
        "intermediate_size": 2 * c["moe_intermediate_size"],
        "moe_intermediate_size": c["moe_intermediate_size"],
        "num_hidden_layers": c["num_hidden_layers"],
        "num_attention_heads": c["num_attention_heads"],
        "num_key_value_heads": c["num_key_value_heads"],
        "head_dim": c["head_dim"], "num_experts": c["num_experts"],
        "num_experts_per_tok": c["num_experts_per_tok"],
        "norm_topk_prob": True, "decoder_sparse_step": 1,
        "mlp_only_layers": [], "hidden_act": "silu",
        "max_position_embeddings": c["max_position_embeddings"],
        "rope_theta": c["rope_theta"], "rope_scaling": None,
        "rms_norm_eps": c["rms_norm_eps"], "tie_word_embeddings": True,
        "attention_bias": False, "attention_dropout": 0.0,
        "use_sliding_window": False, "sliding_window": None,
        "max_window_layers": c["num_hidden_layers"],
        "output_router_logits": False, "router_aux_loss_coef": 0.01,
        "initializer_range": 0.02, "use_cache": True,
        "bos_token_id": EOT, "eos_token_id": IM_END,
        "torch_dtype": "bfloat16", "transformers_version": "4.51.0",
    }
    with open(os.path.join(out, "config.json"), "w") as fh:
        json.dump(config, fh, indent=2)
        fh.write("\n")
    shutil.copy(os.path.join(d, "tokenizer.json"),
                os.path.join(out, "tokenizer.json"))
    added = {}
    for i, s in [(EOT, "<|endoftext|>"), (IM_START, "<|im_start|>"),
                 (IM_END, "<|im_end|>")]:
        added[str(i)] = {"content": s, "lstrip": False, "normalized": False,
                         "rstrip": False, "single_word": False,
                         "special": True}
    tc = {"add_bos_token": False, "add_prefix_space": False,
          "added_tokens_decoder": added, "bos_token": None,
          "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
          "unk_token": None, "chat_template": CHAT_TEMPLATE,
          "clean_up_tokenization_spaces": False, "errors": "replace",
          "model_max_length": c["max_position_embeddings"],
          "split_special_tokens": False, "tokenizer_class": "Qwen2Tokenizer"}
    with open(os.path.join(out, "tokenizer_config.json"), "w") as fh:
        json.dump(tc, fh, indent=2)
        fh.write("\n")
    gc = {"bos_token_id": EOT, "eos_token_id": [IM_END, EOT],
          "do_sample": True, "temperature": 0.7, "top_k": 40,
          "transformers_version": "4.51.0"}
    with open(os.path.join(out, "generation_config.json"), "w") as fh:
        json.dump(gc, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
