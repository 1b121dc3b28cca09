/*
 * convert-vocab.c - tokenizer metadata for the GGUF, as llama.cpp's
 * converter writes it (gguf-py's SpecialVocab included).
 *
 * BPE (tokenizer.json, model.type "BPE"): tokens by id up to the config's
 * vocab_size ("[PADi]" for holes), token types (added tokens CONTROL when
 * special or when they look special like "<|x|>", USER_DEFINED else;
 * the rest NORMAL; holes UNUSED), the merges ("a b"; the newer pair form
 * joined with a space, spaces inside a part written as U+0120), and the
 * pre-tokenizer family recognised from the Split regexes (llama.cpp
 * hashes the full vocabulary's output instead; the name is the same).
 *
 * SentencePiece (tokenizer.model): pieces, scores and types, with
 * added_tokens.json and tokenizer_config.json's added_tokens_decoder
 * applied on top.
 *
 * Then, in SpecialVocab's order: merges, the special token ids (from
 * tokenizer_config.json's *_token entries matched against the added
 * tokens, then config.json's *_token_id; first wins), the add_*_token
 * flags (from the post-processor template and tokenizer_config.json),
 * and the chat template.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "convert/convert-int.h"

enum { TT_NORMAL = 1, TT_UNKNOWN, TT_CONTROL, TT_USER, TT_UNUSED, TT_BYTE };

#define N_TYPES 9
static const char *const sp_types[N_TYPES] = { "bos", "eos", "unk", "sep",
    "pad", "cls", "mask", "eot", "eom" };
static const char *const sp_keys[N_TYPES] = { "bos_token_id",
    "eos_token_id", "unknown_token_id", "seperator_token_id",
    "padding_token_id", "cls_token_id", "mask_token_id", "eot_token_id",
    "eom_token_id" };

struct special {
	int		 n_types;	/* 7, +eot, +eom */
	int		 type_idx[N_TYPES];	/* sp_types index */
	int		 n_ids;
	int		 id_type[N_TYPES];
	int64_t		 id[N_TYPES];
	int		 n_add;
	int		 add_type[N_TYPES];
	int		 add_val[N_TYPES];
	int64_t		 n_vocab;	/* -1: unchecked */
	const char	*override[N_TYPES];	/* tokenizer_config values */
};

static void
sp_init(struct special *sv, int64_t n_vocab)
{
	int i;

	memset(sv, 0, sizeof *sv);
	sv->n_types = 7;
	for (i = 0; i < N_TYPES; i++)
		sv->type_idx[i] = i;
	sv->n_vocab = n_vocab;
}

static void
sp_set_id(struct special *sv, int typ, json_int_t id)
{
	int i;

	if (id < 0 || (sv->n_vocab >= 0 && id >= sv->n_vocab))
		return;
	for (i = 0; i < sv->n_ids; i++)
		if (sv->id_type[i] == typ)
			return;
	sv->id_type[sv->n_ids] = typ;
	sv->id[sv->n_ids++] = id;
}

static void
sp_set_add(struct special *sv, int typ, int v)
{
	int i;

	for (i = 0; i < sv->n_add; i++)
		if (sv->add_type[i] == typ) {
			sv->add_val[i] = v;
			return;
		}
	sv->add_type[sv->n_add] = typ;
	sv->add_val[sv->n_add++] = v;
}

/* A tokenizer_config special token entry: a string or {"content": s}. */
static const char *
tok_content(json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_object(v) && json_is_string(json_object_get(v,
	    "content")))
		return json_string_value(json_object_get(v, "content"));
	return NULL;
}

static const char *
tc_token(const struct special *sv, json_t *tc, int typ)
{
	char key[32];

	if (sv->override[typ] != NULL)
		return sv->override[typ];
	if (tc == NULL)
		return NULL;
	snprintf(key, sizeof key, "%s_token", sp_types[typ]);
	return tok_content(json_object_get(tc, key));
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static const char *
tmpl_special(json_t *item)
{
	json_t *st = json_object_get(item, "SpecialToken");

	return st ? json_string_value(json_object_get(st, "id")) : NULL;
}

static const char *
tmpl_seq(json_t *item)
{
	json_t *sq = json_object_get(item, "Sequence");

	return sq ? json_string_value(json_object_get(sq, "id")) : NULL;
}

/* gguf-py's crude parse of the post-processor's TemplateProcessing. */
static void
sp_post_processor(struct special *sv, json_t *tok, json_t *tc)
{
	json_t *pp = json_object_get(tok, "post_processor"), *list, *proc;
	const char *bos, *eos, *cls, *sep;
	size_t i;

	bos = tc_token(sv, tc, 0);
	cls = tc_token(sv, tc, 5);
	eos = tc_token(sv, tc, 1);
	sep = tc_token(sv, tc, 3);
	if (bos == NULL && cls != NULL && tc != NULL)
		sv->override[0] = bos = cls;
	if (eos == NULL && sep != NULL && tc != NULL)
		sv->override[1] = eos = sep;
	if (!json_is_object(pp))
		return;
	list = json_object_get(pp, "processors");
	for (i = 0; i < (json_is_array(list) ? json_array_size(list) : 1);
	    i++) {
		const char *type, *first = NULL, *last = NULL;
		json_t *single, *pair;
		size_t ns, np, a, z;

		proc = json_is_array(list) ? json_array_get(list, i) : pp;
		type = json_string_value(json_object_get(proc, "type"));
		if (streq(type, "RobertaProcessing")) {
			sp_set_add(sv, 0, 1);
			sp_set_add(sv, 1, 1);
			sp_set_add(sv, 3, 1);
			continue;
		}
		if (!streq(type, "TemplateProcessing"))
			continue;
		single = json_object_get(proc, "single");
		pair = json_object_get(proc, "pair");
		ns = json_array_size(single);
		if (ns > 1) {
			first = tmpl_special(json_array_get(single, 0));
			if (first != NULL) {
				if (tc == NULL)
					bos = first;
				sp_set_add(sv, 0, streq(first, bos) ||
				    streq(first, cls));
			}
			last = tmpl_special(json_array_get(single, ns - 1));
			if (last != NULL) {
				if (tc == NULL)
					eos = last;
				else if (!streq(last, eos)) {
					int t = sv->n_types == 7 ? 7 :
					    sv->n_types == 8 ? 8 : -1;

					if (t > 0) {
						sv->n_types = t + 1;
						sv->override[t] = eos;
					}
					sv->override[1] = eos = last;
				}
				sp_set_add(sv, 1, streq(last, eos));
			}
		}
		np = json_array_size(pair);
		if (np == 0)
			continue;
		a = first != NULL && streq(tmpl_special(json_array_get(pair,
		    0)), first) ? 1 : 0;
		z = last != NULL && streq(tmpl_special(json_array_get(pair,
		    np - 1)), last) ? np - 1 : np;
		if (z <= a)
			continue;
		if (streq(tmpl_seq(json_array_get(pair, a)), "A") &&
		    streq(tmpl_seq(json_array_get(pair, z - 1)), "B") &&
		    z - a > 2) {
			const char *m0 = tmpl_special(json_array_get(pair,
			    a + 1));
			int add_sep = 0;

			if (m0 != NULL && (streq(m0, sep) || streq(m0, eos))
			    && last == NULL)
				add_sep = 1;
			if (z - a - 2 == 2) {
				const char *m1 = tmpl_special(
				    json_array_get(pair, a + 2));

				if (m1 != NULL && (streq(m1, sep) ||
				    streq(m1, eos)))
					add_sep = 1;
			}
			sp_set_add(sv, 3, add_sep);
		}
	}
}

/* tokenizer_config.json's add_*_token flags and *_token entries. */
static void
sp_from_config(struct special *sv, json_t *tc, json_t *added)
{
	char key[32];
	json_t *v, *at;
	const char *c;
	size_t i;
	int t;

	for (t = 0; t < sv->n_types; t++) {
		snprintf(key, sizeof key, "add_%s_token", sp_types[t]);
		v = json_object_get(tc, key);
		if (json_is_boolean(v))
			sp_set_add(sv, t, json_is_true(v));
		if ((c = tc_token(sv, tc, t)) == NULL)
			continue;
		json_array_foreach(added, i, at) {
			if (streq(json_string_value(json_object_get(at,
			    "content")), c)) {
				if (json_is_integer(json_object_get(at, "id")))
					sp_set_id(sv, t, json_integer_value(
					    json_object_get(at, "id")));
				break;
			}
		}
	}
}

static void
sp_from_hfconfig(struct special *sv, const struct hf_config *cfg)
{
	char key[32];
	int64_t v;
	int t;

	for (t = 0; t < sv->n_types; t++) {
		snprintf(key, sizeof key, "%s_token_id", sp_types[t]);
		if (hf_config_get_int(cfg, key, &v, NULL) == 0)
			sp_set_id(sv, t, v);
	}
}

static int
sp_write(const struct special *sv, struct gguf_writer *w, struct err *e)
{
	char key[64];
	int i, rc;

	for (i = 0; i < sv->n_ids; i++) {
		snprintf(key, sizeof key, "tokenizer.ggml.%s",
		    sp_keys[sv->id_type[i]]);
		if ((rc = gguf_writer_set_u32(w, key, (uint32_t)sv->id[i],
		    e)) != 0)
			return rc;
	}
	for (i = 0; i < sv->n_add; i++) {
		int t = sv->add_type[i];

		if (t != 0 && t != 1 && t != 3)
			continue;	/* gguf-py has no writer for it */
		snprintf(key, sizeof key, "tokenizer.ggml.add_%s_token",
		    sp_types[t]);
		if ((rc = gguf_writer_set_bool(w, key, sv->add_val[i], e)) != 0)
			return rc;
	}
	return 0;
}

static int
write_chat_template(struct cv_model *m, json_t *tc, struct gguf_writer *w,
    struct err *e)
{
	json_t *ct = tc ? json_object_get(tc, "chat_template") : NULL, *it;
	char path[4096], *buf = NULL;
	size_t len, i;
	int rc;

	if (json_is_string(ct))
		return gguf_writer_set_strn(w, "tokenizer.chat_template",
		    json_string_value(ct), json_string_length(ct), e);
	if (json_is_array(ct)) {
		const char **names;
		size_t n = 0;

		names = calloc(json_array_size(ct) + 1, sizeof *names);
		if (names == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		json_array_foreach(ct, i, it) {
			const char *nm = json_string_value(json_object_get(it,
			    "name"));
			json_t *tp = json_object_get(it, "template");
			char key[256];

			if (nm == NULL || !json_is_string(tp))
				continue;
			if (strcmp(nm, "default") == 0)
				snprintf(key, sizeof key,
				    "tokenizer.chat_template");
			else {
				snprintf(key, sizeof key,
				    "tokenizer.chat_template.%s", nm);
				names[n++] = nm;
			}
			if ((rc = gguf_writer_set_strn(w, key,
			    json_string_value(tp), json_string_length(tp),
			    e)) != 0) {
				free(names);
				return rc;
			}
		}
		rc = n ? gguf_writer_set_str_arr(w,
		    "tokenizer.chat_templates", names, n, e) : 0;
		free(names);
		return rc;
	}
	/* chat_template.jinja next to the tokenizer */
	snprintf(path, sizeof path, "%s/chat_template.jinja", m->dir);
	if (util_read_file(path, &buf, &len, NULL) == 0) {
		rc = gguf_writer_set_strn(w, "tokenizer.chat_template", buf,
		    len, e);
		free(buf);
		return rc;
	}
	return 0;
}

/* flags: JSON_DECODE_INT_AS_REAL for files that may hold integers
 * beyond 64 bits (tokenizer_config.json's model_max_length). */
static json_t *
load_json(const char *dir, const char *file, int required, size_t flags,
    struct err *e, int *rc)
{
	char path[4096];
	json_error_t je;
	struct stat sb;
	json_t *j;

	*rc = 0;
	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (stat(path, &sb) != 0) {
		if (required)
			*rc = err_set(e, ERR_NOTFOUND, "%s: no such file",
			    path);
		return NULL;
	}
	j = json_load_file(path, JSON_DECODE_ANY | flags, &je);
	if (j == NULL || !json_is_object(j)) {
		*rc = err_set(e, ERR_FORMAT, "%s: line %d: %s", path,
		    je.line, j == NULL ? je.text : "not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* gguf-py's does_token_look_special(). */
static int
looks_special(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "<pad>") == 0 || strcmp(s, "<mask>") == 0 ||
	    strcmp(s, "<2mass>") == 0 || strcmp(s, "[@BOS@]") == 0)
		return 1;
	if (n >= 4 && strncmp(s, "<|", 2) == 0 && strcmp(s + n - 2, "|>") == 0)
		return 1;
	/* "<｜" ... "｜>" (U+FF5C) */
	if (n >= 8 && strncmp(s, "<\xef\xbd\x9c", 4) == 0 &&
	    strcmp(s + n - 4, "\xef\xbd\x9c>") == 0)
		return 1;
	if (n >= 8 && strncmp(s, "<unused", 7) == 0 && s[n - 1] == '>')
		return 1;
	return 0;
}

/* Replace U+2581 by a space (user-defined tokens), in a new string. */
static char *
unspace(const char *s)
{
	char *o = malloc(strlen(s) + 1), *p = o;

	if (o == NULL)
		return NULL;
	while (*s) {
		if (strncmp(s, "\xe2\x96\x81", 3) == 0) {
			*p++ = ' ';
			s += 3;
		} else
			*p++ = *s++;
	}
	*p = '\0';
	return o;
}

/* The pre-tokenizer family from tokenizer.json's pre_tokenizer. */
static const char *
detect_pre(const struct cv_model *m, json_t *tok)
{
	json_t *pt = json_object_get(tok, "pre_tokenizer"), *list, *p;
	const char *rx[8] = { NULL }, *type;
	int n_rx = 0, bytelevel_regex = 0;
	size_t i;

	if (!json_is_object(pt))
		return NULL;
	list = json_object_get(pt, "pretokenizers");
	for (i = 0; i < (json_is_array(list) ? json_array_size(list) : 1);
	    i++) {
		p = json_is_array(list) ? json_array_get(list, i) : pt;
		type = json_string_value(json_object_get(p, "type"));
		if (streq(type, "Split") && n_rx < 8)
			rx[n_rx++] = json_string_value(json_object_get(
			    json_object_get(p, "pattern"), "Regex"));
		else if (streq(type, "ByteLevel") &&
		    json_is_true(json_object_get(p, "use_regex")))
			bytelevel_regex = 1;
	}
	if (n_rx == 0 && bytelevel_regex)
		return strncmp(m->hp.model_type, "olmo", 4) == 0 ? "olmo" :
		    "gpt-2";
	if (n_rx == 0 || rx[0] == NULL)
		return NULL;
	if (strstr(rx[0], "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
	    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+") != NULL)
		return "gpt-4o";
	if (strstr(rx[0], "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?") != NULL)
		return "qwen2";
	if (strstr(rx[0], "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?") !=
	    NULL)
		return "llama-bpe";
	if (strcmp(rx[0], "[\r\n]") == 0 && n_rx > 1 && rx[1] != NULL &&
	    strncmp(rx[1], "\\s?[A-Za-z", 10) == 0)
		return "deepseek-llm";
	if (strstr(rx[0], "\\p{N}{1,3}") != NULL && n_rx > 1)
		return "deepseek-v3";
	return NULL;
}

static int
vocab_bpe(struct cv_model *m, json_t *tok, json_t *tc, const char *pre,
    struct gguf_writer *w, struct err *e)
{
	json_t *model = json_object_get(tok, "model"), *vocab, *added, *at;
	json_t *merges, *v;
	const char *key, **tokens = NULL, **mg = NULL;
	char **owned = NULL, path[4096];
	int32_t *types = NULL;
	int64_t n_vocab = -1, maxid = -1, i;
	size_t k, n_owned = 0, n_mg = 0;
	struct special sv;
	int rc;

	snprintf(path, sizeof path, "%s/tokenizer.json", m->dir);
	vocab = json_object_get(model, "vocab");
	added = json_object_get(tok, "added_tokens");
	if (!json_is_object(vocab) || !streq(json_string_value(
	    json_object_get(model, "type")), "BPE"))
		return err_set(e, ERR_UNSUPPORTED, "%s: model.type is not "
		    "BPE with a vocab object", path);
	if (added != NULL && !json_is_array(added))
		return err_set(e, ERR_FORMAT, "%s: added_tokens is not an "
		    "array", path);
	json_object_foreach(vocab, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 16777216)
			return err_set(e, ERR_FORMAT, "%s: vocab entry '%s' "
			    "has a bad id", path, key);
		if (json_integer_value(v) > maxid)
			maxid = json_integer_value(v);
	}
	json_array_foreach(added, k, at) {
		v = json_object_get(at, "id");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 16777216 ||
		    !json_is_string(json_object_get(at, "content")))
			return err_set(e, ERR_FORMAT, "%s: added_tokens[%zu]: "
			    "bad id or content", path, k);
		if (json_integer_value(v) > maxid)
			maxid = json_integer_value(v);
	}
	if (hf_config_get_int(m->cfg, "vocab_size", &n_vocab, NULL) != 0)
		n_vocab = maxid + 1;
	if (maxid >= n_vocab)
		return err_set(e, ERR_FORMAT, "%s: token id %lld >= "
		    "vocab_size %lld", path, (long long)maxid,
		    (long long)n_vocab);
	tokens = calloc((size_t)n_vocab + 1, sizeof *tokens);
	types = calloc((size_t)n_vocab + 1, sizeof *types);
	owned = calloc((size_t)n_vocab + 1, sizeof *owned);
	if (tokens == NULL || types == NULL || owned == NULL)
		goto nomem;
	json_object_foreach(vocab, key, v) {
		tokens[json_integer_value(v)] = key;
		types[json_integer_value(v)] = TT_NORMAL;
	}
	json_array_foreach(added, k, at) {
		const char *c = json_string_value(json_object_get(at,
		    "content"));

		i = json_integer_value(json_object_get(at, "id"));
		tokens[i] = c;
		if (json_is_true(json_object_get(at, "special")) ||
		    looks_special(c))
			types[i] = TT_CONTROL;
		else {
			if ((owned[n_owned] = unspace(c)) == NULL)
				goto nomem;
			tokens[i] = owned[n_owned++];
			types[i] = TT_USER;
		}
	}
	for (i = 0; i < n_vocab; i++)
		if (tokens[i] == NULL) {
			char b[32];

			snprintf(b, sizeof b, "[PAD%lld]", (long long)i);
			if ((owned[n_owned] = strdup(b)) == NULL)
				goto nomem;
			tokens[i] = owned[n_owned++];
			types[i] = TT_UNUSED;
		}
	/* merges: strings, or [a, b] pairs (spaces as U+0120) */
	merges = json_object_get(model, "merges");
	if (json_is_array(merges) && json_array_size(merges) > 0) {
		mg = calloc(json_array_size(merges) + 1, sizeof *mg);
		if (mg == NULL)
			goto nomem;
		if (json_is_array(json_array_get(merges, 0))) {
			owned = realloc(owned, ((size_t)n_vocab + 1 +
			    json_array_size(merges)) * sizeof *owned);
			if (owned == NULL)
				goto nomem;
		}
		json_array_foreach(merges, k, v) {
			if (json_is_string(v)) {
				mg[n_mg++] = json_string_value(v);
			} else if (json_is_array(v) && json_array_size(v) == 2
			    && json_is_string(json_array_get(v, 0)) &&
			    json_is_string(json_array_get(v, 1))) {
				const char *a = json_string_value(
				    json_array_get(v, 0));
				const char *b = json_string_value(
				    json_array_get(v, 1));
				char *s = malloc(2 * (strlen(a) + strlen(b))
				    + 2), *p;

				if (s == NULL)
					goto nomem;
				p = s;
				for (; *a; a++)
					if (*a == ' ') {
						*p++ = '\xc4';
						*p++ = '\xa0';
					} else
						*p++ = *a;
				*p++ = ' ';
				for (; *b; b++)
					if (*b == ' ') {
						*p++ = '\xc4';
						*p++ = '\xa0';
					} else
						*p++ = *b;
				*p = '\0';
				owned[n_owned++] = s;
				mg[n_mg++] = s;
			} else {
				rc = err_set(e, ERR_FORMAT, "%s: merges[%zu]: "
				    "not a string or a pair", path, k);
				goto done;
			}
		}
	}
	if ((rc = gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2",
	    e)) != 0 || (rc = gguf_writer_set_str(w, "tokenizer.ggml.pre",
	    pre, e)) != 0 || (rc = gguf_writer_set_str_arr(w,
	    "tokenizer.ggml.tokens", tokens, (uint64_t)n_vocab, e)) != 0 ||
	    (rc = gguf_writer_set_arr(w, "tokenizer.ggml.token_type",
	    GGUF_TYPE_INT32, types, (uint64_t)n_vocab, e)) != 0)
		goto done;
	if (n_mg > 0 && (rc = gguf_writer_set_str_arr(w,
	    "tokenizer.ggml.merges", mg, n_mg, e)) != 0)
		goto done;
	sp_init(&sv, -1);
	sp_post_processor(&sv, tok, tc);
	if (tc != NULL)
		sp_from_config(&sv, tc, added);
	sp_from_hfconfig(&sv, m->cfg);
	if ((rc = sp_write(&sv, w, e)) != 0)
		goto done;
	rc = write_chat_template(m, tc, w, e);
	goto done;
nomem:
	rc = err_set(e, ERR_NOMEM, "out of memory");
done:
	if (owned != NULL)
		for (k = 0; k < n_owned; k++)
			free(owned[k]);
	free(owned);
	free(tokens);
	free(types);
	free(mg);
	return rc;
}

static int
vocab_spm(struct cv_model *m, json_t *tc, struct gguf_writer *w,
    struct err *e)
{
	struct cv_spm spm;
	char path[4096], **tokens = NULL;
	float *scores = NULL;
	int32_t *types = NULL;
	int64_t n_vocab, i;
	json_t *atj, *v, *dec;
	const char *key;
	struct special sv;
	int rc;

	snprintf(path, sizeof path, "%s/tokenizer.model", m->dir);
	if ((rc = cv_spm_load(&spm, path, e)) != 0)
		return rc;
	if (hf_config_get_int(m->cfg, "vocab_size", &n_vocab, NULL) != 0 ||
	    n_vocab <= 0)
		n_vocab = (int64_t)spm.n;
	if (n_vocab > 16777216) {
		rc = err_set(e, ERR_RANGE, "%s: vocab_size %lld too large",
		    hf_config_path(m->cfg), (long long)n_vocab);
		goto done;
	}
	tokens = calloc((size_t)n_vocab + 1, sizeof *tokens);
	scores = calloc((size_t)n_vocab + 1, sizeof *scores);
	types = calloc((size_t)n_vocab + 1, sizeof *types);
	if (tokens == NULL || scores == NULL || types == NULL)
		goto nomem;
	for (i = 0; i < n_vocab; i++) {
		char b[32];

		snprintf(b, sizeof b, "[PAD%lld]", (long long)i);
		if (i < (int64_t)spm.n) {
			tokens[i] = strdup(spm.piece[i]);
			scores[i] = spm.score[i];
			switch (spm.type[i]) {
			case 2:
				types[i] = TT_UNKNOWN;
				break;
			case 3:
				types[i] = TT_CONTROL;
				break;
			case 5:
				types[i] = TT_UNUSED;
				break;
			case 6:
				types[i] = TT_BYTE;
				break;
			default:
				types[i] = TT_NORMAL;
			}
		} else {
			tokens[i] = strdup(b);
			scores[i] = -10000.0f;
			types[i] = TT_UNUSED;
		}
		if (tokens[i] == NULL)
			goto nomem;
	}
	/* added_tokens.json: {"text": id} */
	atj = load_json(m->dir, "added_tokens.json", 0, 0, e, &rc);
	if (rc != 0)
		goto done;
	json_object_foreach(atj, key, v) {
		i = json_is_integer(v) ? json_integer_value(v) : -1;
		if (i < 0 || i >= n_vocab)
			continue;
		free(tokens[i]);
		if ((tokens[i] = strdup(key)) == NULL) {
			json_decref(atj);
			goto nomem;
		}
		scores[i] = -1000.0f;
		types[i] = TT_USER;
	}
	json_decref(atj);
	dec = tc ? json_object_get(tc, "added_tokens_decoder") : NULL;
	json_object_foreach(dec, key, v) {
		const char *c = json_string_value(json_object_get(v,
		    "content"));
		char *end;

		i = strtoll(key, &end, 10);
		if (*end != '\0' || c == NULL || i < 0 || i >= n_vocab)
			continue;
		free(tokens[i]);
		if (json_is_true(json_object_get(v, "special")) ||
		    looks_special(c)) {
			types[i] = TT_CONTROL;
			tokens[i] = strdup(c);
		} else {
			types[i] = TT_USER;
			tokens[i] = unspace(c);
		}
		if (tokens[i] == NULL)
			goto nomem;
		scores[i] = -1000.0f;
	}
	if ((rc = gguf_writer_set_str(w, "tokenizer.ggml.model", "llama",
	    e)) != 0 || (rc = gguf_writer_set_str(w, "tokenizer.ggml.pre",
	    "default", e)) != 0 || (rc = gguf_writer_set_str_arr(w,
	    "tokenizer.ggml.tokens", (const char *const *)tokens,
	    (uint64_t)n_vocab, e)) != 0 || (rc = gguf_writer_set_arr(w,
	    "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores,
	    (uint64_t)n_vocab, e)) != 0 || (rc = gguf_writer_set_arr(w,
	    "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types,
	    (uint64_t)n_vocab, e)) != 0)
		goto done;
	sp_init(&sv, n_vocab);
	if (tc != NULL)
		sp_from_config(&sv, tc, NULL);
	sp_from_hfconfig(&sv, m->cfg);
	if ((rc = sp_write(&sv, w, e)) != 0)
		goto done;
	if ((rc = write_chat_template(m, tc, w, e)) != 0)
		goto done;
	v = tc ? json_object_get(tc, "add_prefix_space") : NULL;
	if (json_is_boolean(v) && strcmp(m->arch->gguf_arch, "llama") == 0)
		rc = gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix",
		    json_is_true(v), e);
	goto done;
nomem:
	rc = err_set(e, ERR_NOMEM, "out of memory");
done:
	if (tokens != NULL)
		for (i = 0; i < n_vocab; i++)
			free(tokens[i]);
	free(tokens);
	free(scores);
	free(types);
	cv_spm_free(&spm);
	return rc;
}

int
cv_vocab_meta(struct cv_model *m, struct gguf_writer *w, struct err *e)
{
	json_t *tok = NULL, *tc = NULL;
	char path[4096];
	struct stat sb;
	const char *pre;
	int rc, spm_ok;

	tc = load_json(m->dir, "tokenizer_config.json", 0,
	    JSON_DECODE_INT_AS_REAL, e, &rc);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof path, "%s/tokenizer.model", m->dir);
	spm_ok = stat(path, &sb) == 0 &&
	    (strcmp(m->arch->gguf_arch, "llama") == 0 ||
	    strcmp(m->arch->gguf_arch, "qwen2moe") == 0);
	if (spm_ok) {
		rc = vocab_spm(m, tc, w, e);
		goto done;
	}
	tok = load_json(m->dir, "tokenizer.json", 1, 0, e, &rc);
	if (rc != 0) {
		err_prefix(e, "no tokenizer.model or tokenizer.json");
		goto done;
	}
	pre = m->pre != NULL ? m->pre : detect_pre(m, tok);
	if (pre == NULL) {
		rc = err_set(e, ERR_UNSUPPORTED, "%s/tokenizer.json: the "
		    "pre-tokenizer is not one we recognise (give --pre NAME, "
		    "e.g. llama-bpe, qwen2, gpt-4o, deepseek-llm)", m->dir);
		goto done;
	}
	rc = vocab_bpe(m, tok, tc, pre, w, e);
done:
	json_decref(tok);
	json_decref(tc);
	return rc;
}
