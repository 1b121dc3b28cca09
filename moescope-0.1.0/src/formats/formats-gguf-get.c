/*
 * formats-gguf-get.c - typed access to GGUF metadata and tensors.
 *
 * Lookups are linear scans: files carry tens of keys and at most a few
 * thousand tensors, and callers look each up once at load time.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int64_t
gguf_find_key(const struct gguf *g, const char *key)
{
	uint64_t i;

	for (i = 0; i < g->n_kv; i++)
		if (strcmp(g->kv[i].key, key) == 0)
			return (int64_t)i;
	return -1;
}

const struct gguf_value *
gguf_get(const struct gguf *g, const char *key)
{
	int64_t i = gguf_find_key(g, key);

	return i < 0 ? NULL : &g->kv[i].v;
}

static int
is_int_type(int t)
{
	switch (t) {
	case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_UINT16:
	case GGUF_TYPE_INT16: case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32:
	case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64:
		return 1;
	}
	return 0;
}

static int
is_signed_type(int t)
{
	return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 ||
	    t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

static const struct gguf_value *
lookup(const struct gguf *g, const char *key, struct err *e, int *rc)
{
	const struct gguf_value *v = gguf_get(g, key);

	*rc = 0;
	if (v == NULL)
		*rc = err_set(e, ERR_NOTFOUND, "%s: metadata key '%s' is "
		    "missing", g->path, key);
	return v;
}

static int
wrong_type(const struct gguf *g, const char *key, const struct gguf_value *v,
    const char *want, struct err *e)
{
	return err_set(e, ERR_FORMAT, "%s: metadata key '%s' has type %s, "
	    "want %s", g->path, key, gguf_type_name(v->type), want);
}

int
gguf_get_u64(const struct gguf *g, const char *key, uint64_t *out,
    struct err *e)
{
	const struct gguf_value *v;
	int rc;

	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (!is_int_type(v->type))
		return wrong_type(g, key, v, "an integer", e);
	if (is_signed_type(v->type) && v->num.i < 0)
		return err_set(e, ERR_FORMAT, "%s: metadata key '%s' is "
		    "negative (%lld)", g->path, key, (long long)v->num.i);
	*out = v->num.u;
	return 0;
}

int
gguf_get_u32(const struct gguf *g, const char *key, uint32_t *out,
    struct err *e)
{
	uint64_t u;
	int rc;

	if ((rc = gguf_get_u64(g, key, &u, e)) != 0)
		return rc;
	if (u > UINT32_MAX)
		return err_set(e, ERR_FORMAT, "%s: metadata key '%s' = %llu "
		    "is too large", g->path, key, (unsigned long long)u);
	*out = (uint32_t)u;
	return 0;
}

int
gguf_get_i64(const struct gguf *g, const char *key, int64_t *out,
    struct err *e)
{
	const struct gguf_value *v;
	int rc;

	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (!is_int_type(v->type))
		return wrong_type(g, key, v, "an integer", e);
	if (!is_signed_type(v->type) && v->num.u > INT64_MAX)
		return err_set(e, ERR_FORMAT, "%s: metadata key '%s' is too "
		    "large", g->path, key);
	*out = v->num.i;
	return 0;
}

int
gguf_get_f32(const struct gguf *g, const char *key, float *out,
    struct err *e)
{
	const struct gguf_value *v;
	int rc;

	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (v->type == GGUF_TYPE_FLOAT32 || v->type == GGUF_TYPE_FLOAT64)
		*out = (float)v->num.f;
	else if (is_signed_type(v->type))
		*out = (float)v->num.i;
	else if (is_int_type(v->type))
		*out = (float)v->num.u;
	else
		return wrong_type(g, key, v, "a number", e);
	return 0;
}

int
gguf_get_bool(const struct gguf *g, const char *key, int *out,
    struct err *e)
{
	const struct gguf_value *v;
	int rc;

	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (v->type != GGUF_TYPE_BOOL && !is_int_type(v->type))
		return wrong_type(g, key, v, "bool", e);
	*out = v->num.u != 0;
	return 0;
}

int
gguf_get_strdup(const struct gguf *g, const char *key, char **out,
    struct err *e)
{
	const struct gguf_value *v;
	int rc;

	*out = NULL;
	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (v->type != GGUF_TYPE_STRING)
		return wrong_type(g, key, v, "str", e);
	*out = malloc((size_t)v->str.len + 1);
	if (*out == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", g->path);
	memcpy(*out, v->str.s, (size_t)v->str.len);
	(*out)[v->str.len] = '\0';
	return 0;
}

int
gguf_get_str_arr(const struct gguf *g, const char *key,
    const struct gguf_str **strs, uint64_t *n, struct err *e)
{
	const struct gguf_value *v;
	int rc;

	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (v->type != GGUF_TYPE_ARRAY || v->elem_type != GGUF_TYPE_STRING)
		return err_set(e, ERR_FORMAT, "%s: metadata key '%s' is not an "
		    "array of strings", g->path, key);
	*strs = v->strs;
	*n = v->n;
	return 0;
}

int
gguf_get_arr(const struct gguf *g, const char *key, int *elem_type,
    const void **raw, uint64_t *n, struct err *e)
{
	const struct gguf_value *v;
	int rc;

	if ((v = lookup(g, key, e, &rc)) == NULL)
		return rc;
	if (v->type != GGUF_TYPE_ARRAY || (v->raw == NULL && v->n != 0) ||
	    v->elem_type == GGUF_TYPE_STRING ||
	    v->elem_type == GGUF_TYPE_ARRAY)
		return err_set(e, ERR_FORMAT, "%s: metadata key '%s' is not a "
		    "numeric array", g->path, key);
	*elem_type = v->elem_type;
	*raw = v->raw;
	*n = v->n;
	return 0;
}

static uint64_t
raw_elem(const struct gguf_value *v, uint64_t i)
{
	size_t sz = gguf_type_size(v->elem_type);
	const uint8_t *p;
	uint64_t r = 0;
	size_t k;

	if (v->raw == NULL || i >= v->n)
		return 0;
	p = (const uint8_t *)v->raw + i * sz;

	for (k = sz; k-- > 0;)
		r = (r << 8) | p[k];
	return r;
}

double
gguf_arr_f64(const struct gguf_value *v, uint64_t i)
{
	union { uint32_t u; float f; } f32;
	union { uint64_t u; double f; } f64;

	switch (v->elem_type) {
	case GGUF_TYPE_FLOAT32:
		f32.u = (uint32_t)raw_elem(v, i);
		return f32.f;
	case GGUF_TYPE_FLOAT64:
		f64.u = raw_elem(v, i);
		return f64.f;
	}
	return (double)gguf_arr_i64(v, i);
}

int64_t
gguf_arr_i64(const struct gguf_value *v, uint64_t i)
{
	uint64_t r = raw_elem(v, i);
	double d;

	switch (v->elem_type) {
	case GGUF_TYPE_INT8: return (int8_t)r;
	case GGUF_TYPE_INT16: return (int16_t)r;
	case GGUF_TYPE_INT32: return (int32_t)r;
	case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64:
		/* saturate: a file's NaN or 1e300 must not be undefined */
		d = gguf_arr_f64(v, i);
		if (d != d)
			return 0;
		if (d >= 9223372036854775807.0)
			return INT64_MAX;
		if (d <= -9223372036854775808.0)
			return INT64_MIN;
		return (int64_t)d;
	}
	return (int64_t)r;
}

const struct gguf_tensor *
gguf_find_tensor(const struct gguf *g, const char *name)
{
	uint64_t i;

	for (i = 0; i < g->n_tensors; i++)
		if (strcmp(g->tensors[i].name, name) == 0)
			return &g->tensors[i];
	return NULL;
}

uint64_t
gguf_tensor_nelem(const struct gguf_tensor *t)
{
	return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}
