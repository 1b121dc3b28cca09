/*
 * convert.h - the convert room: Hugging Face checkpoints (config.json,
 * safetensors shards, tokenizer.json / tokenizer.model) -> GGUF, the way
 * llama.cpp's convert_hf_to_gguf.py and llama-quantize write it.
 *
 * Conversion streams tensor by tensor from the mmap'd shards: a plan of
 * every output tensor (name, shape, type, where its rows come from) is
 * made first, the header is written, then each tensor's rows are
 * produced, quantized and appended. Memory stays bounded by one chunk of
 * rows per tensor, whatever the model size. The output is written to a
 * temporary file and renamed into place.
 *
 * convert uses formats (safetensors, HF config, GGUF writer), quant (the
 * reference quantizers) and util, and jansson for the tokenizer files;
 * convert_pull_run (convert-pull.c) also uses net, to fetch what it
 * converts.
 */
#ifndef MOESCOPE_CONVERT_H
#define MOESCOPE_CONVERT_H

#include <stdint.h>

#include "util/util.h"

/* Output types: what --type names. */
enum convert_type {
	CONVERT_F32 = 0,
	CONVERT_F16,
	CONVERT_BF16,
	CONVERT_Q8_0,
	CONVERT_Q4_0,
	CONVERT_Q4_K_M,
	CONVERT_Q5_K_M,
	CONVERT_Q6_K,
	CONVERT_TYPE_COUNT
};

/* Progress: called once before the first tensor (tensor "", done 0),
 * then after each chunk of rows (16 MiB of output) and each tensor with
 * bytes of input consumed so far and the total; a non-zero return
 * cancels (ERR_CANCELLED). */
typedef int (*convert_progress_fn)(void *arg, const char *tensor,
    uint64_t done, uint64_t total);

struct convert_opts {
	const char	*hf_dir;	/* config.json, shards, tokenizer */
	const char	*out;		/* output .gguf path */
	int		 type;		/* enum convert_type */
	const char	*name;		/* general.name; NULL: from the
					 * folder name, as llama.cpp */
	const char	*pre;		/* tokenizer.ggml.pre; NULL: recognised
					 * from tokenizer.json */
	int		 threads;	/* workers for a chunk's rows; 0: one
					 * per CPU */
	convert_progress_fn progress;
	void		*progress_arg;
};

void convert_opts_init(struct convert_opts *o);

/*
 * Convert o->hf_dir to o->out. Errors (ERR_*, message in e) name the
 * file, tensor or key: unsupported architecture, missing tensor, an
 * unexpected tensor name, malformed config / tokenizer / safetensors.
 * Nothing is left at o->out on error.
 */
int convert_run(const struct convert_opts *o, struct err *e);

/* "f32", "q4_k_m", ... -> enum convert_type; -1 when unknown. */
int convert_type_parse(const char *s);
const char *convert_type_name(int type);

/* True when the HF architecture (config.json architectures[0], e.g.
 * "Qwen3MoeForCausalLM") can be converted. */
int convert_arch_supported(const char *hf_arch);

/* ---- hub model -> local store (convert-pull.c) ---- */

struct net_opts;

struct convert_pull_opts {
	const char		*repo;		/* ORG/NAME[@REV] */
	int			 type;		/* enum convert_type
						 * (q4_k_m) */
	const char		*file;		/* a GGUF file of the repo
						 * to link instead of
						 * converting; NULL: the
						 * safetensors, or the GGUF
						 * named like type */
	const char		*models_dir;	/* the local store */
	int			 threads;	/* conversion workers; 0:
						 * one per CPU */
	const struct net_opts	*net;		/* transfers: endpoint,
						 * cache, progress, cancel */
	convert_progress_fn	 progress;	/* conversion progress */
	void			*progress_arg;
};

struct convert_pull_result {
	char		*path;		/* STORE/ORG/NAME.gguf (malloc'd) */
	char		*commit;	/* the revision's commit */
	int		 up_to_date;	/* converted before: nothing done */
	int		 linked;	/* a GGUF of the repo, linked */
	uint64_t	 bytes_fetched;	/* downloaded by this call */
	double		 seconds;	/* spent downloading */
};

void convert_pull_opts_init(struct convert_pull_opts *o);

/*
 * Download o->repo from the hub into its cache (net_hub_download with
 * o->net) and convert it to o->type into o->models_dir/ORG/NAME.gguf, or
 * link the repo's GGUF file there. Errors name the repo, file or tensor:
 * those of net_hub_download and convert_run, ERR_NOTFOUND for a repo
 * that is neither a transformers checkpoint nor holds the GGUF wanted,
 * ERR_CANCELLED when a progress callback or o->net->cancel stopped it
 * (partial downloads kept for resume, no partial GGUF). r is filled on
 * success (free with convert_pull_result_free) and zeroed on error.
 * Safe to run on any thread, several at once for different repos.
 */
int convert_pull_run(const struct convert_pull_opts *o,
    struct convert_pull_result *r, struct err *e);
void convert_pull_result_free(struct convert_pull_result *r);

#endif
