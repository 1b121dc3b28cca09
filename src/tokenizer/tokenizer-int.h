/*
 * tokenizer-int.h - private to the tokenizer room's vocabulary files: the
 * layout of struct tok and the functions the files share.
 */
#ifndef MOESCOPE_TOKENIZER_INT_H
#define MOESCOPE_TOKENIZER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* Open-addressing map from byte strings (held elsewhere) to ids. */
struct tok_map {
	int32_t		*slot;		/* [mask + 1], -1 = empty */
	size_t		 mask;
	const char	*blob;
	const uint32_t	*off;		/* [n] start of id's key in blob */
	const uint32_t	*len;		/* [n] key length; UINT32_MAX = none */
};

/* A BPE merge: (left id, right id) -> rank (the result id is
 * merge_result[rank]). */
struct tok_merge {
	int32_t		 l, r;		/* l = -1: empty slot */
	int32_t		 rank;
};

/* A symbol while merging: a run of bytes of the word being encoded. */
struct tok_sym {
	int32_t		 prev, next;
	int32_t		 id;		/* token of the run, or -1 */
	uint32_t	 off, len;	/* bytes of the run; len 0 = merged
					 * away */
};

/* A candidate merge in the priority queue. */
struct tok_cand {
	uint64_t	 key;		/* ordering key: smaller first */
	uint32_t	 size;		/* left.len + right.len when queued */
	int32_t		 left;
};

/* Reusable buffers of one encode call. */
struct tok_scratch {
	struct tok_sym	*sym;
	size_t		 sym_cap;
	struct tok_cand	*heap;
	size_t		 heap_cap;
	char		*norm;		/* text as llama.cpp re-encodes it */
	char		*subj;		/* the regex subject */
	char		*subj_p;	/* the same for regexes using \p{..} */
	uint32_t	*map;		/* subj offset -> norm offset */
	size_t		 text_cap;
	uint32_t	*cut[2];	/* piece boundaries, pairs */
	size_t		 cut_cap[2];
	char		*buf;		/* SPM escaped text */
	size_t		 buf_cap;
};

struct tok_pre;
struct tok_cache;

struct tok {
	struct tok_info	 info;
	char		*pre_name;
	int		 ignore_merges;
	size_t		 n;

	char		*text;		/* vocab strings, concatenated */
	uint32_t	*text_off, *text_len;
	float		*score;
	uint16_t	*attr;		/* enum tok_attr */
	uint8_t		*eog;
	struct tok_map	 by_text;

	char		*bytes;		/* BPE: strings byte-decoded */
	uint32_t	*bytes_off, *bytes_len;
	struct tok_map	 by_bytes;
	int32_t		 byte_tok[256];	/* token standing for one byte */
	uint8_t		 spm_glue[256];	/* SPM: a token has this byte just
					 * before U+2581 */

	struct tok_merge *merge;	/* BPE merges, open addressing */
	size_t		 merge_mask;
	int32_t		*merge_result;	/* [n_merges] by rank */
	uint64_t	*merge_filter;	/* bit set of hashed (l, r) pairs */
	struct {
		int32_t	 rank, result;
	}		*byte_pair;	/* [65536] merges of two bytes */

	char		*piece;		/* decoded pieces (special = true) */
	uint32_t	*piece_off, *piece_len;

	int32_t		*special;	/* matched before splitting, longest
					 * first */
	size_t		 n_special;
	uint32_t	*sx2_start;	/* [65537] by first two bytes: range
					 * of sx_ent */
	uint32_t	*sx1_start;	/* [257] one-byte tokens (after
					 * sx1_base) */
	uint32_t	*sx_ent;	/* ranks in special[] */
	uint32_t	 sx1_base;

	struct tok_pre	*pre;		/* BPE pre-tokenizer */
	struct tok_cache *cache;	/* BPE word cache */
	struct tok_scratch sc;
};

/* Hash of a byte string. */
uint64_t tokenizer_hash(const char *s, size_t len);

/* Id whose key is s[0..len), or -1. */
int32_t tokenizer_map_find(const struct tok_map *m, const char *s,
    size_t len);

/* Grow *p (elements of size sz) to at least n elements. */
int tokenizer_grow(void *pp, size_t *cap, size_t n, size_t sz);

/* Append one id. */
int tokenizer_ids_push(struct tok_ids *o, int32_t id);

/* llama.cpp's lenient UTF-8 decoder: the code point at s[0..n), n > 0,
 * *adv bytes consumed; -1 for an invalid sequence (then *adv = 1). */
int64_t tokenizer_cpt_decode(const unsigned char *s, size_t n,
    size_t *adv);
/* UTF-8 of c (c <= 0x10ffff) into o[0..4); returns the length. */
size_t tokenizer_cpt_encode(uint32_t c, char *o);

/* Byte-level BPE: the GPT-2 byte <-> code point table. */
uint32_t tokenizer_bpe_byte_cpt(uint8_t b);
/* The byte a code point stands for, or -1. */
int tokenizer_bpe_cpt_byte(uint32_t cpt);

/* Merge table set-up and lookup. */
int tokenizer_bpe_merges_load(struct tok *t, const struct tok_desc *d,
    struct err *e);
/* Encode one raw-text fragment (no special tokens in it). */
int tokenizer_bpe_encode(struct tok *t, const char *s, size_t len,
    struct tok_ids *out, struct err *e);
void tokenizer_bpe_free(struct tok *t);

/* The word cache (both families): 1 and the ids appended on a hit, 0 on
 * a miss (*h is then the key to store under, 0 = do not store). */
int tokenizer_cache_new(struct tok *t);
int tokenizer_cache_get(struct tok *t, const char *w, size_t n,
    uint64_t *h, struct tok_ids *out);
void tokenizer_cache_put(struct tok *t, uint64_t h, const char *w,
    size_t n, const int32_t *ids, size_t k);

/* SentencePiece-style merges over one fragment (already escaped). */
int tokenizer_spm_encode(struct tok *t, const char *s, size_t len,
    struct tok_ids *out);

/* Pre-tokenizer: compile the regex set named pre (NULL = default). */
int tokenizer_pre_new(struct tok_pre **out, const char *pre,
    struct err *e);
void tokenizer_pre_free(struct tok_pre *p);
/*
 * Split subj[0..len) into pieces with the regex set: on return
 * sc->cut[*which] holds *n boundary pairs (start, end), in order. subj_p
 * is the same text as the regexes that use \p{..} must see it (same
 * length, same character boundaries).
 */
int tokenizer_pre_split(struct tok_pre *p, struct tok_scratch *sc,
    const char *subj, const char *subj_p, size_t len, int *which,
    size_t *n, struct err *e);

/* Per-name flags of the pre-tokenizer (llama.cpp's table). */
struct tok_pre_flags {
	int	 clean_spaces;
	int	 ignore_merges;
	int	 add_bos;
};
/* 0, or ERR_UNSUPPORTED for a name llama.cpp does not know / we lack. */
int tokenizer_pre_flags(const char *pre, struct tok_pre_flags *f,
    const char **canon);

#endif
