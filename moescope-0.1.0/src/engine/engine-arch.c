/*
 * engine-arch.c - what differs between architectures, as data.
 *
 * Only the behaviours a GGUF file does not spell out live here: the RoPE
 * pairing and the routing defaults llama.cpp applies per architecture.
 * Everything else (biases, q/k norms, shared experts, dense layers) is
 * bound from the tensors a file carries, and sizes from its metadata.
 */
#include <string.h>

#include "engine/engine-int.h"

static const struct eng_arch archs[] = {
	/* name        neox norm gating              swa act
	 *   yarn_mla ffn_norm */
	{ "llama",	0, 1, ENG_GATING_SOFTMAX,	0, ENG_ACT_SILU,
	    0, "ffn_norm" },				/* Mixtral */
	{ "qwen2moe",	1, 0, ENG_GATING_SOFTMAX,	0, ENG_ACT_SILU,
	    0, "ffn_norm" },
	{ "qwen3moe",	1, 1, ENG_GATING_SOFTMAX,	0, ENG_ACT_SILU,
	    0, "ffn_norm" },
	{ "olmoe",	1, 0, ENG_GATING_SOFTMAX,	0, ENG_ACT_SILU,
	    0, "ffn_norm" },
	/* DeepSeek-V2/V3: MLA, shared experts, routing from metadata */
	{ "deepseek2",	0, 0, ENG_GATING_SOFTMAX,	0, ENG_ACT_SILU,
	    1, "ffn_norm" },
	/* gpt-oss: sinks, alternating sliding windows, biased experts */
	{ "gpt-oss",	1, 0, ENG_GATING_SOFTMAX_TOPK,	2,
	    ENG_ACT_SWIGLU_OAI, 0, "post_attention_norm" },
};

const struct eng_arch *
eng_arch_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof archs / sizeof archs[0]; i++)
		if (strcmp(archs[i].name, name) == 0)
			return &archs[i];
	return NULL;
}
