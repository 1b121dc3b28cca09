/*
 * engine-chat.c - tokenizer + chat template of a model, and the two ways
 * text becomes tokens: a raw completion prompt, or a conversation
 * rendered by the model's template and tokenized as chat markup.
 *
 * The BOS rule follows llama.cpp's chat path: the rendering is tokenized
 * with add_special and parse_special; when the template itself already
 * wrote the BOS text, the duplicate BOS that add_special puts in front is
 * dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine-chat.h"
#include "engine/engine-vocab.h"

static char *
piece_dup(const struct tok *t, int32_t id)
{
	size_t len = 0;
	const char *p = id >= 0 ? tokenizer_vocab_text(t, id, &len) : NULL;
	char *s = malloc(len + 1);

	if (s == NULL)
		return NULL;
	if (p != NULL)
		memcpy(s, p, len);
	s[p != NULL ? len : 0] = '\0';
	return s;
}

int
eng_chat_load(struct eng_chat *c, const struct gguf *g, const char *override,
    struct err *e)
{
	const struct tok_info *ti;
	const char *builtin;
	size_t len = 0;
	int rc;

	memset(c, 0, sizeof *c);
	if ((rc = engine_vocab_load(&c->tok, g, e)) != 0)
		return rc;
	ti = tokenizer_vocab_info(c->tok);
	c->bos = piece_dup(c->tok, ti->bos);
	c->eos = piece_dup(c->tok, ti->eos);
	if (c->bos == NULL || c->eos == NULL) {
		eng_chat_fini(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if (override != NULL &&
	    (builtin = tokenizer_template_builtin(override)) != NULL) {
		c->tmpl_src = strdup(builtin);
		c->tmpl_name = override;
	} else if (override != NULL) {
		if ((rc = util_read_file(override, &c->tmpl_src, &len, e))
		    != 0) {
			eng_chat_fini(c);
			return rc;
		}
		c->tmpl_name = override;
	} else if (gguf_get(g, "tokenizer.chat_template") != NULL) {
		if ((rc = gguf_get_strdup(g, "tokenizer.chat_template",
		    &c->tmpl_src, e)) != 0) {
			eng_chat_fini(c);
			return rc;
		}
		c->tmpl_name = "model";
	} else {
		c->tmpl_src = strdup(tokenizer_template_builtin("chatml"));
		c->tmpl_name = "chatml";
	}
	if (c->tmpl_src == NULL) {
		eng_chat_fini(c);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if ((rc = tokenizer_template_compile(c->tmpl_src,
	    strlen(c->tmpl_src), &c->tmpl, e)) != 0) {
		err_prefix(e, "%s: chat template (%s)", g->path, c->tmpl_name);
		eng_chat_fini(c);
		return rc;
	}
	return 0;
}

void
eng_chat_fini(struct eng_chat *c)
{
	tokenizer_template_free(c->tmpl);
	tokenizer_vocab_free(c->tok);
	free(c->tmpl_src);
	free(c->bos);
	free(c->eos);
	memset(c, 0, sizeof *c);
}

int
eng_chat_encode(struct eng_chat *c, const struct tokenizer_chat_msg *msgs,
    size_t n, int add_gen, struct tok_ids *out, char **text, struct err *e)
{
	struct tokenizer_template_opts o;
	struct tokenizer_tvars *v;
	struct tokenizer_tval *list, *m;
	const struct tok_info *ti = tokenizer_vocab_info(c->tok);
	size_t i, len = 0, start = out->n;
	char *r = NULL;
	int rc;

	if (text != NULL)
		*text = NULL;
	memset(&o, 0, sizeof o);
	o.bos_token = c->bos;
	o.eos_token = c->eos;
	o.add_generation_prompt = add_gen;
	if ((v = tokenizer_tvars_new()) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	list = tokenizer_tvars_list(v);
	for (i = 0; i < n && list != NULL; i++) {
		m = tokenizer_tvars_dict(v);
		if (tokenizer_tvars_put(v, m, "role",
		    tokenizer_tvars_str(v, msgs[i].role, strlen(msgs[i].role)))
		    != 0 ||
		    tokenizer_tvars_put(v, m, "content",
		    tokenizer_tvars_str(v, msgs[i].content,
		    strlen(msgs[i].content))) != 0 ||
		    tokenizer_tvars_append(v, list, m) != 0) {
			list = NULL;
			break;
		}
	}
	if (list == NULL || tokenizer_tvars_set(v, "messages", list) != 0) {
		tokenizer_tvars_free(v);
		return err_set(e, ERR_FORMAT, "a message is not valid UTF-8 "
		    "(or out of memory)");
	}
	rc = tokenizer_template_render_vars(c->tmpl, v, &o, &r, &len, e);
	tokenizer_tvars_free(v);
	if (rc != 0)
		return rc;
	rc = tokenizer_vocab_encode(c->tok, r, len, TOK_ENC_ADD_SPECIAL |
	    TOK_ENC_PARSE_SPECIAL, out, e);
	if (rc == 0 && ti->add_bos && out->n - start >= 2 &&
	    out->v[start] == ti->bos && out->v[start + 1] == ti->bos) {
		memmove(out->v + start, out->v + start + 1,
		    (out->n - start - 1) * sizeof *out->v);
		out->n--;
	}
	if (rc == 0 && text != NULL)
		*text = r;
	else
		free(r);
	return rc;
}

int
eng_chat_encode_text(struct eng_chat *c, const char *text, size_t len,
    int parse_special, struct tok_ids *out, struct err *e)
{
	return tokenizer_vocab_encode(c->tok, text, len, TOK_ENC_ADD_SPECIAL |
	    (parse_special ? TOK_ENC_PARSE_SPECIAL : 0), out, e);
}
