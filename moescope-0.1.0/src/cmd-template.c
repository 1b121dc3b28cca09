/*
 * cmd-template.c - `moescope template MODEL|--template FILE --messages
 * FILE.json [--no-generation-prompt] [--bos S] [--eos S]
 * [--chat-template FILE|NAME]`: print exactly what a chat template
 * makes of a conversation, with no newline added.
 *
 * The template comes from --template (raw Jinja text), else from
 * --chat-template (a built-in name such as "chatml", the model's named
 * template tokenizer.chat_template.NAME, or a file), else from the
 * model's tokenizer.chat_template, else the built-in ChatML.
 * BOS/EOS strings come from --bos/--eos, else from the model's
 * tokenizer.ggml.{bos,eos}_token_id looked up in tokenizer.ggml.tokens.
 * The messages file is a JSON array of message objects (any JSON values:
 * tool calls and the like pass through), or an object whose keys become
 * template variables (messages, tools, enable_thinking, ...).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: moescope template MODEL|--template FILE --messages "
	    "FILE.json\n"
	    "           [--no-generation-prompt] [--bos S] [--eos S]\n"
	    "           [--chat-template FILE|NAME]\n"
	    "\n"
	    "Prints exactly what the chat template makes of a conversation "
	    "(no newline\nadded). FILE is raw Jinja text; FILE.json a JSON "
	    "array of {\"role\", \"content\"}\nobjects, or an object whose "
	    "keys are template variables (\"messages\",\n\"tools\", ...); "
	    "'-' reads stdin.\n"
	    "\n"
	    "  --template FILE          use this template instead of a "
	    "model's\n"
	    "  --chat-template FILE|NAME  override the model's template: "
	    "a built-in (chatml),\n"
	    "                           the model's "
	    "tokenizer.chat_template.NAME, or a file\n"
	    "  --messages FILE.json     the conversation\n"
	    "  --no-generation-prompt   add_generation_prompt = false\n"
	    "  --bos S, --eos S         the bos_token / eos_token strings\n"
	    "\n"
	    "A template error prints a message and exits 1.\n");
}

/* A jansson value as a template value. */
static struct tokenizer_tval *
from_json(struct tokenizer_tvars *v, json_t *j)
{
	struct tokenizer_tval *r;
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		r = tokenizer_tvars_dict(v);
		json_object_foreach(j, k, x)
			if (tokenizer_tvars_put(v, r, k, from_json(v, x)) != 0)
				return NULL;
		return r;
	case JSON_ARRAY:
		r = tokenizer_tvars_list(v);
		json_array_foreach(j, i, x)
			if (tokenizer_tvars_append(v, r, from_json(v, x)) != 0)
				return NULL;
		return r;
	case JSON_STRING:
		return tokenizer_tvars_str(v, json_string_value(j),
		    json_string_length(j));
	case JSON_INTEGER:
		return tokenizer_tvars_int(v, json_integer_value(j));
	case JSON_REAL:
		return tokenizer_tvars_float(v, json_real_value(j));
	case JSON_TRUE:
		return tokenizer_tvars_bool(v, 1);
	case JSON_FALSE:
		return tokenizer_tvars_bool(v, 0);
	default:
		return tokenizer_tvars_none(v);
	}
}

static int
load_messages(const char *path, struct tokenizer_tvars *v, struct err *e)
{
	json_error_t je;
	json_t *j, *x;
	const char *k;
	int rc = 0;

	if (strcmp(path, "-") == 0)
		j = json_loadf(stdin, 0, &je);
	else
		j = json_load_file(path, 0, &je);
	if (j == NULL)
		return err_set(e, ERR_FORMAT, "%s: line %d: %s", path, je.line,
		    je.text);
	if (json_is_array(j))
		rc = tokenizer_tvars_set(v, "messages", from_json(v, j));
	else if (json_is_object(j)) {
		json_object_foreach(j, k, x)
			if (rc == 0)
				rc = tokenizer_tvars_set(v, k, from_json(v, x));
	} else {
		json_decref(j);
		return err_set(e, ERR_FORMAT, "%s: expected a JSON array of "
		    "messages (or an object of variables)", path);
	}
	json_decref(j);
	if (rc != 0)
		return err_set(e, ERR_FORMAT, "%s: a string is not valid UTF-8 "
		    "(or out of memory)", path);
	return 0;
}

/* The token string of tokenizer.ggml.<which>_token_id, or NULL. */
static char *
special_token(const struct gguf *g, const char *which)
{
	const struct gguf_str *toks;
	uint64_t n;
	uint32_t id;
	char key[64];
	char *s;

	snprintf(key, sizeof key, "tokenizer.ggml.%s_token_id", which);
	if (gguf_get_u32(g, key, &id, NULL) != 0 ||
	    gguf_get_str_arr(g, "tokenizer.ggml.tokens", &toks, &n,
	    NULL) != 0 || id >= n)
		return NULL;
	if ((s = malloc(toks[id].len + 1)) == NULL)
		return NULL;
	memcpy(s, toks[id].s, toks[id].len);
	s[toks[id].len] = '\0';
	return s;
}

int
cmd_template_main(int argc, char **argv)
{
	const char *model = NULL, *tfile = NULL, *ctmpl = NULL, *msgs = NULL;
	const char *bos = NULL, *eos = NULL, *src;
	char *text = NULL, *mbos = NULL, *meos = NULL, *out = NULL;
	struct tokenizer_template_opts o;
	struct tokenizer_template *t = NULL;
	struct tokenizer_tvars *v = NULL;
	struct gguf *g = NULL;
	struct err e = { 0 };
	size_t len;
	int i, gen = 1, rc = 1;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--no-generation-prompt") == 0)
			gen = 0;
		else if (i + 1 < argc && strcmp(a, "--template") == 0)
			tfile = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--chat-template") == 0)
			ctmpl = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--messages") == 0)
			msgs = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--bos") == 0)
			bos = argv[++i];
		else if (i + 1 < argc && strcmp(a, "--eos") == 0)
			eos = argv[++i];
		else if (a[0] != '-' && model == NULL)
			model = a;
		else {
			fprintf(stderr, "moescope template: unexpected '%s'\n",
			    a);
			usage(stderr);
			return 2;
		}
	}
	if (msgs == NULL || (model == NULL && tfile == NULL &&
	    ctmpl == NULL) || (model != NULL && tfile != NULL)) {
		usage(stderr);
		return 2;
	}
	if (tfile != NULL) {
		if (util_read_file(tfile, &text, &len, &e) != 0)
			goto fail;
		src = text;
	} else if (ctmpl != NULL &&
	    (src = tokenizer_template_builtin(ctmpl)) != NULL) {
		len = strlen(src);
	} else
		src = NULL;
	if (model != NULL && gguf_open(&g, model, &e) != 0)
		goto fail;
	if (src == NULL && ctmpl != NULL) {
		char key[256];

		snprintf(key, sizeof key, "tokenizer.chat_template.%s", ctmpl);
		if (g != NULL && strlen(ctmpl) < 200 &&
		    gguf_get_strdup(g, key, &text, NULL) == 0)
			len = strlen(text);
		else if (util_read_file(ctmpl, &text, &len, &e) != 0)
			goto fail;
		src = text;
	}
	if (g != NULL) {
		if (src == NULL) {
			int r = gguf_get_strdup(g, "tokenizer.chat_template",
			    &text, &e);

			if (r == ERR_NOTFOUND) {
				err_clear(&e);
				src = tokenizer_template_builtin("chatml");
				len = strlen(src);
			} else if (r != 0)
				goto fail;
			else {
				src = text;
				len = strlen(text);
			}
		}
		if (bos == NULL)
			bos = mbos = special_token(g, "bos");
		if (eos == NULL)
			eos = meos = special_token(g, "eos");
	}
	if (tokenizer_template_compile(src, len, &t, &e) != 0) {
		err_prefix(&e, "%s", tfile ? tfile : ctmpl ? ctmpl : model);
		goto fail;
	}
	if ((v = tokenizer_tvars_new()) == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (load_messages(msgs, v, &e) != 0)
		goto fail;
	memset(&o, 0, sizeof o);
	o.bos_token = bos;
	o.eos_token = eos;
	o.add_generation_prompt = gen;
	if (tokenizer_template_render_vars(t, v, &o, &out, &len, &e) != 0)
		goto fail;
	if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) {
		err_set(&e, ERR_IO, "writing the rendering: output failed");
		goto fail;
	}
	rc = 0;
	goto done;
fail:
	rc = cmd_fail(&e);
done:
	free(out);
	tokenizer_tvars_free(v);
	tokenizer_template_free(t);
	if (g != NULL)
		gguf_close(g);
	free(text);
	free(mbos);
	free(meos);
	return rc;
}
