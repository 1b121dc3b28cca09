/*
 * 301-tokenizer-vectors.c - llama.cpp's tokenizer test vectors: every
 * .inp/.out pair in $FIXTURES/tokenizer must give identical ids (no BOS,
 * special tokens not parsed); decode(encode(text)) must give the text
 * back where the text is valid UTF-8 and nothing maps to <unk>; the six
 * tiny models' prompt must give reference/tokens.json's ids with the
 * model's own BOS handling. Then the held-out texts of
 * t/data/tokenizer-oracle (random mixes of scripts, whitespace, digits,
 * emoji and special-token text) must give the ids llama.cpp v0.5.0 gave
 * for every vocabulary, with and without special-token parsing. Failing
 * cases are listed, never hidden.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "engine/engine-vocab.h"
#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

#define SEP "\n__ggml_vocab_test__\n"

struct vcase {
	const char	*s;
	size_t		 len;
	int32_t		*ids;
	size_t		 n;
};

/* Split .inp per the fixtures README. Returns the number of inputs. */
static size_t
split_inputs(char *buf, size_t len, struct vcase **out)
{
	size_t n = 0, cap = 64, sl = strlen(SEP);
	char *p = buf, *end = buf + len, *m;
	struct vcase *v = calloc(cap, sizeof *v);

	while (p < end) {
		m = memmem(p, (size_t)(end - p), SEP, sl);
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[n].s = p;
		v[n].len = m != NULL ? (size_t)(m - p) : (size_t)(end - p);
		v[n].ids = NULL;
		v[n].n = 0;
		n++;
		if (m == NULL)
			break;
		p = m + sl;
	}
	*out = v;
	return n;
}

/* Parse .out lines into the cases; returns the number of lines. */
static size_t
parse_outputs(char *buf, struct vcase *v, size_t nv)
{
	size_t n = 0;
	char *line = buf, *nl;

	while (*line != '\0') {
		char *p;

		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		if (n < nv) {
			v[n].ids = malloc(strlen(line) * sizeof(int32_t) + 4);
			v[n].n = 0;
			p = line;
			for (;;) {
				char *q;
				long x;

				while (*p == ' ' || *p == '\t' || *p == '\r')
					p++;
				if (*p == '\0')
					break;
				x = strtol(p, &q, 10);
				if (q == p)
					break;
				v[n].ids[v[n].n++] = (int32_t)x;
				p = q;
			}
		}
		n++;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return n;
}

static void
show(const char *what, const int32_t *ids, size_t n)
{
	char buf[1024];
	size_t i, o = 0;

	for (i = 0; i < n && o + 16 < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, " %d",
		    (int)ids[i]);
	diag("    %s:%s%s", what, buf, i < n ? " ..." : "");
}

static void
show_text(const char *s, size_t n)
{
	char buf[200];
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof buf; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\n");
		else if (c == '\t')
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\t");
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	diag("  input \"%s\"%s", buf, i < n ? "..." : "");
}

/* 1 when ids are case c's; else 0, the difference shown. */
static int
check_case(const char *name, size_t i, const struct vcase *c,
    const struct tok_ids *ids)
{
	if (ids->n == c->n && (ids->n == 0 ||
	    memcmp(ids->v, c->ids, ids->n * sizeof(int32_t)) == 0))
		return 1;
	diag("  %s case %zu differs:", name, i);
	show_text(c->s, c->len);
	show("got ", ids->v, ids->n);
	show("want", c->ids, c->n);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compare every case; returns the number identical. */
static size_t
run_cases(struct tok *t, const char *name, struct vcase *v, size_t nin,
    unsigned flags)
{
	size_t i, pass = 0;
	struct err e;

	for (i = 0; i < nin; i++) {
		struct tok_ids ids = { NULL, 0, 0 };

		if (tokenizer_vocab_encode(t, v[i].s, v[i].len, flags, &ids, &e)
		    != 0) {
			diag("  %s case %zu: encode failed: %s", name, i,
			    e.msg);
			continue;
		}
		if (check_case(name, i, &v[i], &ids))
			pass++;
		free(ids.v);
	}
	return pass;
}

/* t/data/tokenizer-oracle: NAME.out (and NAME.special.out) for the
 * vocabulary NAME.gguf among the fixtures. */
static void
oracle(const char *fx, const char *srcdir)
{
	char *inp = NULL;
	size_t li, nin, i;
	struct vcase *v = NULL;
	struct dirent *de;
	struct err e;
	DIR *dir;
	char od[4096], *names[128];
	size_t nn = 0, k;

	snprintf(od, sizeof od, "%s/t/data/tokenizer-oracle", srcdir);
	if (util_read_file(tap_path("%s/texts.inp", od), &inp, &li, &e) != 0) {
		ok(0, "oracle texts: %s", e.msg);
		return;
	}
	nin = split_inputs(inp, li, &v);
	dir = opendir(od);
	while (dir != NULL && (de = readdir(dir)) != NULL && nn < 128) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".out") == 0)
			names[nn++] = strdup(de->d_name);
	}
	if (dir != NULL)
		closedir(dir);
	qsort(names, nn, sizeof names[0], name_cmp);
	ok(nn >= 20, "oracle: %zu expected-id files for %zu texts", nn, nin);
	for (k = 0; k < nn; k++) {
		char base[256], *out = NULL, arch[256];
		int special = strstr(names[k], ".special.out") != NULL;
		struct gguf *g = NULL;
		struct tok *t = NULL;
		size_t lo, pass, nout;
		const char *path;

		snprintf(base, sizeof base, "%s", names[k]);
		*strstr(base, special ? ".special.out" : ".out") = '\0';
		if (strncmp(base, "ggml-vocab-", 11) == 0) {
			path = tap_path("%s/tokenizer/%s.gguf", fx, base);
		} else {
			snprintf(arch, sizeof arch, "%s", base);
			if (strstr(arch, "-f32") != NULL)
				*strstr(arch, "-f32") = '\0';
			path = tap_path("%s/models/%s/%s.gguf", fx, arch, base);
		}
		for (i = 0; i < nin; i++) {
			free(v[i].ids);
			v[i].ids = NULL;
		}
		err_clear(&e);
		if (util_read_file(tap_path("%s/%s", od, names[k]), &out, &lo,
		    &e) != 0 || (nout = parse_outputs(out, v, nin)) != nin ||
		    gguf_open(&g, path, &e) != 0 ||
		    engine_vocab_load(&t, g, &e) != 0) {
			ok(0, "oracle %s: %s", names[k], e.msg);
		} else {
			pass = run_cases(t, base, v, nin, special ?
			    TOK_ENC_PARSE_SPECIAL : 0);
			ok(pass == nin, "oracle %s%s: %zu of %zu as llama.cpp",
			    base, special ? " (parse special)" : "", pass, nin);
		}
		free(out);
		free(names[k]);
		tokenizer_vocab_free(t);
		gguf_close(g);
	}
	for (i = 0; i < nin; i++)
		free(v[i].ids);
	free(v);
	free(inp);
}

static void
vocab_file(const char *dir, const char *name)
{
	char *inp = NULL, *outp = NULL;
	size_t li, lo, nin, nout, i, pass = 0, rt_ok = 0, rt_n = 0;
	struct vcase *v = NULL;
	struct gguf *g = NULL;
	struct tok *t = NULL;
	struct err e;

	err_clear(&e);
	if (util_read_file(tap_path("%s/%s.inp", dir, name), &inp, &li, &e)
	    != 0 || util_read_file(tap_path("%s/%s.out", dir, name), &outp,
	    &lo, &e) != 0) {
		ok(0, "%s: read vectors: %s", name, e.msg);
		goto done;
	}
	nin = split_inputs(inp, li, &v);
	nout = parse_outputs(outp, v, nin);
	if (!ok(nin == nout, "%s: %zu inputs, %zu expected lines", name, nin,
	    nout))
		goto done;
	if (gguf_open(&g, tap_path("%s/%s", dir, name), &e) != 0 ||
	    engine_vocab_load(&t, g, &e) != 0) {
		ok(0, "%s: load: %s", name, e.msg);
		goto done;
	}
	for (i = 0; i < nin; i++) {
		struct tok_ids ids = { NULL, 0, 0 };
		int same;

		if (tokenizer_vocab_encode(t, v[i].s, v[i].len, 0, &ids, &e)
		    != 0) {
			diag("  case %zu: encode failed: %s", i, e.msg);
			continue;
		}
		if ((same = check_case(name, i, &v[i], &ids)))
			pass++;
		/* round trip where the text is representable */
		if (util_utf8_valid(v[i].s, v[i].len)) {
			const struct tok_info *inf = tokenizer_vocab_info(t);
			int has_unk = 0;
			size_t k, dl;
			char *d;

			for (k = 0; k < ids.n; k++)
				has_unk |= inf->unk >= 0 &&
				    ids.v[k] == inf->unk;
			if (!has_unk) {
				rt_n++;
				if (tokenizer_vocab_decode(t, ids.v, ids.n, 0,
				    &d, &dl, &e) == 0 && dl == v[i].len &&
				    memcmp(d, v[i].s, dl) == 0) {
					rt_ok++;
				} else {
					diag("  %s case %zu: round trip "
					    "differs", name, i);
					show_text(v[i].s, v[i].len);
				}
				free(d);
			}
		}
		free(ids.v);
	}
	ok(pass == nin, "%s: %zu of %zu vectors identical", name, pass, nin);
	ok(rt_ok == rt_n, "%s: round trip %zu of %zu", name, rt_ok, rt_n);
done:
	for (i = 0; v != NULL && i < nin; i++)
		free(v[i].ids);
	free(v);
	free(inp);
	free(outp);
	tokenizer_vocab_free(t);
	gguf_close(g);
}

/* "text": "..." and "ids": [...] from tokens.json (plain ASCII text). */
static int
read_tokens_json(const char *path, char *text, size_t tcap, int32_t *ids,
    size_t *n)
{
	char *buf, *p, *q;
	size_t len, k = 0;
	struct err e;

	if (util_read_file(path, &buf, &len, &e) != 0)
		return -1;
	p = strstr(buf, "\"text\"");
	p = p ? strchr(p + 6, '"') : NULL;
	q = p ? strchr(p + 1, '"') : NULL;
	if (q == NULL || (size_t)(q - p - 1) >= tcap) {
		free(buf);
		return -1;
	}
	memcpy(text, p + 1, (size_t)(q - p - 1));
	text[q - p - 1] = '\0';
	p = strstr(buf, "\"ids\"");
	p = p ? strchr(p, '[') : NULL;
	if (p == NULL) {
		free(buf);
		return -1;
	}
	for (p++; *p != ']' && *p != '\0'; ) {
		char *r;
		long x = strtol(p, &r, 10);

		if (r == p) {
			p++;
			continue;
		}
		if (k < 256)
			ids[k++] = (int32_t)x;
		p = r;
	}
	*n = k;
	free(buf);
	return 0;
}

static void
tiny_model(const char *fx, const char *arch)
{
	char text[512];
	int32_t want[256];
	size_t nw = 0;
	struct tok_ids ids = { NULL, 0, 0 };
	struct gguf *g = NULL;
	struct tok *t = NULL;
	struct err e;

	err_clear(&e);
	if (read_tokens_json(tap_path("%s/models/%s/reference/tokens.json", fx,
	    arch), text, sizeof text, want, &nw) != 0) {
		ok(0, "%s: read tokens.json", arch);
		return;
	}
	if (gguf_open(&g, tap_path("%s/models/%s/%s-f32.gguf", fx, arch, arch),
	    &e) != 0 || engine_vocab_load(&t, g, &e) != 0 ||
	    tokenizer_vocab_encode(t, text, strlen(text), TOK_ENC_ADD_SPECIAL,
	    &ids, &e) != 0) {
		ok(0, "%s: %s", arch, e.msg);
	} else if (!ok(ids.n == nw && memcmp(ids.v, want, nw * 4) == 0,
	    "%s: prompt ids as llama.cpp (%zu tokens)", arch, nw)) {
		show("got ", ids.v, ids.n);
		show("want", want, nw);
	}
	free(ids.v);
	tokenizer_vocab_free(t);
	gguf_close(g);
}

int
main(void)
{
	static const char *archs[] = { "mixtral", "qwen2moe", "qwen3moe",
	    "olmoe", "deepseek2", "gpt-oss" };
	const char *fx = tap_fixtures();
	char *names[64];
	size_t nn = 0, i;
	struct dirent *de;
	DIR *dir;

	if (fx == NULL)
		tap_skip_all("no fixtures ($FIXTURES)");
	dir = opendir(tap_path("%s/tokenizer", fx));
	if (dir == NULL)
		tap_skip_all("no tokenizer fixtures");
	while ((de = readdir(dir)) != NULL && nn < 64) {
		size_t l = strlen(de->d_name);

		if (l > 9 && strcmp(de->d_name + l - 9, ".gguf.inp") == 0) {
			names[nn] = strdup(de->d_name);
			names[nn][l - 4] = '\0';
			nn++;
		}
	}
	closedir(dir);
	qsort(names, nn, sizeof names[0], name_cmp);
	ok(nn == 12, "12 vocab files with vectors (found %zu)", nn);
	for (i = 0; i < nn; i++) {
		vocab_file(tap_path("%s/tokenizer", fx), names[i]);
		free(names[i]);
	}
	for (i = 0; i < sizeof archs / sizeof archs[0]; i++)
		tiny_model(fx, archs[i]);
	if (getenv("top_srcdir") != NULL)
		oracle(fx, getenv("top_srcdir"));
	else
		diag("top_srcdir unset: held-out oracle texts not run");
	return tap_done();
}
