/*
 * convert-int.h - the convert room's private interface: the conversion
 * plan (one entry per output tensor), the architecture table, the
 * tokenizer and the type choices.
 */
#ifndef MOESCOPE_CONVERT_INT_H
#define MOESCOPE_CONVERT_INT_H

#include <stdint.h>

#include "convert/convert.h"
#include "formats/formats.h"

/* How an output tensor's rows are made from its sources. */
enum cv_op {
	CV_COPY,	/* src[0], element for element */
	CV_PERMUTE,	/* src[0] rows, rotate-half -> interleaved per head */
	CV_STACK,	/* src[0..n_src): one expert each, concatenated */
	CV_KB,		/* kv_b_proj -> attn_k_b [n_head][kv_lora][nope] */
	CV_VB,		/* kv_b_proj -> attn_v_b [n_head][v_dim][kv_lora] */
	CV_EVEN,	/* [n][2k] -> [n][k]: even columns (gate bias) */
	CV_ODD,		/* odd columns (up bias) */
	CV_MXFP4	/* blocks + scales -> ggml MXFP4 rows; sel 0 all rows,
			 * 1 even rows, 2 odd rows of each expert */
};

struct cv_tensor {
	char			  name[96];	/* GGUF name */
	int			  op;		/* enum cv_op */
	int			  n_dims;
	uint64_t		  ne[4];	/* GGUF order, ne[0] fastest */
	int			  type;		/* output ggml type */
	int			  src_type;	/* GGML_TYPE_F32 or _MXFP4 */
	int			  layer;	/* -1: not in a block */
	int			  n_head;	/* CV_PERMUTE, CV_KB, CV_VB */
	int			  sel;		/* CV_MXFP4 */
	int64_t			  nope, vdim;	/* CV_KB, CV_VB */
	int			  n_src;
	const struct st_tensor	**src;
	uint64_t		  in_bytes;	/* source bytes read */
};

struct cv_model {
	const char		*dir;
	struct hf_config	*cfg;
	struct safetensors	*st;
	struct hf_hparams	 hp;
	const struct cv_arch	*arch;
	int			 type;		/* enum convert_type */
	const char		*pre;		/* tokenizer.ggml.pre|NULL */
	int64_t			 n_layer;
	int64_t			 n_expert;
	struct cv_tensor	*t;
	size_t			 n_t, cap_t;
	/* experts waiting to be stacked: [layer][kind][expert] */
	const struct st_tensor	**exp;
	int			*exp_count;	/* [layer] */
};

/* One supported architecture. */
struct cv_arch {
	const char	*hf_arch;	/* config.json architectures[0] */
	const char	*gguf_arch;	/* general.architecture */
	/* expert tensor kinds in the order llama.cpp stacks them */
	const char	*exp_hf[3];	/* "down_proj", "w1", ... */
	const char	*exp_gguf[3];	/* "ffn_down_exps", ... */
	const char	*exp_infix;	/* ".mlp.experts." */
	int		 permute_qk;	/* llama: Q/K rows permuted */
	/* hyper-parameters after general.file_type (arch-specific) */
	int		(*meta_tail)(struct cv_model *m,
			    struct gguf_writer *w, struct err *e);
	/* per-layer HF names (after "model.layers.N.") -> GGUF names */
	const char *const (*map)[2];
};

const struct cv_arch *cv_arch_find(const char *hf_arch);

/* Add a planned tensor; *out points into m->t (valid until the next
 * add). */
int cv_plan_add(struct cv_model *m, const char *name, int op, int n_dims,
    const uint64_t *ne, int layer, struct cv_tensor **out, struct err *e);

/* Map every source tensor to planned tensors, in llama.cpp's order. */
int cv_arch_plan(struct cv_model *m, struct err *e);

/* General and hyper-parameter metadata, up to general.quantization_version
 * (needs the plan for general.size_label). */
int cv_arch_meta(struct cv_model *m, struct gguf_writer *w, struct err *e);

/* llama.cpp's general.file_type for our type. */
uint32_t cv_file_type(const struct cv_model *m);

/* Tokenizer metadata (tokenizer.ggml.*, chat template). */
int cv_vocab_meta(struct cv_model *m, struct gguf_writer *w,
    struct err *e);

/*
 * SentencePiece model (tokenizer.model, protobuf): pieces, scores, types
 * (1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte).
 */
struct cv_spm {
	size_t		 n;
	char		**piece;	/* NUL-terminated */
	float		*score;
	int32_t		*type;
};

int cv_spm_load(struct cv_spm *s, const char *path, struct err *e);
int cv_spm_parse(struct cv_spm *s, const void *buf, size_t len,
    const char *name, struct err *e);
void cv_spm_free(struct cv_spm *s);

/* Choose each planned tensor's output type (llama.cpp's rules). */
int cv_qtype_assign(struct cv_model *m, struct err *e);

#endif
