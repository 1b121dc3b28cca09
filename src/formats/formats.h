/*
 * formats.h - the formats room: GGUF v3 read/write, safetensors and
 * Hugging Face config reading.
 *
 * A GGUF file is mmap'd; metadata values and tensors are views into the
 * map (strings are not NUL-terminated: use the length). Every count,
 * length, offset and shape is checked against the file size before use.
 *
 * formats uses util (and the header-only quant/quant-common.h for block
 * sizes).
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
	} num;				/* scalars */
	struct gguf_str	 str;		/* STRING */
	const void	*raw;		/* numeric arrays: elements in the
					 * map, little-endian, unaligned */
	struct gguf_str	*strs;		/* string arrays: n strings */
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
	uint64_t	 ne[GGUF_MAX_DIMS];	/* ne[0] fastest; unused = 1 */
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
	uint64_t		 data_offset;	/* start of the data section */
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

/* Element i of a numeric array value as double / int64. */
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

#endif
