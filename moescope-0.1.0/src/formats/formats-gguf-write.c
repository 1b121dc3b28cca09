/*
 * formats-gguf-write.c - streaming GGUF v3 writer.
 *
 * Metadata is serialized when it is set: each key keeps its value as the
 * exact bytes that go into the file (type tag, then the little-endian
 * payload), so begin() only concatenates. Tensors are declared up front
 * (name, type, shape); begin() computes every tensor's offset (each one
 * starts at a multiple of the alignment) and writes the header, the
 * metadata, the tensor infos and zero padding up to the data section.
 * The caller then streams the data in declaration order, in pieces of
 * any size: memory stays bounded by the metadata, whatever the model's
 * size. Each tensor is followed by zero padding to the alignment (the
 * last one too), which is the layout of llama.cpp's gguf_write and of
 * gguf-py, so copying a file they wrote gives the same bytes. A file
 * without tensors is not padded after its metadata (as gguf-py writes
 * the vocabulary-only files).
 *
 * Output goes to "<path>.tmp.<pid>" (util_atomic) and is renamed into
 * place by finish(); abort(), free() of an unfinished writer or any
 * write error removes the temporary file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "quant/quant-common.h"

#define GGUF_MAX_NEST 8
#define GGUF_MAX_NAME 4096
#define WRITE_BUF (1 << 20)

struct wbuf {
	uint8_t	*p;
	size_t	 len, cap;
	int	 failed;	/* an allocation failed */
};

struct wkv {
	char		*key;
	int		 type;
	struct wbuf	 val;		/* type tag + payload */
};

struct wtensor {
	char		*name;
	int		 type;
	int		 n_dims;
	uint64_t	 ne[GGUF_MAX_DIMS];
	uint64_t	 nbytes;
	uint64_t	 offset;	/* relative to the data section */
};

enum { W_SETUP, W_WRITING, W_DONE, W_FAILED };

struct gguf_writer {
	struct wkv		*kv;
	uint64_t		 n_kv, cap_kv;
	struct wtensor		*t;
	uint64_t		 n_t, cap_t;
	int			 state;
	uint32_t		 alignment;
	struct util_atomic	 out;
	char			*path;
	char			*iobuf;
	uint64_t		 pos;		/* bytes written so far */
	uint64_t		 cur;		/* tensor being written */
	uint64_t		 cur_done;	/* its bytes written */
};

static void
wb_put(struct wbuf *b, const void *p, size_t n)
{
	size_t need, cap;
	uint8_t *q;

	if (b->failed || n == 0)
		return;
	if (util_add(b->len, n, &need) != 0) {
		b->failed = 1;
		return;
	}
	if (need > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < need)
			if (util_mul(cap, 2, &cap) != 0) {
				b->failed = 1;
				return;
			}
		if ((q = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
wb_le(struct wbuf *b, uint64_t v, int n)
{
	uint8_t tmp[8];
	int i;

	for (i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	wb_put(b, tmp, (size_t)n);
}

static void
wb_str(struct wbuf *b, const char *s, uint64_t len)
{
	if (len > SIZE_MAX) {
		b->failed = 1;
		return;
	}
	wb_le(b, len, 8);
	wb_put(b, s, (size_t)len);
}

int
gguf_writer_new(struct gguf_writer **out, struct err *e)
{
	struct gguf_writer *w;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return err_set(e, ERR_NOMEM, "gguf writer: out of memory");
	w->alignment = GGUF_DEFAULT_ALIGNMENT;
	w->state = W_SETUP;
	*out = w;
	return 0;
}

void
gguf_writer_abort(struct gguf_writer *w)
{
	if (w == NULL)
		return;
	if (w->state == W_WRITING || (w->state == W_FAILED &&
	    w->out.tmp != NULL))
		util_atomic_abort(&w->out);
	if (w->state != W_DONE)
		w->state = W_FAILED;
	free(w->iobuf);
	w->iobuf = NULL;
}

void
gguf_writer_free(struct gguf_writer *w)
{
	uint64_t i;

	if (w == NULL)
		return;
	gguf_writer_abort(w);
	for (i = 0; i < w->n_kv; i++) {
		free(w->kv[i].key);
		free(w->kv[i].val.p);
	}
	for (i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->kv);
	free(w->t);
	free(w->path);
	free(w);
}

static int
check_name(const char *s, const char *what, struct err *e)
{
	size_t n = s == NULL ? 0 : strlen(s);

	if (n == 0 || n > GGUF_MAX_NAME)
		return err_set(e, ERR_USAGE, "gguf writer: %s of length %zu",
		    what, n);
	if (!util_utf8_valid(s, n))
		return err_set(e, ERR_USAGE, "gguf writer: %s '%s' is not "
		    "valid UTF-8", what, s);
	return 0;
}

static int
setup_only(const struct gguf_writer *w, const char *what, struct err *e)
{
	if (w->state != W_SETUP)
		return err_set(e, ERR_USAGE, "gguf writer: %s after begin",
		    what);
	return 0;
}

/* Serialize the payload of a value (without its type tag). */
static int
put_payload(struct wbuf *b, const struct gguf_value *v, int type, int depth,
    const char *key, struct err *e)
{
	union { float f; uint32_t u; } f32;
	union { double f; uint64_t u; } f64;
	uint64_t i, bytes;
	size_t esz;
	int rc;

	switch (type) {
	case GGUF_TYPE_FLOAT32:
		f32.f = (float)v->num.f;
		wb_le(b, f32.u, 4);
		return 0;
	case GGUF_TYPE_FLOAT64:
		f64.f = v->num.f;
		wb_le(b, f64.u, 8);
		return 0;
	case GGUF_TYPE_BOOL:
		if (v->num.u > 1)
			return err_set(e, ERR_USAGE, "gguf writer: key '%s': "
			    "bool value %llu", key,
			    (unsigned long long)v->num.u);
		wb_le(b, v->num.u, 1);
		return 0;
	case GGUF_TYPE_STRING:
		if (v->str.s == NULL && v->str.len != 0)
			return err_set(e, ERR_USAGE, "gguf writer: key '%s': "
			    "string without bytes", key);
		wb_str(b, v->str.s, v->str.len);
		return 0;
	case GGUF_TYPE_ARRAY:
		break;
	default:
		if (type < 0 || type >= GGUF_TYPE_COUNT)
			return err_set(e, ERR_USAGE, "gguf writer: key '%s': "
			    "unknown value type %d", key, type);
		wb_le(b, v->num.u, (int)gguf_type_size(type));
		return 0;
	}
	if (depth >= GGUF_MAX_NEST)
		return err_set(e, ERR_USAGE, "gguf writer: key '%s': arrays "
		    "nested deeper than %d", key, GGUF_MAX_NEST);
	if (v->elem_type < 0 || v->elem_type >= GGUF_TYPE_COUNT)
		return err_set(e, ERR_USAGE, "gguf writer: key '%s': unknown "
		    "array element type %d", key, v->elem_type);
	wb_le(b, (uint64_t)v->elem_type, 4);
	wb_le(b, v->n, 8);
	if (v->elem_type == GGUF_TYPE_STRING) {
		if (v->n > 0 && v->strs == NULL)
			return err_set(e, ERR_USAGE, "gguf writer: key '%s': "
			    "string array without strings", key);
		for (i = 0; i < v->n && !b->failed; i++)
			wb_str(b, v->strs[i].s, v->strs[i].len);
		return 0;
	}
	if (v->elem_type == GGUF_TYPE_ARRAY) {
		if (v->n > 0 && v->elems == NULL)
			return err_set(e, ERR_USAGE, "gguf writer: key '%s': "
			    "array of arrays without elements", key);
		for (i = 0; i < v->n && !b->failed; i++)
			if ((rc = put_payload(b, &v->elems[i],
			    GGUF_TYPE_ARRAY, depth + 1, key, e)) != 0)
				return rc;
		return 0;
	}
	esz = gguf_type_size(v->elem_type);
	if (util_mul64(v->n, esz, &bytes) != 0 || bytes > SIZE_MAX)
		return err_set(e, ERR_RANGE, "gguf writer: key '%s': array of "
		    "%llu elements is too large", key,
		    (unsigned long long)v->n);
	if (bytes > 0 && v->raw == NULL)
		return err_set(e, ERR_USAGE, "gguf writer: key '%s': array "
		    "without data", key);
	if (v->elem_type == GGUF_TYPE_BOOL)
		for (i = 0; i < v->n; i++)
			if (((const uint8_t *)v->raw)[i] > 1)
				return err_set(e, ERR_USAGE, "gguf writer: key "
				    "'%s': bool element %llu is not 0 or 1",
				    key, (unsigned long long)i);
	wb_put(b, v->raw, (size_t)bytes);
	return 0;
}

/* Install key with an already serialized value (takes val). */
static int
kv_install(struct gguf_writer *w, const char *key, int type,
    struct wbuf *val, struct err *e)
{
	struct wkv *kv;
	uint64_t i, cap;

	if (val->failed) {
		free(val->p);
		return err_set(e, ERR_NOMEM, "gguf writer: key '%s': out of "
		    "memory", key);
	}
	if (strcmp(key, "general.alignment") == 0) {
		uint64_t a = 0;

		if (type == GGUF_TYPE_UINT32 && val->len == 8)
			a = (uint64_t)val->p[4] | (uint64_t)val->p[5] << 8 |
			    (uint64_t)val->p[6] << 16 |
			    (uint64_t)val->p[7] << 24;
		if (type != GGUF_TYPE_UINT32 || a == 0 || (a & (a - 1)) != 0) {
			free(val->p);
			return err_set(e, ERR_USAGE, "gguf writer: "
			    "general.alignment must be a u32 power of two");
		}
		w->alignment = (uint32_t)a;
	}
	for (i = 0; i < w->n_kv; i++)
		if (strcmp(w->kv[i].key, key) == 0) {
			free(w->kv[i].val.p);
			w->kv[i].val = *val;
			w->kv[i].type = type;
			return 0;
		}
	if (w->n_kv == w->cap_kv) {
		cap = w->cap_kv ? w->cap_kv * 2 : 32;
		kv = realloc(w->kv, cap * sizeof *kv);
		if (kv == NULL) {
			free(val->p);
			return err_set(e, ERR_NOMEM, "gguf writer: out of "
			    "memory");
		}
		w->kv = kv;
		w->cap_kv = cap;
	}
	kv = &w->kv[w->n_kv];
	if ((kv->key = strdup(key)) == NULL) {
		free(val->p);
		return err_set(e, ERR_NOMEM, "gguf writer: out of memory");
	}
	kv->type = type;
	kv->val = *val;
	w->n_kv++;
	return 0;
}

int
gguf_writer_set_value(struct gguf_writer *w, const char *key,
    const struct gguf_value *v, struct err *e)
{
	struct wbuf b = { 0 };
	int rc;

	if ((rc = setup_only(w, "set", e)) != 0 ||
	    (rc = check_name(key, "key", e)) != 0)
		return rc;
	if (v->type < 0 || v->type >= GGUF_TYPE_COUNT)
		return err_set(e, ERR_USAGE, "gguf writer: key '%s': unknown "
		    "value type %d", key, v->type);
	wb_le(&b, (uint64_t)v->type, 4);
	if ((rc = put_payload(&b, v, v->type, 0, key, e)) != 0) {
		free(b.p);
		return rc;
	}
	return kv_install(w, key, v->type, &b, e);
}

void
gguf_writer_remove(struct gguf_writer *w, const char *key)
{
	uint64_t i;

	if (w->state != W_SETUP)
		return;
	for (i = 0; i < w->n_kv; i++)
		if (strcmp(w->kv[i].key, key) == 0) {
			if (strcmp(key, "general.alignment") == 0)
				w->alignment = GGUF_DEFAULT_ALIGNMENT;
			free(w->kv[i].key);
			free(w->kv[i].val.p);
			memmove(&w->kv[i], &w->kv[i + 1],
			    (w->n_kv - i - 1) * sizeof *w->kv);
			w->n_kv--;
			return;
		}
}

static int
set_uint(struct gguf_writer *w, const char *key, int type, uint64_t u,
    struct err *e)
{
	struct gguf_value v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.num.u = u;
	return gguf_writer_set_value(w, key, &v, e);
}

static int
set_float(struct gguf_writer *w, const char *key, int type, double f,
    struct err *e)
{
	struct gguf_value v;

	memset(&v, 0, sizeof v);
	v.type = type;
	v.num.f = f;
	return gguf_writer_set_value(w, key, &v, e);
}

int
gguf_writer_set_u8(struct gguf_writer *w, const char *key, uint8_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_UINT8, v, e);
}

int
gguf_writer_set_i8(struct gguf_writer *w, const char *key, int8_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_INT8, (uint64_t)(int64_t)v, e);
}

int
gguf_writer_set_u16(struct gguf_writer *w, const char *key, uint16_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_UINT16, v, e);
}

int
gguf_writer_set_i16(struct gguf_writer *w, const char *key, int16_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_INT16, (uint64_t)(int64_t)v, e);
}

int
gguf_writer_set_u32(struct gguf_writer *w, const char *key, uint32_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_UINT32, v, e);
}

int
gguf_writer_set_i32(struct gguf_writer *w, const char *key, int32_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_INT32, (uint64_t)(int64_t)v, e);
}

int
gguf_writer_set_u64(struct gguf_writer *w, const char *key, uint64_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_UINT64, v, e);
}

int
gguf_writer_set_i64(struct gguf_writer *w, const char *key, int64_t v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_INT64, (uint64_t)v, e);
}

int
gguf_writer_set_bool(struct gguf_writer *w, const char *key, int v,
    struct err *e)
{
	return set_uint(w, key, GGUF_TYPE_BOOL, v != 0, e);
}

int
gguf_writer_set_f32(struct gguf_writer *w, const char *key, float v,
    struct err *e)
{
	return set_float(w, key, GGUF_TYPE_FLOAT32, v, e);
}

int
gguf_writer_set_f64(struct gguf_writer *w, const char *key, double v,
    struct err *e)
{
	return set_float(w, key, GGUF_TYPE_FLOAT64, v, e);
}

int
gguf_writer_set_strn(struct gguf_writer *w, const char *key, const char *s,
    uint64_t len, struct err *e)
{
	struct gguf_value v;

	memset(&v, 0, sizeof v);
	v.type = GGUF_TYPE_STRING;
	v.str.s = s;
	v.str.len = len;
	return gguf_writer_set_value(w, key, &v, e);
}

int
gguf_writer_set_str(struct gguf_writer *w, const char *key, const char *s,
    struct err *e)
{
	return gguf_writer_set_strn(w, key, s, strlen(s), e);
}

int
gguf_writer_set_arr(struct gguf_writer *w, const char *key, int elem_type,
    const void *data, uint64_t n, struct err *e)
{
	struct gguf_value v;
	struct wbuf raw = { 0 };
	const uint8_t *p = data;
	uint64_t i, u;
	size_t esz;
	int rc, k;

	esz = (elem_type >= 0 && elem_type < GGUF_TYPE_COUNT) ?
	    gguf_type_size(elem_type) : 0;
	if (esz == 0)
		return err_set(e, ERR_USAGE, "gguf writer: key '%s': %s is not "
		    "a numeric array element type", key,
		    gguf_type_name(elem_type));
	/* host order to little-endian, one element at a time */
	for (i = 0; i < n && !raw.failed; i++) {
		u = 0;
		switch (esz) {
		case 1: u = p[i]; break;
		case 2: { uint16_t x; memcpy(&x, p + i * 2, 2); u = x; break; }
		case 4: { uint32_t x; memcpy(&x, p + i * 4, 4); u = x; break; }
		default: memcpy(&u, p + i * 8, 8); break;
		}
		k = (int)esz;
		wb_le(&raw, u, k);
	}
	if (raw.failed) {
		free(raw.p);
		return err_set(e, ERR_NOMEM, "gguf writer: key '%s': out of "
		    "memory", key);
	}
	memset(&v, 0, sizeof v);
	v.type = GGUF_TYPE_ARRAY;
	v.elem_type = elem_type;
	v.n = n;
	v.raw = raw.p;
	rc = gguf_writer_set_value(w, key, &v, e);
	free(raw.p);
	return rc;
}

int
gguf_writer_set_str_arr(struct gguf_writer *w, const char *key,
    const char *const *strs, uint64_t n, struct err *e)
{
	struct gguf_value v;
	struct gguf_str *s;
	uint64_t i;
	int rc;

	if (n > SIZE_MAX / sizeof *s)
		return err_set(e, ERR_RANGE, "gguf writer: key '%s': too many "
		    "strings", key);
	if ((s = malloc((n ? n : 1) * sizeof *s)) == NULL)
		return err_set(e, ERR_NOMEM, "gguf writer: out of memory");
	for (i = 0; i < n; i++) {
		s[i].s = strs[i];
		s[i].len = strlen(strs[i]);
	}
	memset(&v, 0, sizeof v);
	v.type = GGUF_TYPE_ARRAY;
	v.elem_type = GGUF_TYPE_STRING;
	v.n = n;
	v.strs = s;
	rc = gguf_writer_set_value(w, key, &v, e);
	free(s);
	return rc;
}

int
gguf_writer_add_tensor(struct gguf_writer *w, const char *name, int type,
    int n_dims, const uint64_t *ne, uint64_t *idx, struct err *e)
{
	const struct quant_type_info *ti;
	struct wtensor *t;
	uint64_t i, rows = 1, nb, cap;
	int rc, d;

	if ((rc = setup_only(w, "add_tensor", e)) != 0 ||
	    (rc = check_name(name, "tensor name", e)) != 0)
		return rc;
	if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
		return err_set(e, ERR_USAGE, "gguf writer: tensor '%s': %d "
		    "dimensions (1..%d allowed)", name, n_dims, GGUF_MAX_DIMS);
	if ((ti = quant_type_info(type)) == NULL)
		return err_set(e, ERR_USAGE, "gguf writer: tensor '%s': "
		    "unknown type %d", name, type);
	for (d = 0; d < n_dims; d++)
		if (ne[d] == 0 || ne[d] > INT64_MAX)
			return err_set(e, ERR_USAGE, "gguf writer: tensor "
			    "'%s': dimension %d is %llu", name, d,
			    (unsigned long long)ne[d]);
	if (ne[0] % ti->blck != 0)
		return err_set(e, ERR_USAGE, "gguf writer: tensor '%s': row "
		    "length %llu is not a multiple of %s's block size %u",
		    name, (unsigned long long)ne[0], ti->name, ti->blck);
	for (d = 1; d < n_dims; d++)
		if (util_mul64(rows, ne[d], &rows) != 0)
			goto overflow;
	if (util_mul64(ne[0] / ti->blck, ti->size, &nb) != 0 ||
	    util_mul64(nb, rows, &nb) != 0 || nb > INT64_MAX)
		goto overflow;
	for (i = 0; i < w->n_t; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return err_set(e, ERR_USAGE, "gguf writer: duplicate "
			    "tensor '%s'", name);
	if (w->n_t == w->cap_t) {
		cap = w->cap_t ? w->cap_t * 2 : 64;
		t = realloc(w->t, cap * sizeof *t);
		if (t == NULL)
			return err_set(e, ERR_NOMEM, "gguf writer: out of "
			    "memory");
		w->t = t;
		w->cap_t = cap;
	}
	t = &w->t[w->n_t];
	memset(t, 0, sizeof *t);
	if ((t->name = strdup(name)) == NULL)
		return err_set(e, ERR_NOMEM, "gguf writer: out of memory");
	t->type = type;
	t->n_dims = n_dims;
	for (d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = d < n_dims ? ne[d] : 1;
	t->nbytes = nb;
	if (idx != NULL)
		*idx = w->n_t;
	w->n_t++;
	return 0;
overflow:
	return err_set(e, ERR_RANGE, "gguf writer: tensor '%s': size "
	    "overflows", name);
}

uint64_t
gguf_writer_tensor_nbytes(const struct gguf_writer *w, uint64_t idx)
{
	return idx < w->n_t ? w->t[idx].nbytes : 0;
}

/* Write n bytes to the output; on failure the writer is failed. */
static int
out_write(struct gguf_writer *w, const void *p, size_t n, struct err *e)
{
	if (n > 0 && fwrite(p, 1, n, w->out.fp) != n) {
		err_set(e, ERR_IO, "%s: write failed: %s", w->path,
		    strerror(errno));
		util_atomic_abort(&w->out);
		w->state = W_FAILED;
		return ERR_IO;
	}
	w->pos += n;
	return 0;
}

static int
out_pad(struct gguf_writer *w, struct err *e)
{
	static const uint8_t zeros[256];
	uint64_t to;
	size_t n;
	int rc;

	if (util_align_up(w->pos, w->alignment, &to) != 0)
		return err_set(e, ERR_RANGE, "%s: file size overflows",
		    w->path);
	while (w->pos < to) {
		n = to - w->pos > sizeof zeros ? sizeof zeros :
		    (size_t)(to - w->pos);
		if ((rc = out_write(w, zeros, n, e)) != 0)
			return rc;
	}
	return 0;
}

int
gguf_writer_begin(struct gguf_writer *w, const char *path, struct err *e)
{
	struct wbuf b = { 0 };
	uint64_t i, off = 0, end;
	int rc, d;

	if ((rc = setup_only(w, "begin", e)) != 0)
		return rc;
	/* plan the data section */
	for (i = 0; i < w->n_t; i++) {
		w->t[i].offset = off;
		if (util_align_up(w->t[i].nbytes, w->alignment, &end) != 0 ||
		    util_add64(off, end, &off) != 0)
			return err_set(e, ERR_RANGE, "%s: data section "
			    "overflows at tensor '%s'", path, w->t[i].name);
	}
	if ((w->path = strdup(path)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	wb_put(&b, "GGUF", 4);
	wb_le(&b, 3, 4);
	wb_le(&b, w->n_t, 8);
	wb_le(&b, w->n_kv, 8);
	if ((rc = util_atomic_open(&w->out, path, e)) != 0) {
		free(b.p);
		return rc;
	}
	w->state = W_WRITING;
	if ((w->iobuf = malloc(WRITE_BUF)) != NULL)
		setvbuf(w->out.fp, w->iobuf, _IOFBF, WRITE_BUF);
	for (i = 0; i < w->n_kv && !b.failed; i++) {
		wb_str(&b, w->kv[i].key, strlen(w->kv[i].key));
		wb_put(&b, w->kv[i].val.p, w->kv[i].val.len);
		/* flush metadata in pieces: a vocabulary can be large */
		if (b.len >= WRITE_BUF) {
			if ((rc = out_write(w, b.p, b.len, e)) != 0)
				goto fail;
			b.len = 0;
		}
	}
	for (i = 0; i < w->n_t && !b.failed; i++) {
		struct wtensor *t = &w->t[i];

		wb_str(&b, t->name, strlen(t->name));
		wb_le(&b, (uint64_t)t->n_dims, 4);
		for (d = 0; d < t->n_dims; d++)
			wb_le(&b, t->ne[d], 8);
		wb_le(&b, (uint64_t)t->type, 4);
		wb_le(&b, t->offset, 8);
	}
	if (b.failed) {
		rc = err_set(e, ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	/* a file without tensors ends here, unpadded (gguf-py, and the
	 * vocabulary-only files llama.cpp ships) */
	if ((rc = out_write(w, b.p, b.len, e)) != 0 ||
	    (w->n_t > 0 && (rc = out_pad(w, e)) != 0))
		goto fail;
	free(b.p);
	w->cur = 0;
	w->cur_done = 0;
	return 0;
fail:
	free(b.p);
	gguf_writer_abort(w);
	return rc;
}

int
gguf_writer_write_data(struct gguf_writer *w, uint64_t idx, const void *buf,
    size_t len, struct err *e)
{
	struct wtensor *t;
	int rc;

	if (w->state != W_WRITING)
		return err_set(e, ERR_USAGE, "gguf writer: write_data %s",
		    w->state == W_SETUP ? "before begin" :
		    "after finish or failure");
	if (idx == w->cur + 1 && w->cur < w->n_t &&
	    w->cur_done == w->t[w->cur].nbytes) {
		if ((rc = out_pad(w, e)) != 0)
			return rc;
		w->cur++;
		w->cur_done = 0;
	}
	if (idx >= w->n_t || idx != w->cur)
		return err_set(e, ERR_USAGE, "%s: tensor %llu written out of "
		    "order (writing tensor %llu)", w->path,
		    (unsigned long long)idx, (unsigned long long)w->cur);
	t = &w->t[idx];
	if (len > t->nbytes - w->cur_done)
		return err_set(e, ERR_USAGE, "%s: tensor '%s': %zu bytes more "
		    "than its %llu", w->path, t->name, len,
		    (unsigned long long)t->nbytes);
	if ((rc = out_write(w, buf, len, e)) != 0)
		return rc;
	w->cur_done += len;
	return 0;
}

int
gguf_writer_finish(struct gguf_writer *w, struct err *e)
{
	int rc;

	if (w->state != W_WRITING)
		return err_set(e, ERR_USAGE, "gguf writer: finish %s",
		    w->state == W_SETUP ? "before begin" :
		    "after finish or failure");
	if (w->cur < w->n_t && w->cur_done == w->t[w->cur].nbytes) {
		if ((rc = out_pad(w, e)) != 0)
			return rc;
		w->cur++;
		w->cur_done = 0;
	}
	if (w->cur < w->n_t) {
		err_set(e, ERR_USAGE, "%s: tensor '%s' incomplete: %llu of "
		    "%llu bytes written", w->path, w->t[w->cur].name,
		    (unsigned long long)w->cur_done,
		    (unsigned long long)w->t[w->cur].nbytes);
		gguf_writer_abort(w);
		return ERR_USAGE;
	}
	rc = util_atomic_commit(&w->out, e);
	w->state = rc == 0 ? W_DONE : W_FAILED;
	free(w->iobuf);
	w->iobuf = NULL;
	return rc;
}

int
gguf_copy(const struct gguf *g, const char *path, struct err *e)
{
	struct gguf_writer *w;
	uint64_t i;
	int rc;

	if ((rc = gguf_writer_new(&w, e)) != 0)
		return rc;
	for (i = 0; i < g->n_kv && rc == 0; i++)
		rc = gguf_writer_set_value(w, g->kv[i].key, &g->kv[i].v, e);
	for (i = 0; i < g->n_tensors && rc == 0; i++)
		rc = gguf_writer_add_tensor(w, g->tensors[i].name,
		    g->tensors[i].type, g->tensors[i].n_dims,
		    g->tensors[i].ne, NULL, e);
	if (rc == 0)
		rc = gguf_writer_begin(w, path, e);
	for (i = 0; i < g->n_tensors && rc == 0; i++)
		rc = gguf_writer_write_data(w, i, g->tensors[i].data,
		    (size_t)g->tensors[i].nbytes, e);
	if (rc == 0)
		rc = gguf_writer_finish(w, e);
	gguf_writer_free(w);
	return rc;
}
