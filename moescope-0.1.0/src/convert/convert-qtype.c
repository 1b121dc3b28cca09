/*
 * convert-qtype.c - which ggml type each output tensor gets.
 *
 * f32 / f16 / bf16 follow convert_hf_to_gguf.py: 1-D tensors, norms,
 * routers (ffn_gate_inp) and anything not named *.weight stay F32;
 * MXFP4 experts stay MXFP4. The quantized types follow llama-quantize
 * applied to the F32 conversion (llama_tensor_get_type): only >= 2-D
 * *.weight tensors other than norms and routers are quantized; output
 * gets Q6_K (Q8_0 when its rows are not a multiple of 256); with 8
 * experts attn_k / attn_v are Q8_0 and, for Q4_K_M, attn_output Q5_K;
 * Q4_K_M / Q5_K_M give Q6_K to attn_v and ffn_down of the layers
 * use_more_bits() picks; a K-quant on rows that are not a multiple of 256
 * falls back (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, else F16).
 * Like llama-quantize's output, quantized files list the tensors in the
 * model loader's order (non-block tensors, then block by block, names
 * sorted) with trailing dimensions of 1 dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert-int.h"
#include "quant/quant-common.h"

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* ggml_n_dims: dimensions up to the last one that is not 1. */
static int
ggml_dims(const struct cv_tensor *t)
{
	int d;

	for (d = 3; d > 0; d--)
		if (t->ne[d] > 1)
			return d + 1;
	return 1;
}

static int
use_more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int
blck(int type)
{
	return (int)quant_type_info(type)->blck;
}

static int
default_type(int ct)
{
	switch (ct) {
	case CONVERT_Q8_0:
		return GGML_TYPE_Q8_0;
	case CONVERT_Q4_0:
		return GGML_TYPE_Q4_0;
	case CONVERT_Q4_K_M:
		return GGML_TYPE_Q4_K;
	case CONVERT_Q5_K_M:
		return GGML_TYPE_Q5_K;
	case CONVERT_Q6_K:
		return GGML_TYPE_Q6_K;
	case CONVERT_F16:
		return GGML_TYPE_F16;
	case CONVERT_BF16:
		return GGML_TYPE_BF16;
	default:
		return GGML_TYPE_F32;
	}
}

/* convert_hf_to_gguf.py's choice for f32 / f16 / bf16. */
static int
float_type(const struct cv_model *m, const struct cv_tensor *t)
{
	if (t->src_type == GGML_TYPE_MXFP4)
		return GGML_TYPE_MXFP4;
	if (m->type == CONVERT_F32 || t->n_dims <= 1 ||
	    ends_with(t->name, "_norm.weight") ||
	    ends_with(t->name, ".ffn_gate_inp.weight") ||
	    !ends_with(t->name, ".weight"))
		return GGML_TYPE_F32;
	return default_type(m->type);
}

/* llama-quantize's choice. */
static int
quant_type(const struct cv_model *m, const struct cv_tensor *t,
    int has_output, int n_attn_wv, int *i_attn_wv)
{
	int ct = m->type, nt = default_type(ct), n_layer = (int)m->n_layer;
	const char *name = t->name;
	int km = ct == CONVERT_Q4_K_M || ct == CONVERT_Q5_K_M;
	int i_layer;

	if (!ends_with(name, "weight") || ggml_dims(t) < 2 ||
	    strstr(name, "_norm.weight") != NULL ||
	    strstr(name, "ffn_gate_inp.weight") != NULL)
		return t->src_type;	/* kept as converted */
	if (strcmp(name, "output.weight") == 0 || (!has_output &&
	    strcmp(name, "token_embd.weight") == 0)) {
		if (t->ne[0] % 256 != 0)
			nt = GGML_TYPE_Q8_0;
		else if (nt != GGML_TYPE_Q8_0)
			nt = GGML_TYPE_Q6_K;
	} else if (strcmp(name, "token_embd.weight") == 0) {
		/* no rule for our types */
	} else if (strstr(name, "attn_v.weight") != NULL ||
	    strstr(name, "attn_qkv.weight") != NULL ||
	    strstr(name, "attn_kv_b.weight") != NULL) {
		if (strstr(name, "attn_qkv.weight") != NULL) {
			if (ct == CONVERT_Q4_K_M)
				nt = GGML_TYPE_Q5_K;
			else if (ct == CONVERT_Q5_K_M)
				nt = GGML_TYPE_Q6_K;
		} else if (strstr(name, "attn_v.weight") != NULL) {
			if (km && use_more_bits(*i_attn_wv, n_attn_wv))
				nt = GGML_TYPE_Q6_K;
			if (m->n_expert == 8)
				nt = GGML_TYPE_Q8_0;
		}
		++*i_attn_wv;
	} else if (strstr(name, "attn_k.weight") != NULL) {
		if (m->n_expert == 8)
			nt = GGML_TYPE_Q8_0;
	} else if (strstr(name, "ffn_down") != NULL) {
		i_layer = t->layer >= 0 ? t->layer : 0;
		if (km && use_more_bits(i_layer, n_layer))
			nt = GGML_TYPE_Q6_K;
	} else if (strstr(name, "attn_output.weight") != NULL) {
		if (m->n_expert == 8 && ct == CONVERT_Q4_K_M)
			nt = GGML_TYPE_Q5_K;
	}
	if (t->ne[0] % (uint64_t)blck(nt) != 0) {
		switch (nt) {
		case GGML_TYPE_Q4_K:
			nt = GGML_TYPE_Q5_0;
			break;
		case GGML_TYPE_Q5_K:
			nt = GGML_TYPE_Q5_1;
			break;
		case GGML_TYPE_Q6_K:
			nt = GGML_TYPE_Q8_0;
			break;
		default:
			nt = GGML_TYPE_F16;
		}
		if (t->ne[0] % (uint64_t)blck(nt) != 0)
			nt = GGML_TYPE_F16;
	}
	return nt;
}

/* llama.cpp's weight_name_comparer: non-block tensors first, then by
 * block number, then by name. */
static int
by_layer_name(const void *a, const void *b)
{
	const struct cv_tensor *x = a, *y = b;

	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return strcmp(x->name, y->name);
}

int
cv_qtype_assign(struct cv_model *m, struct err *e)
{
	int has_output = 0, n_attn_wv = 0, i_attn_wv = 0;
	size_t i;

	for (i = 0; i < m->n_t; i++) {
		const char *n = m->t[i].name;

		if (strstr(n, "attn_v.weight") != NULL ||
		    strstr(n, "attn_qkv.weight") != NULL ||
		    strstr(n, "attn_kv_b.weight") != NULL)
			n_attn_wv++;
		else if (strcmp(n, "output.weight") == 0)
			has_output = 1;
	}
	for (i = 0; i < m->n_t; i++) {
		struct cv_tensor *t = &m->t[i];

		if (m->type <= CONVERT_BF16)
			t->type = float_type(m, t);
		else
			t->type = quant_type(m, t, has_output, n_attn_wv,
			    &i_attn_wv);
		if (t->ne[0] % (uint64_t)blck(t->type) != 0)
			return err_set(e, ERR_UNSUPPORTED, "%s: rows of %llu "
			    "cannot be %s", t->name,
			    (unsigned long long)t->ne[0],
			    quant_type_info(t->type)->name);
		/* llama-quantize writes ggml_n_dims() dimensions */
		if (m->type > CONVERT_BF16)
			t->n_dims = ggml_dims(t);
	}
	/* and its tensors in the loader's order */
	if (m->type > CONVERT_BF16)
		qsort(m->t, m->n_t, sizeof *m->t, by_layer_name);
	return 0;
}
