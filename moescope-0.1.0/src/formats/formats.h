/*
 * formats.h - the formats room: GGUF v3 read/write, safetensors and
 * Hugging Face config reading.
 *
 * A GGUF file is mmap'd; metadata values and tensors are views into the
 * map (strings are not NUL-terminated: use the length). Every count,
 * length, offset and shape is checked against the file size before use.
 *
 * formats uses util (and the header-only quant/quant-common.h for block
 * sizes), and jansson to parse JSON (safetensors headers, config.json).
 */
#ifndef MOESCOPE_FORMATS_H
#define MOESCOPE_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* GGUF metadata value types (GGUF spec numbering). */
enum gguf_type {
	GGUF_TYPE_UINT8 = 0,
	GGUF_TYPE_INT8 = 1,
	GGUF_TYPE_UINT16 = 2,
	GGUF_TYPE_INT16 = 3,
	GGUF_TYPE_UINT32 = 4,
	GGUF_TYPE_INT32 = 5,
	GGUF_TYPE_FLOAT32 = 6,
	GGUF_TYPE_BOOL = 7,
	GGUF_TYPE_STRING = 8,
	GGUF_TYPE_ARRAY = 9,
	GGUF_TYPE_UINT64 = 10,
	GGUF_TYPE_INT64 = 11,
	GGUF_TYPE_FLOAT64 = 12,
	GGUF_TYPE_COUNT = 13
};

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4

/* A string inside the map: not NUL-terminated. */
struct gguf_str {
	const char	*s;
	uint64_t	 len;
};

struct gguf_value {
	int		 type;		/* enum gguf_type */
	int		 elem_type;	/* arrays: element type */
	uint64_t	 n;		/* arrays: element count */
	union {
		uint64_t	u;	/* unsigned ints, bool */
		int64_t		i;	/* signed ints */
		double		f;	/* floats */
	} num;			/* scalars */
	struct gguf_str	 str;		/* STRING */
	const void	*raw;		/* numeric arrays: elements in
					 * the map, little-endian,
					 * unaligned */
	struct gguf_str	*strs;		/* string arrays: n */
	struct gguf_value *elems;	/* arrays of arrays: n values */
};

struct gguf_kv {
	char			*key;	/* NUL-terminated copy */
	struct gguf_value	 v;
};

struct gguf_tensor {
	char		*name;		/* NUL-terminated copy */
	int		 type;		/* enum ggml_type */
	int		 n_dims;
	uint64_t	 ne[GGUF_MAX_DIMS];	/* ne[0] fastest; unused 1 */
	uint64_t	 offset;	/* from the start of the file */
	uint64_t	 nbytes;
	const void	*data;		/* view into the map */
};

struct gguf {
	char			*path;
	struct util_map		 map;
	uint32_t		 version;
	uint64_t		 n_kv;
	struct gguf_kv		*kv;
	uint64_t		 n_tensors;
	struct gguf_tensor	*tensors;
	uint32_t		 alignment;
	uint64_t		 data_offset;	/* start of the data */
};

/*
 * Open and validate a GGUF file (v2 or v3). On error returns ERR_* with a
 * message naming the file and what is wrong; *out is left NULL.
 */
int gguf_open(struct gguf **out, const char *path, struct err *e);

/* Parse a GGUF image already in memory (not copied: buf must outlive the
 * result). name is used in messages. For fuzzing and tests. */
int gguf_open_mem(struct gguf **out, const void *buf, size_t len,
    const char *name, struct err *e);

void gguf_close(struct gguf *g);

/* Index of key, or -1. */
int64_t gguf_find_key(const struct gguf *g, const char *key);
const struct gguf_value *gguf_get(const struct gguf *g, const char *key);

/*
 * Typed getters: 0, ERR_NOTFOUND when the key is absent, ERR_FORMAT when
 * its type cannot represent the request (messages name the key). Integer
 * getters accept any integer type whose value fits; float getters accept
 * FLOAT32/FLOAT64 and integers.
 */
int gguf_get_u32(const struct gguf *g, const char *key, uint32_t *out,
    struct err *e);
int gguf_get_u64(const struct gguf *g, const char *key, uint64_t *out,
    struct err *e);
int gguf_get_i64(const struct gguf *g, const char *key, int64_t *out,
    struct err *e);
int gguf_get_f32(const struct gguf *g, const char *key, float *out,
    struct err *e);
int gguf_get_bool(const struct gguf *g, const char *key, int *out,
    struct err *e);
/* A NUL-terminated malloc'd copy of a string value. */
int gguf_get_strdup(const struct gguf *g, const char *key, char **out,
    struct err *e);
/* A string array's strings (views into the map). */
int gguf_get_str_arr(const struct gguf *g, const char *key,
    const struct gguf_str **strs, uint64_t *n, struct err *e);
/* A numeric array's raw elements and element type. */
int gguf_get_arr(const struct gguf *g, const char *key, int *elem_type,
    const void **raw, uint64_t *n, struct err *e);

/* Element i of a numeric array value as double / int64 (0 when i is
 * out of range or the array is not numeric; floats saturate to int64). */
double gguf_arr_f64(const struct gguf_value *v, uint64_t i);
int64_t gguf_arr_i64(const struct gguf_value *v, uint64_t i);

/* Byte size of one element of a GGUF value type (0 for string/array). */
size_t gguf_type_size(int type);
const char *gguf_type_name(int type);

/* Tensor by name, or NULL. */
const struct gguf_tensor *gguf_find_tensor(const struct gguf *g,
    const char *name);

/* Product of a tensor's dimensions. */
uint64_t gguf_tensor_nelem(const struct gguf_tensor *t);

/*
 * GGUF writer: streaming. Set metadata and declare tensors, then begin()
 * writes the header, the metadata and the tensor infos to
 * "<path>.tmp.<pid>"; the caller streams each tensor's bytes in
 * declaration order (write_data may be called several times per tensor);
 * finish() pads, flushes and renames into place. Layout as llama.cpp
 * writes it: tensor infos, zero padding to the alignment, then each
 * tensor's data followed by zero padding to the alignment.
 * "general.alignment" (u32, a power of two) sets the alignment.
 * Every function returns 0 or ERR_* with a message in e.
 */
struct gguf_writer;

int gguf_writer_new(struct gguf_writer **out, struct err *e);
/* Frees w; an unfinished output is aborted (its temp file removed). */
void gguf_writer_free(struct gguf_writer *w);

/*
 * Set a metadata key (replacing any earlier value of the key, which
 * keeps its position). Keys must be non-empty valid UTF-8. Only before
 * gguf_writer_begin().
 */
int gguf_writer_set_u8(struct gguf_writer *w, const char *key, uint8_t v,
    struct err *e);
int gguf_writer_set_i8(struct gguf_writer *w, const char *key, int8_t v,
    struct err *e);
int gguf_writer_set_u16(struct gguf_writer *w, const char *key, uint16_t v,
    struct err *e);
int gguf_writer_set_i16(struct gguf_writer *w, const char *key, int16_t v,
    struct err *e);
int gguf_writer_set_u32(struct gguf_writer *w, const char *key, uint32_t v,
    struct err *e);
int gguf_writer_set_i32(struct gguf_writer *w, const char *key, int32_t v,
    struct err *e);
int gguf_writer_set_u64(struct gguf_writer *w, const char *key, uint64_t v,
    struct err *e);
int gguf_writer_set_i64(struct gguf_writer *w, const char *key, int64_t v,
    struct err *e);
int gguf_writer_set_f32(struct gguf_writer *w, const char *key, float v,
    struct err *e);
int gguf_writer_set_f64(struct gguf_writer *w, const char *key, double v,
    struct err *e);
int gguf_writer_set_bool(struct gguf_writer *w, const char *key, int v,
    struct err *e);
/* A NUL-terminated string, or len bytes of s (any bytes). */
int gguf_writer_set_str(struct gguf_writer *w, const char *key,
    const char *s, struct err *e);
int gguf_writer_set_strn(struct gguf_writer *w, const char *key,
    const char *s, uint64_t len, struct err *e);
/* A numeric array: n elements of elem_type, in host order (converted to
 * little-endian). */
int gguf_writer_set_arr(struct gguf_writer *w, const char *key,
    int elem_type, const void *data, uint64_t n, struct err *e);
/* An array of n NUL-terminated strings. */
int gguf_writer_set_str_arr(struct gguf_writer *w, const char *key,
    const char *const *strs, uint64_t n, struct err *e);
/*
 * Any value as the reader represents it (struct gguf_value: numeric
 * arrays as little-endian raw bytes, string arrays as strs, arrays of
 * arrays as elems, nested up to 8 deep). Copies a key from a gguf.
 */
int gguf_writer_set_value(struct gguf_writer *w, const char *key,
    const struct gguf_value *v, struct err *e);
/* Remove a key (no-op when absent). */
void gguf_writer_remove(struct gguf_writer *w, const char *key);

/*
 * Declare a tensor: name (unique, valid UTF-8), ggml type, n_dims
 * (1..4) dimensions ne[0] fastest. Its index (0, 1, ...) is returned in
 * *idx (may be NULL). Only before gguf_writer_begin().
 */
int gguf_writer_add_tensor(struct gguf_writer *w, const char *name,
    int type, int n_dims, const uint64_t *ne, uint64_t *idx,
    struct err *e);
/* Byte size of tensor idx as declared (0 for a bad index). */
uint64_t gguf_writer_tensor_nbytes(const struct gguf_writer *w,
    uint64_t idx);

/* Create the temporary output and write everything before the data. */
int gguf_writer_begin(struct gguf_writer *w, const char *path,
    struct err *e);
/*
 * Append len bytes of tensor idx. Tensors are written in declaration
 * order, each completely before the next: idx must be the current
 * tensor (or the next one once the current is complete).
 */
int gguf_writer_write_data(struct gguf_writer *w, uint64_t idx,
    const void *buf, size_t len, struct err *e);
/* Check every tensor is complete, pad, flush, rename into place. On
 * error the temporary file is removed. */
int gguf_writer_finish(struct gguf_writer *w, struct err *e);
/* Give up: remove the temporary file. */
void gguf_writer_abort(struct gguf_writer *w);

/*
 * Copy a whole GGUF (metadata in order, tensors in order, same alignment)
 * to path through the writer: llama.cpp's layout, so a file llama.cpp
 * wrote is copied byte for byte.
 */
int gguf_copy(const struct gguf *g, const char *path, struct err *e);

/*
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * ({"__metadata__": {str: str}, name: {"dtype", "shape",
 * "data_offsets": [begin, end]}}, offsets relative to the data section
 * after the header), then the data. Files are mmap'd; tensors are views.
 * A sharded checkpoint (model.safetensors.index.json and its weight_map)
 * opens as one set. Validated: header length against the file size, the
 * JSON (UTF-8, no duplicate names), dtypes, shapes (overflow-checked
 * dtype x shape = end - begin), offsets inside the data section, no
 * overlaps, every weight_map entry present in its shard, no name in two
 * shards.
 */
enum st_dtype {
	ST_BOOL, ST_U8, ST_I8, ST_F8_E5M2, ST_F8_E4M3, ST_F8_E8M0, ST_I16,
	ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32, ST_F32, ST_I64, ST_U64,
	ST_F64, ST_DTYPE_COUNT
};

#define ST_MAX_DIMS 8

struct st_tensor {
	char		*name;		/* NUL-terminated copy */
	int		 dtype;		/* enum st_dtype */
	int		 n_dims;	/* 0: a scalar */
	uint64_t	 shape[ST_MAX_DIMS];	/* HF order: last fastest */
	uint64_t	 offset;	/* from the start of its file */
	uint64_t	 nbytes;
	const void	*data;		/* view into the map */
	int		 file;		/* index into files[] */
};

struct st_file {
	char		*path;
	struct util_map	 map;
	uint64_t	 data_offset;	/* 8 + header length */
};

struct safetensors {
	char		*path;		/* what was opened */
	int		 n_files;
	struct st_file	*files;
	uint64_t	 n_tensors;
	struct st_tensor *tensors;	/* sorted by name */
	uint64_t	 n_meta;	/* __metadata__ of the first file */
	char		**meta_keys;
	char		**meta_vals;
};

/*
 * Open a .safetensors file, a model.safetensors.index.json, or a folder
 * holding either (the index wins). Errors name the file and the problem.
 */
int safetensors_open(struct safetensors **out, const char *path,
    struct err *e);
/* Parse one safetensors image in memory (not copied; buf must outlive the
 * result). For fuzzing and tests. */
int safetensors_open_mem(struct safetensors **out, const void *buf,
    size_t len, const char *name, struct err *e);
void safetensors_close(struct safetensors *st);
const struct st_tensor *safetensors_find(const struct safetensors *st,
    const char *name);
/* A __metadata__ value, or NULL. */
const char *safetensors_meta(const struct safetensors *st, const char *key);
/* "BF16" etc.; "?" for a bad id. Bytes per element (0 for a bad id). */
const char *safetensors_dtype_name(int dtype);
size_t safetensors_dtype_size(int dtype);
/* Product of the shape (1 for a scalar). */
uint64_t safetensors_nelem(const struct st_tensor *t);

/*
 * Hugging Face config.json: typed access by key. Keys may be dotted
 * ("rope_scaling.factor"); a key missing at the top level is also looked
 * up in "text_config" (multimodal configs nest the LLM's there).
 * Getters return 0, ERR_NOTFOUND when absent (or null), ERR_FORMAT when
 * the value has another type (messages name the file and key).
 */
struct hf_config;

int hf_config_open(struct hf_config **out, const char *path,
    struct err *e);		/* config.json, or a folder holding it */
int hf_config_open_mem(struct hf_config **out, const char *buf, size_t len,
    const char *name, struct err *e);
void hf_config_close(struct hf_config *c);
const char *hf_config_path(const struct hf_config *c);
int hf_config_has(const struct hf_config *c, const char *key);
int hf_config_get_int(const struct hf_config *c, const char *key,
    int64_t *out, struct err *e);
/* Accepts integers too. */
int hf_config_get_float(const struct hf_config *c, const char *key,
    double *out, struct err *e);
int hf_config_get_bool(const struct hf_config *c, const char *key,
    int *out, struct err *e);
/* The string stays valid until hf_config_close(). "architectures" (an
 * array) gives its first element. */
int hf_config_get_str(const struct hf_config *c, const char *key,
    const char **out, struct err *e);

/* Key hyper-parameters under their usual aliases; -1 / NAN / "" when the
 * config does not say. */
struct hf_hparams {
	char		model_type[64];
	char		architecture[128];	/* architectures[0] */
	int64_t		hidden_size;
	int64_t		n_layers;
	int64_t		n_heads;
	int64_t		n_kv_heads;	/* defaults to n_heads */
	int64_t		head_dim;	/* defaults to hidden / heads */
	int64_t		ff;		/* intermediate_size */
	int64_t		n_experts;
	int64_t		n_experts_used;
	int64_t		expert_ff;	/* moe_intermediate_size, or
					 * an MoE's intermediate_size */
	int64_t		n_shared_experts;
	int64_t		shared_expert_ff;
	int64_t		first_dense_layers; /* first_k_dense_replace */
	int64_t		vocab_size;
	int64_t		max_position;
	int64_t		sliding_window;
	int64_t		q_lora_rank;
	int64_t		kv_lora_rank;
	double		rope_theta;
	double		rms_norm_eps;
	char		rope_scaling[32];	/* rope_scaling type */
	double		rope_factor;
	int		tie_embeddings;		/* -1 unknown */
};

int hf_config_hparams(const struct hf_config *c, struct hf_hparams *hp,
    struct err *e);

#endif
