/*
 * formats-gguf.c - GGUF reader.
 *
 * The whole file is mmap'd and parsed with a bounds-checked cursor: every
 * read first checks that the bytes are there, every count is checked
 * against the bytes left before anything is allocated for it, and every
 * tensor's offset, size and alignment is checked against the data section
 * (overflow-safe) and against the other tensors (no overlaps). Keys and
 * tensor names must be valid UTF-8 and unique. Values stay in the map;
 * only the tables of keys and tensors are allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "quant/quant-common.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_MAX_NEST 8		/* arrays of arrays: nesting depth */
#define GGUF_MAX_NAME 4096	/* longest key or tensor name */

struct cursor {
	const uint8_t	*p;
	uint64_t	 size, pos;
	const char	*name;
	struct err	*e;
};

static int
need(struct cursor *c, uint64_t n, const char *what)
{
	if (n > c->size - c->pos)
		return err_set(c->e, ERR_FORMAT,
		    "%s: truncated: %s needs %llu bytes at offset %llu, file "
		    "has %llu", c->name, what, (unsigned long long)n,
		    (unsigned long long)c->pos, (unsigned long long)c->size);
	return 0;
}

static uint64_t
rd_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int
rd_u32(struct cursor *c, uint32_t *v, const char *what)
{
	int rc;

	if ((rc = need(c, 4, what)) != 0)
		return rc;
	*v = (uint32_t)rd_le(c->p + c->pos, 4);
	c->pos += 4;
	return 0;
}

static int
rd_u64(struct cursor *c, uint64_t *v, const char *what)
{
	int rc;

	if ((rc = need(c, 8, what)) != 0)
		return rc;
	*v = rd_le(c->p + c->pos, 8);
	c->pos += 8;
	return 0;
}

static int
rd_str(struct cursor *c, struct gguf_str *s, const char *what)
{
	uint64_t len;
	int rc;

	if ((rc = rd_u64(c, &len, what)) != 0)
		return rc;
	if ((rc = need(c, len, what)) != 0)
		return rc;
	s->s = (const char *)c->p + c->pos;
	s->len = len;
	c->pos += len;
	return 0;
}

size_t
gguf_type_size(int type)
{
	switch (type) {
	case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL:
		return 1;
	case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16:
		return 2;
	case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32:
		return 4;
	case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64:
		return 8;
	}
	return 0;
}

const char *
gguf_type_name(int type)
{
	static const char *names[GGUF_TYPE_COUNT] = {
		"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
		"str", "arr", "u64", "i64", "f64"
	};

	if (type < 0 || type >= GGUF_TYPE_COUNT)
		return "?";
	return names[type];
}

static void
scalar_decode(struct gguf_value *v, const uint8_t *p)
{
	union { uint32_t u; float f; } f32;
	union { uint64_t u; double f; } f64;
	uint64_t raw = rd_le(p, (int)gguf_type_size(v->type));

	switch (v->type) {
	case GGUF_TYPE_INT8: v->num.i = (int8_t)raw; break;
	case GGUF_TYPE_INT16: v->num.i = (int16_t)raw; break;
	case GGUF_TYPE_INT32: v->num.i = (int32_t)raw; break;
	case GGUF_TYPE_INT64: v->num.i = (int64_t)raw; break;
	case GGUF_TYPE_FLOAT32: f32.u = (uint32_t)raw; v->num.f = f32.f; break;
	case GGUF_TYPE_FLOAT64: f64.u = raw; v->num.f = f64.f; break;
	default: v->num.u = raw; break;
	}
}

static void
value_free(struct gguf_value *v)
{
	uint64_t i;

	free(v->strs);
	if (v->elems != NULL) {
		for (i = 0; i < v->n; i++)
			value_free(&v->elems[i]);
		free(v->elems);
	}
	v->strs = NULL;
	v->elems = NULL;
}

static int
rd_value(struct cursor *c, struct gguf_value *v, int type, int depth,
    const char *key)
{
	uint32_t et;
	uint64_t n, i, bytes;
	size_t esz;
	int rc;

	memset(v, 0, sizeof *v);
	v->type = type;
	if (type < 0 || type >= GGUF_TYPE_COUNT)
		return err_set(c->e, ERR_FORMAT, "%s: key '%s': unknown value "
		    "type %d", c->name, key, type);
	if (type == GGUF_TYPE_STRING)
		return rd_str(c, &v->str, key);
	if (type != GGUF_TYPE_ARRAY) {
		esz = gguf_type_size(type);
		if ((rc = need(c, esz, key)) != 0)
			return rc;
		scalar_decode(v, c->p + c->pos);
		if (type == GGUF_TYPE_BOOL && v->num.u > 1)
			return err_set(c->e, ERR_FORMAT, "%s: key '%s': bool "
			    "value %llu", c->name, key,
			    (unsigned long long)v->num.u);
		c->pos += esz;
		return 0;
	}
	if (depth >= GGUF_MAX_NEST)
		return err_set(c->e, ERR_FORMAT, "%s: key '%s': arrays nested "
		    "deeper than %d", c->name, key, GGUF_MAX_NEST);
	if ((rc = rd_u32(c, &et, key)) != 0 || (rc = rd_u64(c, &n, key)) != 0)
		return rc;
	if (et >= GGUF_TYPE_COUNT)
		return err_set(c->e, ERR_FORMAT, "%s: key '%s': unknown array "
		    "element type %u", c->name, key, et);
	v->elem_type = (int)et;
	v->n = n;
	if (et == GGUF_TYPE_STRING) {
		/* each string takes at least its 8-byte length */
		if (n > (c->size - c->pos) / 8)
			return err_set(c->e, ERR_FORMAT, "%s: key '%s': array "
			    "of %llu strings exceeds the file", c->name, key,
			    (unsigned long long)n);
		v->strs = malloc((n ? n : 1) * sizeof *v->strs);
		if (v->strs == NULL)
			return err_set(c->e, ERR_NOMEM, "%s: out of memory",
			    c->name);
		for (i = 0; i < n; i++)
			if ((rc = rd_str(c, &v->strs[i], key)) != 0)
				return rc;
		return 0;
	}
	if (et == GGUF_TYPE_ARRAY) {
		/* each nested array takes at least 12 bytes */
		if (n > (c->size - c->pos) / 12)
			return err_set(c->e, ERR_FORMAT, "%s: key '%s': array "
			    "of %llu arrays exceeds the file", c->name, key,
			    (unsigned long long)n);
		v->elems = calloc(n ? n : 1, sizeof *v->elems);
		if (v->elems == NULL)
			return err_set(c->e, ERR_NOMEM, "%s: out of memory",
			    c->name);
		for (i = 0; i < n; i++)
			if ((rc = rd_value(c, &v->elems[i], GGUF_TYPE_ARRAY,
			    depth + 1, key)) != 0)
				return rc;
		return 0;
	}
	if (util_mul64(n, gguf_type_size((int)et), &bytes) != 0)
		return err_set(c->e, ERR_FORMAT, "%s: key '%s': array size "
		    "overflows", c->name, key);
	if ((rc = need(c, bytes, key)) != 0)
		return rc;
	v->raw = c->p + c->pos;
	c->pos += bytes;
	if (et == GGUF_TYPE_BOOL)
		for (i = 0; i < n; i++)
			if (((const uint8_t *)v->raw)[i] > 1)
				return err_set(c->e, ERR_FORMAT, "%s: key "
				    "'%s': bool element %llu is not 0 or 1",
				    c->name, key, (unsigned long long)i);
	return 0;
}

/* A NUL-terminated copy of a name that must be valid UTF-8, non-empty. */
static int
name_dup(struct cursor *c, const struct gguf_str *s, const char *what,
    char **out)
{
	if (s->len == 0 || s->len > GGUF_MAX_NAME)
		return err_set(c->e, ERR_FORMAT, "%s: %s of length %llu at "
		    "offset %llu", c->name, what, (unsigned long long)s->len,
		    (unsigned long long)c->pos);
	if (!util_utf8_valid(s->s, (size_t)s->len) ||
	    memchr(s->s, '\0', (size_t)s->len) != NULL)
		return err_set(c->e, ERR_FORMAT, "%s: %s at offset %llu is "
		    "not valid UTF-8", c->name, what,
		    (unsigned long long)c->pos);
	*out = malloc((size_t)s->len + 1);
	if (*out == NULL)
		return err_set(c->e, ERR_NOMEM, "%s: out of memory", c->name);
	memcpy(*out, s->s, (size_t)s->len);
	(*out)[s->len] = '\0';
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reject duplicate names in a list of n strings. */
static int
check_unique(struct cursor *c, char **names, uint64_t n, const char *what)
{
	char **s;
	uint64_t i;

	if (n < 2)
		return 0;
	s = malloc(n * sizeof *s);
	if (s == NULL)
		return err_set(c->e, ERR_NOMEM, "%s: out of memory", c->name);
	memcpy(s, names, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_name);
	for (i = 1; i < n; i++)
		if (strcmp(s[i - 1], s[i]) == 0) {
			err_set(c->e, ERR_FORMAT, "%s: duplicate %s '%s'",
			    c->name, what, s[i]);
			free(s);
			return ERR_FORMAT;
		}
	free(s);
	return 0;
}

static int
cmp_offset(const void *a, const void *b)
{
	const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
	const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int
check_tensors(struct cursor *c, struct gguf *g)
{
	const struct gguf_tensor **s;
	char **names;
	uint64_t i;
	int rc = 0;

	if (g->n_tensors == 0)
		return 0;
	names = malloc(g->n_tensors * sizeof *names);
	s = malloc(g->n_tensors * sizeof *s);
	if (names == NULL || s == NULL) {
		free(names);
		free(s);
		return err_set(c->e, ERR_NOMEM, "%s: out of memory", c->name);
	}
	for (i = 0; i < g->n_tensors; i++) {
		names[i] = g->tensors[i].name;
		s[i] = &g->tensors[i];
	}
	rc = check_unique(c, names, g->n_tensors, "tensor");
	if (rc == 0) {
		qsort(s, g->n_tensors, sizeof *s, cmp_offset);
		for (i = 1; i < g->n_tensors; i++)
			if (s[i - 1]->offset + s[i - 1]->nbytes >
			    s[i]->offset) {
				rc = err_set(c->e, ERR_FORMAT, "%s: tensors "
				    "'%s' and '%s' overlap", c->name,
				    s[i - 1]->name, s[i]->name);
				break;
			}
	}
	free(names);
	free(s);
	return rc;
}

static int
rd_tensor(struct cursor *c, struct gguf_tensor *t)
{
	const struct quant_type_info *ti;
	struct gguf_str name;
	uint32_t n_dims, type;
	uint64_t rows = 1, nb, off;
	int rc, d;

	if ((rc = rd_str(c, &name, "tensor name")) != 0 ||
	    (rc = name_dup(c, &name, "tensor name", &t->name)) != 0)
		return rc;
	if ((rc = rd_u32(c, &n_dims, t->name)) != 0)
		return rc;
	if (n_dims == 0 || n_dims > GGUF_MAX_DIMS)
		return err_set(c->e, ERR_FORMAT, "%s: tensor '%s': %u "
		    "dimensions (1..%d allowed)", c->name, t->name, n_dims,
		    GGUF_MAX_DIMS);
	t->n_dims = (int)n_dims;
	for (d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (d = 0; d < (int)n_dims; d++) {
		if ((rc = rd_u64(c, &t->ne[d], t->name)) != 0)
			return rc;
		if (t->ne[d] == 0 || t->ne[d] > INT64_MAX)
			return err_set(c->e, ERR_FORMAT, "%s: tensor '%s': "
			    "dimension %d is %llu", c->name, t->name, d,
			    (unsigned long long)t->ne[d]);
	}
	if ((rc = rd_u32(c, &type, t->name)) != 0 ||
	    (rc = rd_u64(c, &off, t->name)) != 0)
		return rc;
	ti = quant_type_info((int)type);
	if (ti == NULL)
		return err_set(c->e, ERR_FORMAT, "%s: tensor '%s': unknown "
		    "type %u", c->name, t->name, type);
	t->type = (int)type;
	if (t->ne[0] % ti->blck != 0)
		return err_set(c->e, ERR_FORMAT, "%s: tensor '%s': row length "
		    "%llu is not a multiple of %s's block size %u", c->name,
		    t->name, (unsigned long long)t->ne[0], ti->name, ti->blck);
	for (d = 1; d < GGUF_MAX_DIMS; d++)
		if (util_mul64(rows, t->ne[d], &rows) != 0)
			goto overflow;
	if (util_mul64(t->ne[0] / ti->blck, ti->size, &nb) != 0 ||
	    util_mul64(nb, rows, &nb) != 0)
		goto overflow;
	t->nbytes = nb;
	t->offset = off;	/* relative for now; made absolute later */
	return 0;
overflow:
	return err_set(c->e, ERR_FORMAT, "%s: tensor '%s': size overflows",
	    c->name, t->name);
}

static int
parse(struct gguf *g, struct err *e)
{
	struct cursor c = { g->map.data, g->map.size, 0, g->path, e };
	const struct gguf_value *av;
	uint64_t i, end;
	int rc;

	if ((rc = need(&c, 4, "magic")) != 0)
		return rc;
	if (memcmp(c.p, GGUF_MAGIC, 4) != 0)
		return err_set(e, ERR_FORMAT, "%s: not a GGUF file (bad magic)",
		    g->path);
	c.pos = 4;
	if ((rc = rd_u32(&c, &g->version, "version")) != 0)
		return rc;
	if (g->version != 2 && g->version != 3)
		return err_set(e, ERR_UNSUPPORTED, "%s: GGUF version %u (only "
		    "2 and 3 are supported)", g->path, g->version);
	if ((rc = rd_u64(&c, &g->n_tensors, "tensor count")) != 0 ||
	    (rc = rd_u64(&c, &g->n_kv, "metadata count")) != 0)
		return rc;
	/* a key/value takes at least 8 + 1 + 4 + 1 bytes, a tensor info at
	 * least 8 + 1 + 4 + 8 + 4 + 8 */
	if (g->n_kv > (c.size - c.pos) / 14)
		return err_set(e, ERR_FORMAT, "%s: metadata count %llu exceeds "
		    "the file", g->path, (unsigned long long)g->n_kv);
	if (g->n_tensors > (c.size - c.pos) / 33)
		return err_set(e, ERR_FORMAT, "%s: tensor count %llu exceeds "
		    "the file", g->path, (unsigned long long)g->n_tensors);
	g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
	g->tensors = calloc(g->n_tensors ? g->n_tensors : 1,
	    sizeof *g->tensors);
	if (g->kv == NULL || g->tensors == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", g->path);
	for (i = 0; i < g->n_kv; i++) {
		struct gguf_str key;
		uint32_t type;

		if ((rc = rd_str(&c, &key, "metadata key")) != 0 ||
		    (rc = name_dup(&c, &key, "metadata key", &g->kv[i].key))
		    != 0)
			return rc;
		if ((rc = rd_u32(&c, &type, g->kv[i].key)) != 0 ||
		    (rc = rd_value(&c, &g->kv[i].v, (int)type, 0,
		    g->kv[i].key)) != 0)
			return rc;
	}
	{
		char **keys = malloc((g->n_kv ? g->n_kv : 1) * sizeof *keys);

		if (keys == NULL)
			return err_set(e, ERR_NOMEM, "%s: out of memory",
			    g->path);
		for (i = 0; i < g->n_kv; i++)
			keys[i] = g->kv[i].key;
		rc = check_unique(&c, keys, g->n_kv, "metadata key");
		free(keys);
		if (rc != 0)
			return rc;
	}
	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	if ((av = gguf_get(g, "general.alignment")) != NULL) {
		if (av->type != GGUF_TYPE_UINT32)
			return err_set(e, ERR_FORMAT, "%s: general.alignment "
			    "has type %s, want u32", g->path,
			    gguf_type_name(av->type));
		if (av->num.u == 0 || (av->num.u & (av->num.u - 1)) != 0)
			return err_set(e, ERR_FORMAT, "%s: general.alignment "
			    "%llu is not a power of two", g->path,
			    (unsigned long long)av->num.u);
		g->alignment = (uint32_t)av->num.u;
	}
	for (i = 0; i < g->n_tensors; i++)
		if ((rc = rd_tensor(&c, &g->tensors[i])) != 0)
			return rc;
	if (util_align_up(c.pos, g->alignment, &g->data_offset) != 0)
		return err_set(e, ERR_FORMAT, "%s: data offset overflows",
		    g->path);
	for (i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];

		if (t->offset % g->alignment != 0)
			return err_set(e, ERR_FORMAT, "%s: tensor '%s': offset "
			    "%llu is not a multiple of the alignment %u",
			    g->path, t->name, (unsigned long long)t->offset,
			    g->alignment);
		if (util_add64(t->offset, g->data_offset, &t->offset) != 0 ||
		    util_add64(t->offset, t->nbytes, &end) != 0 ||
		    end > c.size)
			return err_set(e, ERR_FORMAT, "%s: tensor '%s': data "
			    "(%llu bytes) extends past the end of the file "
			    "(%llu bytes)", g->path, t->name,
			    (unsigned long long)t->nbytes,
			    (unsigned long long)c.size);
		t->data = c.p + t->offset;
	}
	return check_tensors(&c, g);
}

static int
open_common(struct gguf *g, struct err *e)
{
	int rc = parse(g, e);

	if (rc != 0 && e != NULL && e->code == 0)
		err_set(e, rc, "%s: cannot parse", g->path);
	return rc;
}

int
gguf_open(struct gguf **out, const char *path, struct err *e)
{
	struct gguf *g;
	int rc;

	*out = NULL;
	g = calloc(1, sizeof *g);
	if (g == NULL || (g->path = strdup(path)) == NULL) {
		free(g);
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	}
	g->map.fd = -1;
	if ((rc = util_map_open(&g->map, path, e)) != 0) {
		gguf_close(g);
		return rc;
	}
	if ((rc = open_common(g, e)) != 0) {
		gguf_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

int
gguf_open_mem(struct gguf **out, const void *buf, size_t len,
    const char *name, struct err *e)
{
	struct gguf *g;
	int rc;

	*out = NULL;
	g = calloc(1, sizeof *g);
	if (g == NULL || (g->path = strdup(name)) == NULL) {
		free(g);
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	}
	g->map.fd = -2;		/* not ours to unmap */
	g->map.data = (void *)(uintptr_t)buf;
	g->map.size = len;
	if ((rc = open_common(g, e)) != 0) {
		gguf_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

void
gguf_close(struct gguf *g)
{
	uint64_t i;

	if (g == NULL)
		return;
	if (g->kv != NULL)
		for (i = 0; i < g->n_kv; i++) {
			free(g->kv[i].key);
			value_free(&g->kv[i].v);
		}
	if (g->tensors != NULL)
		for (i = 0; i < g->n_tensors; i++)
			free(g->tensors[i].name);
	free(g->kv);
	free(g->tensors);
	if (g->map.fd != -2)
		util_map_close(&g->map);
	free(g->path);
	free(g);
}
