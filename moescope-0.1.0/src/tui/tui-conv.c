/*
 * tui-conv.c - the conversation as the chat pane shows it and the model
 * sees it, its JSON file form (/save, /load), and the input history.
 *
 * A conversation is a list of messages; user, assistant and system ones
 * go to the model, notes/errors/stats lines are the UI's own. The JSON
 * form is
 *
 *   {"moescope":1, "model":"PATH", "system":"...",
 *    "messages":[{"role":"user","content":"...","tokens":[1,2]}, ...]}
 *
 * ("tokens" only where the text is not the model's input: token-mode
 * turns and replies). Loading validates everything before touching the
 * conversation, so a broken file changes nothing.
 *
 * History: one entry per line in $HOME_DIR/history, newlines and
 * backslashes escaped; the last 1000 kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "tui/tui-int.h"

#define HIST_MAX 1000

struct tui_msg *
tui_conv_add(struct tui_conv *c, int role, const char *text, size_t len)
{
	struct tui_msg *m, *nm;
	int ncap;

	if (c->n == c->cap) {
		ncap = c->cap ? c->cap * 2 : 16;
		if ((nm = realloc(c->m, (size_t)ncap * sizeof *nm)) == NULL)
			return NULL;
		c->m = nm;
		c->cap = ncap;
	}
	m = &c->m[c->n];
	memset(m, 0, sizeof *m);
	m->role = role;
	if (tui_msg_append(m, text != NULL ? text : "", len) != 0)
		return NULL;
	c->n++;
	return m;
}

int
tui_msg_append(struct tui_msg *m, const char *s, size_t n)
{
	size_t ncap;
	char *nt;

	if (m->len + n + 1 > m->cap) {
		ncap = m->cap ? m->cap : 64;
		while (ncap < m->len + n + 1)
			ncap *= 2;
		if ((nt = realloc(m->text, ncap)) == NULL)
			return ERR_NOMEM;
		m->text = nt;
		m->cap = ncap;
	}
	memcpy(m->text + m->len, s, n);
	m->len += n;
	m->text[m->len] = '\0';
	return 0;
}

int
tui_msg_add_token(struct tui_msg *m, int32_t id, int32_t pos,
    const char *text, size_t n)
{
	int ncap;
	int32_t *ni, *np;
	size_t *no;

	if (m->n_ids == m->cap_ids) {
		ncap = m->cap_ids ? m->cap_ids * 2 : 64;
		ni = realloc(m->ids, (size_t)ncap * sizeof *ni);
		if (ni == NULL)
			return ERR_NOMEM;
		m->ids = ni;
		np = realloc(m->tok_pos, (size_t)ncap * sizeof *np);
		if (np == NULL)
			return ERR_NOMEM;
		m->tok_pos = np;
		no = realloc(m->tok_off, (size_t)ncap * sizeof *no);
		if (no == NULL)
			return ERR_NOMEM;
		m->tok_off = no;
		m->cap_ids = ncap;
	}
	m->ids[m->n_ids] = id;
	m->tok_pos[m->n_ids] = pos;
	m->tok_off[m->n_ids] = m->len;
	m->n_ids++;
	return tui_msg_append(m, text, n);
}

static void
msg_free(struct tui_msg *m)
{
	free(m->text);
	free(m->ids);
	free(m->tok_pos);
	free(m->tok_off);
}

void
tui_conv_del(struct tui_conv *c, int i)
{
	if (i < 0 || i >= c->n)
		return;
	msg_free(&c->m[i]);
	memmove(&c->m[i], &c->m[i + 1], (size_t)(c->n - i - 1) *
	    sizeof c->m[0]);
	c->n--;
}

void
tui_conv_clear(struct tui_conv *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		msg_free(&c->m[i]);
	c->n = 0;
}

void
tui_conv_free(struct tui_conv *c)
{
	tui_conv_clear(c);
	free(c->m);
	free(c->system);
	memset(c, 0, sizeof *c);
}

static const char *
role_name(int role)
{
	switch (role) {
	case ROLE_SYSTEM:
		return "system";
	case ROLE_USER:
		return "user";
	case ROLE_ASSISTANT:
		return "assistant";
	}
	return NULL;
}

int
tui_conv_save(const struct tui_conv *c, const char *path, const char *model,
    struct err *e)
{
	json_t *root, *msgs, *o, *ids;
	const char *rn;
	char *s;
	int i, j, rc;

	root = json_object();
	msgs = json_array();
	if (root == NULL || msgs == NULL)
		goto nomem;
	json_object_set_new(root, "moescope", json_integer(1));
	if (model != NULL)
		json_object_set_new(root, "model", json_string(model));
	if (c->system != NULL)
		json_object_set_new(root, "system",
		    json_stringn(c->system, strlen(c->system)));
	for (i = 0; i < c->n; i++) {
		if ((rn = role_name(c->m[i].role)) == NULL)
			continue;
		o = json_object();
		json_object_set_new(o, "role", json_string(rn));
		json_object_set_new(o, "content",
		    json_stringn(c->m[i].text, c->m[i].len));
		if (c->m[i].n_ids > 0) {
			ids = json_array();
			for (j = 0; j < c->m[i].n_ids; j++)
				json_array_append_new(ids,
				    json_integer(c->m[i].ids[j]));
			json_object_set_new(o, "tokens", ids);
		}
		json_array_append_new(msgs, o);
	}
	json_object_set_new(root, "messages", msgs);
	msgs = NULL;
	if ((s = json_dumps(root, JSON_INDENT(1) | JSON_ENSURE_ASCII)) == NULL)
		goto nomem;
	json_decref(root);
	rc = util_write_file(path, s, strlen(s), e);
	free(s);
	return rc;
nomem:
	json_decref(root);
	json_decref(msgs);
	return err_set(e, ERR_NOMEM, "out of memory");
}

int
tui_conv_load(struct tui_conv *c, const char *path, struct err *e)
{
	json_error_t je;
	json_t *root, *msgs, *m, *v, *t;
	struct tui_conv nc = { 0 };
	struct tui_msg *nm;
	const char *rs;
	size_t i, j;
	int role;

	if ((root = json_load_file(path, 0, &je)) == NULL)
		return err_set(e, ERR_FORMAT, "%s: line %d: %s", path,
		    je.line, je.text);
	if (!json_is_object(root)) {
		err_set(e, ERR_FORMAT, "%s: not a JSON object (a moescope "
		    "conversation is {\"messages\":[...]})", path);
		goto bad;
	}
	msgs = json_object_get(root, "messages");
	if (!json_is_array(msgs)) {
		err_set(e, ERR_FORMAT, "%s: \"messages\" is missing or not "
		    "an array", path);
		goto bad;
	}
	v = json_object_get(root, "system");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v)) {
			err_set(e, ERR_FORMAT, "%s: \"system\" is not a string",
			    path);
			goto bad;
		}
		if ((nc.system = strdup(json_string_value(v))) == NULL)
			goto nomem;
	}
	json_array_foreach(msgs, i, m) {
		rs = json_string_value(json_object_get(m, "role"));
		v = json_object_get(m, "content");
		if (rs == NULL || !json_is_string(v)) {
			err_set(e, ERR_FORMAT, "%s: messages[%zu]: needs "
			    "\"role\" and \"content\" strings", path, i);
			goto bad;
		}
		if (strcmp(rs, "user") == 0)
			role = ROLE_USER;
		else if (strcmp(rs, "assistant") == 0)
			role = ROLE_ASSISTANT;
		else if (strcmp(rs, "system") == 0)
			role = ROLE_SYSTEM;
		else {
			err_set(e, ERR_FORMAT, "%s: messages[%zu]: unknown "
			    "role \"%.40s\"", path, i, rs);
			goto bad;
		}
		if (role == ROLE_SYSTEM) {
			free(nc.system);
			if ((nc.system = strdup(json_string_value(v))) == NULL)
				goto nomem;
			continue;
		}
		nm = tui_conv_add(&nc, role, json_string_value(v),
		    json_string_length(v));
		if (nm == NULL)
			goto nomem;
		nm->done = 1;
		t = json_object_get(m, "tokens");
		if (t == NULL)
			continue;
		if (!json_is_array(t)) {
			err_set(e, ERR_FORMAT, "%s: messages[%zu]: \"tokens\" "
			    "is not an array", path, i);
			goto bad;
		}
		for (j = 0; j < json_array_size(t); j++) {
			v = json_array_get(t, j);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > INT32_MAX) {
				err_set(e, ERR_FORMAT, "%s: messages[%zu]."
				    "tokens[%zu]: not a token id", path, i, j);
				goto bad;
			}
			if (nm->n_ids == nm->cap_ids) {
				int32_t *ni;
				int ncap = nm->cap_ids ? nm->cap_ids * 2 : 64;

				ni = realloc(nm->ids, (size_t)ncap *
				    sizeof *ni);
				if (ni == NULL)
					goto nomem;
				nm->ids = ni;
				nm->cap_ids = ncap;
			}
			nm->ids[nm->n_ids++] =
			    (int32_t)json_integer_value(v);
		}
	}
	json_decref(root);
	tui_conv_free(c);
	*c = nc;
	return 0;
nomem:
	err_set(e, ERR_NOMEM, "out of memory");
bad:
	json_decref(root);
	tui_conv_free(&nc);
	return e != NULL ? e->code : ERR_FORMAT;
}

/* ---- history ---- */

static char *
unescape(const char *s, size_t n)
{
	char *o = malloc(n + 1), *p = o;
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			*p++ = s[i] == 'n' ? '\n' : s[i];
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return o;
}

static void
hist_push(struct tui_hist *h, char *s)
{
	char **nv;
	int ncap;

	if (h->n == h->cap) {
		ncap = h->cap ? h->cap * 2 : 64;
		if ((nv = realloc(h->v, (size_t)ncap * sizeof *nv)) == NULL) {
			free(s);
			return;
		}
		h->v = nv;
		h->cap = ncap;
	}
	h->v[h->n++] = s;
	if (h->n > HIST_MAX) {
		free(h->v[0]);
		memmove(h->v, h->v + 1, (size_t)(h->n - 1) * sizeof *h->v);
		h->n--;
	}
}

int
tui_hist_open(struct tui_hist *h, const char *home)
{
	char *buf = NULL, *p, *nl, *s;
	size_t len;

	memset(h, 0, sizeof *h);
	if (home == NULL || *home == '\0')
		return 0;
	if ((h->path = malloc(strlen(home) + 16)) == NULL)
		return ERR_NOMEM;
	sprintf(h->path, "%s/history", home);
	if (util_read_file(h->path, &buf, &len, NULL) == 0) {
		for (p = buf; p < buf + len; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) ==
			    NULL)
				nl = buf + len;
			if (nl > p && (s = unescape(p, (size_t)(nl - p))) !=
			    NULL)
				hist_push(h, s);
		}
		free(buf);
	}
	h->at = h->n;
	return 0;
}

/* mkdir -p for the history's directory */
static void
mkdirs(const char *dir)
{
	char tmp[1024], *p;

	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
		return;
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

void
tui_hist_add(struct tui_hist *h, const char *line)
{
	FILE *fp;
	const char *c;
	char *s, *slash;

	if (*line == '\0' || (h->n > 0 && strcmp(h->v[h->n - 1], line) == 0)) {
		h->at = h->n;
		return;
	}
	if ((s = strdup(line)) != NULL)
		hist_push(h, s);
	h->at = h->n;
	if (h->path == NULL)
		return;
	if ((fp = fopen(h->path, "a")) == NULL && errno == ENOENT &&
	    (slash = strrchr(h->path, '/')) != NULL) {
		*slash = '\0';
		mkdirs(h->path);
		*slash = '/';
		fp = fopen(h->path, "a");
	}
	if (fp == NULL)
		return;
	for (c = line; *c; c++) {
		if (*c == '\n')
			fputs("\\n", fp);
		else if (*c == '\\')
			fputs("\\\\", fp);
		else
			fputc(*c, fp);
	}
	fputc('\n', fp);
	fclose(fp);
}

void
tui_hist_free(struct tui_hist *h)
{
	int i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
	free(h->path);
	memset(h, 0, sizeof *h);
}
