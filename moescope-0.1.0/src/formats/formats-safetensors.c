/*
 * formats-safetensors.c - safetensors reader, single files and sharded
 * checkpoints.
 *
 * Each file is mmap'd. The 8-byte header length is checked against the
 * file size before the JSON header is handed to jansson (which rejects
 * invalid UTF-8 and, with JSON_REJECT_DUPLICATES, repeated names). Every
 * tensor entry is checked: a known dtype, a shape whose element count
 * times the dtype size does not overflow and equals end - begin, and
 * begin <= end <= the size of the data section. The tensors of a file
 * are then sorted by offset to reject overlaps. Tensors are views into
 * the map, never copied.
 *
 * A sharded checkpoint is read through model.safetensors.index.json:
 * each distinct shard named in weight_map is opened (plain file names in
 * the index's folder only), all tensors are merged into one table sorted
 * by name (a name in two shards is an error), and every weight_map entry
 * must be held by the shard it names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "formats/formats.h"

#define ST_MAX_HEADER (100u * 1000 * 1000)	/* as the reference crate */
#define ST_MAX_SHARDS 100000

static const struct {
	const char	*name;
	size_t		 size;
} dtypes[ST_DTYPE_COUNT] = {
	[ST_BOOL] = { "BOOL", 1 },	[ST_U8] = { "U8", 1 },
	[ST_I8] = { "I8", 1 },		[ST_F8_E5M2] = { "F8_E5M2", 1 },
	[ST_F8_E4M3] = { "F8_E4M3", 1 }, [ST_F8_E8M0] = { "F8_E8M0", 1 },
	[ST_I16] = { "I16", 2 },	[ST_U16] = { "U16", 2 },
	[ST_F16] = { "F16", 2 },	[ST_BF16] = { "BF16", 2 },
	[ST_I32] = { "I32", 4 },	[ST_U32] = { "U32", 4 },
	[ST_F32] = { "F32", 4 },	[ST_I64] = { "I64", 8 },
	[ST_U64] = { "U64", 8 },	[ST_F64] = { "F64", 8 },
};

const char *
safetensors_dtype_name(int dtype)
{
	if (dtype < 0 || dtype >= ST_DTYPE_COUNT)
		return "?";
	return dtypes[dtype].name;
}

size_t
safetensors_dtype_size(int dtype)
{
	if (dtype < 0 || dtype >= ST_DTYPE_COUNT)
		return 0;
	return dtypes[dtype].size;
}

static int
dtype_from_name(const char *s)
{
	int i;

	for (i = 0; i < ST_DTYPE_COUNT; i++)
		if (strcmp(dtypes[i].name, s) == 0)
			return i;
	return -1;
}

uint64_t
safetensors_nelem(const struct st_tensor *t)
{
	uint64_t n = 1;
	int d;

	for (d = 0; d < t->n_dims; d++)
		n *= t->shape[d];	/* checked at open */
	return n;
}

void
safetensors_close(struct safetensors *st)
{
	uint64_t i;
	int f;

	if (st == NULL)
		return;
	for (i = 0; i < st->n_tensors; i++)
		free(st->tensors[i].name);
	free(st->tensors);
	for (i = 0; i < st->n_meta; i++) {
		free(st->meta_keys[i]);
		free(st->meta_vals[i]);
	}
	free(st->meta_keys);
	free(st->meta_vals);
	for (f = 0; f < st->n_files; f++) {
		if (st->files[f].map.fd != -2)
			util_map_close(&st->files[f].map);
		free(st->files[f].path);
	}
	free(st->files);
	free(st->path);
	free(st);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct st_tensor *)a)->name,
	    ((const struct st_tensor *)b)->name);
}

static int
cmp_offset(const void *a, const void *b)
{
	const struct st_tensor *x = *(const struct st_tensor *const *)a;
	const struct st_tensor *y = *(const struct st_tensor *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

const struct st_tensor *
safetensors_find(const struct safetensors *st, const char *name)
{
	struct st_tensor key;

	if (st->n_tensors == 0)
		return NULL;
	key.name = (char *)(uintptr_t)name;
	return bsearch(&key, st->tensors, st->n_tensors, sizeof key,
	    cmp_name);
}

const char *
safetensors_meta(const struct safetensors *st, const char *key)
{
	uint64_t i;

	for (i = 0; i < st->n_meta; i++)
		if (strcmp(st->meta_keys[i], key) == 0)
			return st->meta_vals[i];
	return NULL;
}

/* A JSON value as a non-negative integer. */
static int
json_u64(const json_t *j, uint64_t *out)
{
	json_int_t v;

	if (!json_is_integer(j) || (v = json_integer_value(j)) < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int
parse_meta(struct safetensors *st, const char *name, json_t *meta,
    struct err *e)
{
	const char *k;
	json_t *v;
	size_t n = json_object_size(meta), i = 0;

	if (!json_is_object(meta))
		return err_set(e, ERR_FORMAT, "%s: __metadata__ is not an "
		    "object", name);
	st->meta_keys = calloc(n ? n : 1, sizeof *st->meta_keys);
	st->meta_vals = calloc(n ? n : 1, sizeof *st->meta_vals);
	if (st->meta_keys == NULL || st->meta_vals == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	json_object_foreach(meta, k, v) {
		if (!json_is_string(v))
			return err_set(e, ERR_FORMAT, "%s: __metadata__ value "
			    "of '%s' is not a string", name, k);
		st->meta_keys[i] = strdup(k);
		st->meta_vals[i] = strdup(json_string_value(v));
		st->n_meta = ++i;
		if (st->meta_keys[i - 1] == NULL ||
		    st->meta_vals[i - 1] == NULL)
			return err_set(e, ERR_NOMEM, "%s: out of memory",
			    name);
	}
	return 0;
}

/* Check and fill one tensor entry of file fi. */
static int
parse_tensor(struct st_tensor *t, const char *name, const char *tname,
    json_t *o, uint64_t data_size, struct err *e)
{
	json_t *dt, *shape, *offs, *x;
	uint64_t begin, end, n = 1, nb;
	size_t d;

	if (tname[0] == '\0')
		return err_set(e, ERR_FORMAT, "%s: tensor with an empty name",
		    name);
	if (!json_is_object(o))
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': entry is not "
		    "an object", name, tname);
	dt = json_object_get(o, "dtype");
	shape = json_object_get(o, "shape");
	offs = json_object_get(o, "data_offsets");
	if (!json_is_string(dt))
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': dtype missing "
		    "or not a string", name, tname);
	if ((t->dtype = dtype_from_name(json_string_value(dt))) < 0)
		return err_set(e, ERR_UNSUPPORTED, "%s: tensor '%s': unknown "
		    "dtype '%s'", name, tname, json_string_value(dt));
	if (!json_is_array(shape))
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': shape missing "
		    "or not an array", name, tname);
	if (json_array_size(shape) > ST_MAX_DIMS)
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': %zu dimensions "
		    "(at most %d)", name, tname, json_array_size(shape),
		    ST_MAX_DIMS);
	t->n_dims = (int)json_array_size(shape);
	json_array_foreach(shape, d, x) {
		if (json_u64(x, &t->shape[d]) != 0)
			return err_set(e, ERR_FORMAT, "%s: tensor '%s': shape "
			    "element %zu is not a non-negative integer", name,
			    tname, d);
		if (util_mul64(n, t->shape[d], &n) != 0)
			return err_set(e, ERR_FORMAT, "%s: tensor '%s': shape "
			    "overflows", name, tname);
	}
	if (util_mul64(n, dtypes[t->dtype].size, &nb) != 0)
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': size "
		    "overflows", name, tname);
	if (!json_is_array(offs) || json_array_size(offs) != 2 ||
	    json_u64(json_array_get(offs, 0), &begin) != 0 ||
	    json_u64(json_array_get(offs, 1), &end) != 0)
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': data_offsets "
		    "is not [begin, end]", name, tname);
	if (begin > end)
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': data_offsets "
		    "[%llu, %llu] end before they begin", name, tname,
		    (unsigned long long)begin, (unsigned long long)end);
	if (end > data_size)
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': data_offsets "
		    "[%llu, %llu] extend past the data section (%llu bytes)",
		    name, tname, (unsigned long long)begin,
		    (unsigned long long)end, (unsigned long long)data_size);
	if (end - begin != nb)
		return err_set(e, ERR_FORMAT, "%s: tensor '%s': data_offsets "
		    "[%llu, %llu] hold %llu bytes, but %s x shape needs %llu",
		    name, tname, (unsigned long long)begin,
		    (unsigned long long)end,
		    (unsigned long long)(end - begin), dtypes[t->dtype].name,
		    (unsigned long long)nb);
	t->offset = begin;	/* relative for now */
	t->nbytes = nb;
	if ((t->name = strdup(tname)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	return 0;
}

static int
grow_tensors(struct safetensors *st, uint64_t more, const char *name,
    struct err *e)
{
	struct st_tensor *t;
	uint64_t n;

	if (util_add64(st->n_tensors, more, &n) != 0 ||
	    n > SIZE_MAX / sizeof *t)
		return err_set(e, ERR_NOMEM, "%s: too many tensors", name);
	t = realloc(st->tensors, (n ? n : 1) * sizeof *t);
	if (t == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	st->tensors = t;
	return 0;
}

/* Reject overlapping tensors among t[0..n). */
static int
check_overlaps(struct st_tensor *t, uint64_t n, const char *name,
    struct err *e)
{
	const struct st_tensor **s;
	uint64_t i;
	int rc = 0;

	if (n < 2)
		return 0;
	if ((s = malloc(n * sizeof *s)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	for (i = 0; i < n; i++)
		s[i] = &t[i];
	qsort(s, n, sizeof *s, cmp_offset);
	for (i = 1; i < n; i++)
		if (s[i]->nbytes > 0 &&
		    s[i - 1]->offset + s[i - 1]->nbytes > s[i]->offset) {
			rc = err_set(e, ERR_FORMAT, "%s: tensors '%s' and '%s' "
			    "overlap", name, s[i - 1]->name, s[i]->name);
			break;
		}
	free(s);
	return rc;
}

/* Parse file fi (already mapped or in memory) and append its tensors. */
static int
parse_file(struct safetensors *st, int fi, struct err *e)
{
	struct st_file *f = &st->files[fi];
	const uint8_t *p = f->map.data;
	uint64_t size = f->map.size, hlen = 0, data_size, first;
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	int rc = 0, i;

	if (size < 8)
		return err_set(e, ERR_FORMAT, "%s: truncated: %llu bytes, the "
		    "header length alone needs 8", f->path,
		    (unsigned long long)size);
	for (i = 7; i >= 0; i--)
		hlen = (hlen << 8) | p[i];
	if (hlen > size - 8)
		return err_set(e, ERR_FORMAT, "%s: header length %llu exceeds "
		    "the file (%llu bytes)", f->path, (unsigned long long)hlen,
		    (unsigned long long)size);
	if (hlen > ST_MAX_HEADER)
		return err_set(e, ERR_FORMAT, "%s: header length %llu is over "
		    "the %u limit", f->path, (unsigned long long)hlen,
		    ST_MAX_HEADER);
	if (hlen < 2 || p[8] != '{')
		return err_set(e, ERR_FORMAT, "%s: not a safetensors file "
		    "(header does not start with '{')", f->path);
	f->data_offset = 8 + hlen;
	data_size = size - f->data_offset;
	root = json_loadb((const char *)p + 8, (size_t)hlen,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return err_set(e, ERR_FORMAT, "%s: header JSON at byte %d: %s",
		    f->path, jerr.position + 8, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_FORMAT, "%s: header is not a JSON "
		    "object", f->path);
	}
	first = st->n_tensors;
	if ((rc = grow_tensors(st, json_object_size(root), f->path, e)) != 0)
		goto out;
	json_object_foreach(root, k, v) {
		struct st_tensor *t;

		if (strcmp(k, "__metadata__") == 0) {
			if (fi == 0 && st->n_meta == 0 &&
			    (rc = parse_meta(st, f->path, v, e)) != 0)
				goto out;
			continue;
		}
		t = &st->tensors[st->n_tensors];
		memset(t, 0, sizeof *t);
		if ((rc = parse_tensor(t, f->path, k, v, data_size, e)) != 0)
			goto out;
		t->file = fi;
		t->offset += f->data_offset;
		t->data = p + t->offset;
		st->n_tensors++;
	}
	rc = check_overlaps(st->tensors + first, st->n_tensors - first,
	    f->path, e);
out:
	json_decref(root);
	return rc;
}

/* Sort by name and reject duplicates (across shards). */
static int
finish_table(struct safetensors *st, struct err *e)
{
	uint64_t i;

	if (st->n_tensors > 1)
		qsort(st->tensors, st->n_tensors, sizeof *st->tensors,
		    cmp_name);
	for (i = 1; i < st->n_tensors; i++)
		if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0)
			return err_set(e, ERR_FORMAT, "%s: tensor '%s' is in "
			    "both %s and %s", st->path, st->tensors[i].name,
			    st->files[st->tensors[i - 1].file].path,
			    st->files[st->tensors[i].file].path);
	return 0;
}

static struct safetensors *
st_new(const char *path, int n_files)
{
	struct safetensors *st = calloc(1, sizeof *st);
	int f;

	if (st == NULL)
		return NULL;
	st->files = calloc((size_t)n_files, sizeof *st->files);
	st->path = strdup(path);
	if (st->files == NULL || st->path == NULL) {
		free(st->files);
		free(st->path);
		free(st);
		return NULL;
	}
	for (f = 0; f < n_files; f++)
		st->files[f].map.fd = -2;	/* nothing mapped yet */
	st->n_files = n_files;
	return st;
}

int
safetensors_open_mem(struct safetensors **out, const void *buf, size_t len,
    const char *name, struct err *e)
{
	struct safetensors *st;
	int rc;

	*out = NULL;
	if ((st = st_new(name, 1)) == NULL ||
	    (st->files[0].path = strdup(name)) == NULL) {
		safetensors_close(st);
		return err_set(e, ERR_NOMEM, "%s: out of memory", name);
	}
	st->files[0].map.data = (void *)(uintptr_t)buf;
	st->files[0].map.size = len;
	if ((rc = parse_file(st, 0, e)) != 0 ||
	    (rc = finish_table(st, e)) != 0) {
		safetensors_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

static int
map_file(struct st_file *f, const char *path, struct err *e)
{
	int rc;

	if ((f->path = strdup(path)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	f->map.fd = -1;
	if ((rc = util_map_open(&f->map, path, e)) != 0)
		f->map.fd = -2;
	return rc;
}

static int
open_single(struct safetensors **out, const char *path, struct err *e)
{
	struct safetensors *st;
	int rc;

	if ((st = st_new(path, 1)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	if ((rc = map_file(&st->files[0], path, e)) != 0 ||
	    (rc = parse_file(st, 0, e)) != 0 ||
	    (rc = finish_table(st, e)) != 0) {
		safetensors_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

/* The folder part of path ("." when none), malloc'd. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	if ((d = malloc((size_t)(slash - path) + 1)) == NULL)
		return NULL;
	memcpy(d, path, (size_t)(slash - path));
	d[slash - path] = '\0';
	return d;
}

static int
shard_name_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

static int
open_index(struct safetensors **out, const char *path, struct err *e)
{
	struct safetensors *st = NULL;
	json_error_t jerr;
	json_t *root = NULL, *wm, *v;
	const char **shards = NULL, *k;
	char *text = NULL, *dir = NULL, *sp = NULL;
	size_t len, n_shards = 0, i;
	int rc = 0;

	if ((rc = util_read_file(path, &text, &len, e)) != 0)
		return rc;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		rc = err_set(e, ERR_FORMAT, "%s: JSON at line %d column %d: "
		    "%s", path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	wm = json_object_get(root, "weight_map");
	if (!json_is_object(wm) || json_object_size(wm) == 0) {
		rc = err_set(e, ERR_FORMAT, "%s: weight_map missing, empty or "
		    "not an object", path);
		goto out;
	}
	shards = calloc(json_object_size(wm), sizeof *shards);
	if (shards == NULL) {
		rc = err_set(e, ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	json_object_foreach(wm, k, v) {
		const char *s = json_string_value(v);

		if (s == NULL || !shard_name_ok(s)) {
			rc = err_set(e, ERR_FORMAT, "%s: weight_map entry '%s' "
			    "is not a plain file name", path, k);
			goto out;
		}
		for (i = 0; i < n_shards; i++)
			if (strcmp(shards[i], s) == 0)
				break;
		if (i == n_shards) {
			if (n_shards == ST_MAX_SHARDS) {
				rc = err_set(e, ERR_FORMAT, "%s: more than %d "
				    "shards", path, ST_MAX_SHARDS);
				goto out;
			}
			shards[n_shards++] = s;
		}
	}
	if ((dir = dir_of(path)) == NULL ||
	    (st = st_new(path, (int)n_shards)) == NULL) {
		rc = err_set(e, ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (i = 0; i < n_shards; i++) {
		size_t n = strlen(dir) + strlen(shards[i]) + 2;

		if ((sp = malloc(n)) == NULL) {
			rc = err_set(e, ERR_NOMEM, "%s: out of memory", path);
			goto out;
		}
		snprintf(sp, n, "%s/%s", dir, shards[i]);
		if ((rc = map_file(&st->files[i], sp, e)) != 0 ||
		    (rc = parse_file(st, (int)i, e)) != 0)
			goto out;
		free(sp);
		sp = NULL;
	}
	if ((rc = finish_table(st, e)) != 0)
		goto out;
	json_object_foreach(wm, k, v) {
		const struct st_tensor *t = safetensors_find(st, k);
		const char *s = json_string_value(v);

		if (t == NULL || strcmp(strrchr(st->files[t->file].path, '/') +
		    1, s) != 0) {
			rc = err_set(e, ERR_FORMAT, "%s: weight_map puts '%s' "
			    "in %s, which does not hold it", path, k, s);
			goto out;
		}
	}
out:
	if (rc != 0) {
		safetensors_close(st);
		st = NULL;
	}
	*out = st;
	free(sp);
	free(dir);
	free(shards);
	json_decref(root);
	free(text);
	return rc;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
safetensors_open(struct safetensors **out, const char *path, struct err *e)
{
	struct stat sb;
	char *p;
	size_t n;
	int rc;

	*out = NULL;
	if (stat(path, &sb) != 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
		    "%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return ends_with(path, ".json") ? open_index(out, path, e) :
		    open_single(out, path, e);
	n = strlen(path) + 40;
	if ((p = malloc(n)) == NULL)
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	snprintf(p, n, "%s/model.safetensors.index.json", path);
	if (stat(p, &sb) == 0)
		rc = open_index(out, p, e);
	else {
		snprintf(p, n, "%s/model.safetensors", path);
		if (stat(p, &sb) == 0)
			rc = open_single(out, p, e);
		else
			rc = err_set(e, ERR_NOTFOUND, "%s: no "
			    "model.safetensors.index.json or model.safetensors "
			    "in this folder", path);
	}
	free(p);
	return rc;
}
