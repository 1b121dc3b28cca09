/*
 * cmd-batch.c - `moescope batch MODEL [options]`: scripting mode. Requests
 * come in on stdin, one per line; answers go to stdout, one JSON object
 * per request, in order, each written and flushed as soon as it is done.
 *
 * A line is a JSON object when its first non-blank character is "{",
 * else the whole line is a prompt. Blank lines are skipped. The model is
 * loaded once; requests run one after another in one context, which is
 * emptied before each request, unless the request names a session: then
 * the session's conversation so far comes first. The context's KV cache
 * holds the conversation of the session used last, so consecutive turns
 * of one session only evaluate their new tokens; returning to another
 * session evaluates its transcript again (transcripts of --sessions N
 * sessions are kept, least recently used dropped first).
 *
 * A bad request yields {"id":...,"error":"...","finish_reason":"error"}
 * and the next line is read. SIGINT cancels the request running (its
 * line says "cancelled") and exits 130; a reader that closes stdout ends
 * batch quietly. doc/batch.md describes fields, flags and output.
 */
#include <sys/select.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "engine/engine-gen.h"

#define MAX_LINE	(16u << 20)	/* bytes per input line */
#define MAX_STOP_LEN	1024		/* bytes per stop string */
#define MAX_NAME	256		/* bytes per session name */
#define DEF_SESSIONS	64		/* session transcripts kept */

enum { FMT_JSON, FMT_TEXT };
enum { ROUTE_NONE, ROUTE_SUMMARY, ROUTE_FULL };
enum { SESS_NEW, SESS_RAW, SESS_CHAT };

static atomic_int batch_cancel;

static void
on_sigint(int sig)
{
	(void)sig;
	atomic_store(&batch_cancel, 1);
}

/* ---- output text, on util's growing string ---- */

static void
sb_puts(struct util_buf *b, const char *s)
{
	util_buf_put(b, s, strlen(s));
}

static void UTIL_PRINTF(2, 3)
sb_printf(struct util_buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		util_buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n :
		    sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void
sb_jstr(struct util_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, l;
	char esc[8];

	util_buf_put(b, "\"", 1);
	while (i < n) {
		for (run = i; run < n && u[run] >= 0x20 && u[run] < 0x80 &&
		    u[run] != '"' && u[run] != '\\'; run++)
			;
		util_buf_put(b, s + i, run - i);
		if ((i = run) >= n)
			break;
		switch (u[i]) {
		case '"':
			util_buf_put(b, "\\\"", 2);
			break;
		case '\\':
			util_buf_put(b, "\\\\", 2);
			break;
		case '\n':
			util_buf_put(b, "\\n", 2);
			break;
		case '\r':
			util_buf_put(b, "\\r", 2);
			break;
		case '\t':
			util_buf_put(b, "\\t", 2);
			break;
		default:
			if (u[i] < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", u[i]);
				util_buf_put(b, esc, 6);
			} else if ((l = utf8_len(u + i, n - i)) > 0) {
				util_buf_put(b, s + i, l);
				i += l;
				continue;
			} else
				util_buf_put(b, "\xef\xbf\xbd", 3);
		}
		i++;
	}
	util_buf_put(b, "\"", 1);
}

/*
 * Make r->text valid UTF-8 in place of what the model produced: every
 * byte that starts no valid sequence becomes U+FFFD, as in the JSON
 * output, so that a session's transcript is what the user was shown.
 */
static int
fix_utf8(struct eng_gen_result *r)
{
	const unsigned char *u = (const unsigned char *)r->text;
	struct util_buf o = { 0 };
	size_t i, l;

	for (i = 0; i < r->len; i += l)
		if ((l = utf8_len(u + i, r->len - i)) == 0)
			break;
	if (i == r->len)
		return 0;
	for (i = 0; i < r->len; i += l) {
		if ((l = utf8_len(u + i, r->len - i)) > 0)
			util_buf_put(&o, r->text + i, l);
		else {
			util_buf_put(&o, "\xef\xbf\xbd", 3);
			l = 1;
		}
	}
	if (o.fail) {
		free(o.s);
		return ERR_NOMEM;
	}
	free(r->text);
	r->text = o.s;
	r->len = o.len;
	return 0;
}

/* ---- state ---- */

struct session {
	char				*name;	/* NULL: a free slot */
	int				 kind;	/* SESS_* */
	struct tokenizer_chat_msg	*msgs;	/* strings malloc'd */
	size_t				 n_msgs, cap_msgs;
	struct util_buf			 raw;	/* raw transcript */
	uint64_t			 used;	/* LRU stamp */
};

struct req {
	json_t				*root;	/* the parsed line, or NULL */
	json_t				*id;	/* borrowed; NULL: line no. */
	long				 line;
	const char			*prompt;
	size_t				 prompt_len;
	struct tokenizer_chat_msg	*msgs;	/* strings borrowed */
	size_t				 n_msgs;
	int				 max_tokens;
	struct eng_sampler_params	 sp;
	const char			*stop[ENG_GEN_MAX_STOP];
	int				 n_stop;
	const char			*session;
};

struct batch {
	/* options */
	struct cmd_opts		 o;
	int			 format, stream, routing, timing, chat;
	const char		*system, *tmpl;
	char			*delim;
	size_t			 delim_len;
	int			 max_sessions;
	/* the engine */
	struct eng_model	*m;
	const struct eng_hparams *hp;
	struct eng_ctx		*c;
	struct eng_chat		 chat_c;
	int			 have_chat;
	struct eng_sampler	*s;
	struct eng_sampler_params s_params;	/* s was made with these */
	/* what the KV cache holds: session kv_sess's tokens kv, or
	 * nothing reusable (kv_sess -1) */
	int			 kv_sess;
	struct tok_ids		 kv;
	struct session		*sess;		/* [max_sessions] */
	uint64_t		 clock;
	/* routing of the request running */
	uint64_t		*load;		/* [n_layer][n_expert] */
	long			 route_tokens;
	struct util_buf		 trace;		/* --routing full */
	/* output */
	struct req		*cur;		/* for stream events */
	struct util_buf		 out;
	int			 out_errno;	/* stdout failed with it */
};

/* ---- output ---- */

/* Write b->out to stdout and empty it; ERR_IO once stdout has failed. */
static int
out_flush(struct batch *b)
{
	size_t off = 0;
	ssize_t w;

	if (b->out.fail) {
		b->out.fail = 0;
		b->out.len = 0;
		fprintf(stderr, "moescope batch: out of memory for an "
		    "answer\n");
		return 0;
	}
	while (b->out_errno == 0 && off < b->out.len) {
		w = write(STDOUT_FILENO, b->out.s + off, b->out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			b->out_errno = w < 0 ? errno : EIO;
		else
			off += (size_t)w;
	}
	b->out.len = 0;
	return b->out_errno ? ERR_IO : 0;
}

/* The id as given: numbers with the fewest digits that read back as the
 * same value (0.1, not 0.10000000000000001). */
static void
put_id(struct util_buf *o, const struct req *q)
{
	json_t *back;
	char *s = NULL;
	int p = 17;

	if (q->id == NULL) {
		sb_printf(o, "%ld", q->line);
		return;
	}
	if (json_is_real(q->id) || json_is_array(q->id) ||
	    json_is_object(q->id))
		p = 1;
	for (; p <= 17; p++) {
		free(s);
		s = json_dumps(q->id, JSON_ENCODE_ANY | JSON_COMPACT |
		    JSON_REAL_PRECISION(p));
		if (s == NULL || p == 17)
			break;
		back = json_loads(s, JSON_DECODE_ANY, NULL);
		if (back != NULL && json_equal(back, q->id)) {
			json_decref(back);
			break;
		}
		json_decref(back);
	}
	if (s == NULL) {
		o->fail = 1;
		return;
	}
	sb_puts(o, s);
	free(s);
}

static int
put_error(struct batch *b, const struct req *q, const char *msg)
{
	if (b->format == FMT_TEXT) {
		fprintf(stderr, "moescope batch: line %ld: %s\n", q->line, msg);
		util_buf_put(&b->out, b->delim, b->delim_len);
		return out_flush(b);
	}
	sb_puts(&b->out, "{\"id\":");
	put_id(&b->out, q);
	sb_puts(&b->out, ",\"error\":");
	sb_jstr(&b->out, msg, strlen(msg));
	sb_puts(&b->out, ",\"finish_reason\":\"error\"}\n");
	return out_flush(b);
}

/* --stream: one event per generated token. */
static int
on_token(void *arg, int32_t tok, const char *text, size_t len)
{
	struct batch *b = arg;

	if (!b->stream)
		return 0;
	if (b->format == FMT_TEXT) {
		if (len == 0)
			return 0;
		util_buf_put(&b->out, text, len);
		return out_flush(b);
	}
	if (tok < 0 && len == 0)
		return 0;
	sb_puts(&b->out, "{\"id\":");
	put_id(&b->out, b->cur);
	sb_puts(&b->out, ",\"event\":\"token\"");
	if (tok >= 0)
		sb_printf(&b->out, ",\"token\":%d", (int)tok);
	sb_puts(&b->out, ",\"text\":");
	sb_jstr(&b->out, text ? text : "", len);
	sb_puts(&b->out, "}\n");
	return out_flush(b);
}

/* The routing record of every evaluated token of the request. */
static void
on_route(void *arg, const struct eng_route *r)
{
	struct batch *b = arg;
	int il, s, ne = b->hp->n_expert, first;
	const int16_t *ex;
	const float *w;

	if (b->routing == ROUTE_NONE)
		return;
	b->route_tokens++;
	for (il = 0; il < r->n_layer; il++)
		for (s = 0; s < r->k; s++) {
			int x = r->experts[il * r->k + s];

			if (x >= 0 && x < ne)
				b->load[(size_t)il * ne + x]++;
		}
	if (b->routing != ROUTE_FULL)
		return;
	sb_printf(&b->trace, "%s{\"pos\":%d,\"token\":%d,\"experts\":[",
	    b->trace.len ? "," : "", (int)r->pos, (int)r->token);
	for (il = 0; il < r->n_layer; il++) {
		ex = r->experts + il * r->k;
		sb_puts(&b->trace, il ? ",[" : "[");
		for (s = 0, first = 1; s < r->k; s++)
			if (ex[s] >= 0) {
				sb_printf(&b->trace, "%s%d", first ? "" : ",",
				    ex[s]);
				first = 0;
			}
		sb_puts(&b->trace, "]");
	}
	sb_puts(&b->trace, "],\"weights\":[");
	for (il = 0; il < r->n_layer; il++) {
		ex = r->experts + il * r->k;
		w = r->weights + il * r->k;
		sb_puts(&b->trace, il ? ",[" : "[");
		for (s = 0, first = 1; s < r->k; s++)
			if (ex[s] >= 0) {
				sb_printf(&b->trace, "%s%.6g", first ? "" : ",",
				    (double)w[s]);
				first = 0;
			}
		sb_puts(&b->trace, "]");
	}
	sb_puts(&b->trace, "]}");
}

static double
per_s(long n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

static int
put_result(struct batch *b, const struct req *q,
    const struct eng_gen_result *r, int n_prompt, int n_cached)
{
	struct util_buf *o = &b->out;
	int il, x, ne = b->hp->n_expert;
	uint64_t sum;

	if (b->format == FMT_TEXT) {
		if (!b->stream)
			util_buf_put(o, r->text, r->len);
		util_buf_put(o, b->delim, b->delim_len);
		return out_flush(b);
	}
	sb_puts(o, "{\"id\":");
	put_id(o, q);
	sb_puts(o, ",\"text\":");
	sb_jstr(o, r->text, r->len);
	sb_printf(o, ",\"finish_reason\":\"%s\"", eng_gen_finish_name(r->finish));
	sb_printf(o, ",\"usage\":{\"prompt_tokens\":%d,"
	    "\"completion_tokens\":%d", n_prompt, r->n_gen);
	if (q->session != NULL)
		sb_printf(o, ",\"cached_tokens\":%d", n_cached);
	sb_puts(o, "}");
	if (b->timing)
		sb_printf(o, ",\"timing\":{\"prefill_tps\":%.1f,"
		    "\"decode_tps\":%.1f}", per_s(r->n_eval, r->prefill_ns),
		    per_s(r->n_gen, r->decode_ns));
	if (b->routing != ROUTE_NONE) {
		sb_printf(o, ",\"routing\":{\"n_expert\":%d,\"k\":%d,"
		    "\"tokens\":%ld,\"load\":[", ne, b->hp->n_expert_used,
		    b->route_tokens);
		for (il = 0; il < b->hp->n_layer; il++) {
			const uint64_t *l = b->load + (size_t)il * ne;

			for (x = 0, sum = 0; x < ne; x++)
				sum += l[x];
			sb_puts(o, il ? ",[" : "[");
			for (x = 0; sum > 0 && x < ne; x++)
				sb_printf(o, "%s%llu", x ? "," : "",
				    (unsigned long long)l[x]);
			sb_puts(o, "]");
		}
		sb_puts(o, "]");
		if (b->routing == ROUTE_FULL) {
			sb_puts(o, ",\"per_token\":[");
			if (b->trace.fail)
				o->fail = 1;
			else
				util_buf_put(o, b->trace.s ? b->trace.s : "",
				    b->trace.len);
			sb_puts(o, "]");
		}
		sb_puts(o, "}");
	}
	sb_puts(o, "}\n");
	return out_flush(b);
}

/* ---- requests ---- */

static void
req_fini(struct req *q)
{
	free(q->msgs);
	if (q->root != NULL)
		json_decref(q->root);
	memset(q, 0, sizeof *q);
}

static int
get_int(json_t *v, const char *key, long long min, long long max,
    long long *out, struct err *e)
{
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return err_set(e, ERR_USAGE, "\"%s\" must be an integer in "
		    "%lld..%lld", key, min, max);
	*out = json_integer_value(v);
	return 0;
}

static int
get_num(json_t *v, const char *key, double min, double max, float *out,
    struct err *e)
{
	double d;

	if (!json_is_number(v) || (d = json_number_value(v)) < min ||
	    d > max)
		return err_set(e, ERR_USAGE, "\"%s\" must be a number in "
		    "%g..%g", key, min, max);
	*out = (float)d;
	return 0;
}

static int
get_stop(struct req *q, json_t *v, struct err *e)
{
	json_t *it;
	size_t i;

	if (json_is_string(v)) {
		q->stop[0] = json_string_value(v);
		q->n_stop = 1;
	} else if (json_is_array(v) &&
	    json_array_size(v) <= ENG_GEN_MAX_STOP) {
		json_array_foreach(v, i, it) {
			if (!json_is_string(it))
				return err_set(e, ERR_USAGE, "\"stop\" must be "
				    "a string or an array of strings");
			q->stop[q->n_stop++] = json_string_value(it);
		}
	} else
		return err_set(e, ERR_USAGE, "\"stop\" must be a string or an "
		    "array of at most %d strings", ENG_GEN_MAX_STOP);
	for (i = 0; i < (size_t)q->n_stop; i++)
		if (q->stop[i][0] == '\0' ||
		    strlen(q->stop[i]) > MAX_STOP_LEN)
			return err_set(e, ERR_USAGE, "\"stop\" strings must "
			    "have 1..%d bytes", MAX_STOP_LEN);
	return 0;
}

static int
get_messages(struct req *q, json_t *v, struct err *e)
{
	json_t *m, *val;
	const char *key;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return err_set(e, ERR_USAGE, "\"messages\" must be a non-empty "
		    "array of {\"role\",\"content\"} objects");
	if ((q->msgs = calloc(json_array_size(v), sizeof *q->msgs)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	json_array_foreach(v, i, m) {
		if (!json_is_object(m))
			return err_set(e, ERR_USAGE, "messages[%zu] is not an "
			    "object", i);
		json_object_foreach(m, key, val) {
			if (strcmp(key, "role") != 0 &&
			    strcmp(key, "content") != 0)
				return err_set(e, ERR_USAGE, "messages[%zu]: "
				    "unknown field \"%.40s\" (a message has "
				    "\"role\" and \"content\")", i, key);
			if (!json_is_string(val))
				return err_set(e, ERR_USAGE, "messages[%zu]."
				    "%s must be a string", i, key);
		}
		q->msgs[i].role = json_string_value(json_object_get(m,
		    "role"));
		q->msgs[i].content = json_string_value(json_object_get(m,
		    "content"));
		if (q->msgs[i].role == NULL || q->msgs[i].content == NULL)
			return err_set(e, ERR_USAGE, "messages[%zu] needs "
			    "\"role\" and \"content\"", i);
	}
	q->n_msgs = json_array_size(v);
	return 0;
}

/* Fill q from the JSON object in line; q->id is set as soon as known. */
static int
parse_json(struct req *q, const char *line, size_t len, struct err *e)
{
	json_error_t je;
	json_t *v;
	const char *key;
	long long x;

	q->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (q->root == NULL)
		return err_set(e, ERR_FORMAT, "malformed JSON at column %d: "
		    "%s", je.column, je.text);
	if (!json_is_object(q->root))
		return err_set(e, ERR_FORMAT, "a JSON request must be an "
		    "object");
	q->id = json_object_get(q->root, "id");
	json_object_foreach(q->root, key, v) {
		if (strcmp(key, "id") == 0 || json_is_null(v))
			continue;
		if (strcmp(key, "prompt") == 0) {
			if (!json_is_string(v))
				return err_set(e, ERR_USAGE, "\"prompt\" must "
				    "be a string");
			q->prompt = json_string_value(v);
			q->prompt_len = json_string_length(v);
		} else if (strcmp(key, "messages") == 0) {
			if (get_messages(q, v, e) != 0)
				return e->code;
		} else if (strcmp(key, "max_tokens") == 0) {
			if (get_int(v, key, 0, 1 << 24, &x, e) != 0)
				return e->code;
			q->max_tokens = (int)x;
		} else if (strcmp(key, "seed") == 0) {
			if (get_int(v, key, 0, INT64_MAX, &x, e) != 0)
				return e->code;
			q->sp.seed = (uint64_t)x;
		} else if (strcmp(key, "top_k") == 0) {
			if (get_int(v, key, 0, 1 << 24, &x, e) != 0)
				return e->code;
			q->sp.top_k = (int)x;
		} else if (strcmp(key, "temperature") == 0) {
			if (get_num(v, key, 0, 1e6, &q->sp.temp, e) != 0)
				return e->code;
		} else if (strcmp(key, "top_p") == 0) {
			if (get_num(v, key, 0, 1, &q->sp.top_p, e) != 0)
				return e->code;
		} else if (strcmp(key, "min_p") == 0) {
			if (get_num(v, key, 0, 1, &q->sp.min_p, e) != 0)
				return e->code;
		} else if (strcmp(key, "repeat_penalty") == 0) {
			if (get_num(v, key, 1e-6, 1e6, &q->sp.repeat_penalty,
			    e) != 0)
				return e->code;
		} else if (strcmp(key, "stop") == 0) {
			if (get_stop(q, v, e) != 0)
				return e->code;
		} else if (strcmp(key, "session") == 0) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) > MAX_NAME)
				return err_set(e, ERR_USAGE, "\"session\" must "
				    "be a name of 1..%d bytes", MAX_NAME);
			q->session = json_string_value(v);
		} else
			return err_set(e, ERR_USAGE, "unknown field \"%.40s\"",
			    key);
	}
	if ((q->prompt != NULL) == (q->msgs != NULL))
		return err_set(e, ERR_USAGE, q->prompt ? "give \"prompt\" or "
		    "\"messages\", not both" : "a request needs \"prompt\" "
		    "or \"messages\"");
	return 0;
}

/* Read one request from a line (without its newline). */
static int
parse_line(struct batch *b, struct req *q, const char *line, size_t len,
    struct err *e)
{
	size_t i;

	q->max_tokens = b->o.max_tokens;
	q->sp = b->o.sp;
	if (memchr(line, '\0', len) != NULL)
		return err_set(e, ERR_FORMAT, "the line holds a NUL byte");
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i < len && line[i] == '{')
		return parse_json(q, line, len, e);
	q->prompt = line;
	q->prompt_len = len;
	return 0;
}

/* ---- sessions ---- */

static void
session_clear(struct session *s)
{
	size_t i;

	for (i = 0; i < s->n_msgs; i++) {
		free((char *)s->msgs[i].role);
		free((char *)s->msgs[i].content);
	}
	free(s->msgs);
	free(s->raw.s);
	free(s->name);
	memset(s, 0, sizeof *s);
}

/* The index of the session named name (now the most recently used), or
 * -1. */
static int
session_find(struct batch *b, const char *name)
{
	int i;

	for (i = 0; i < b->max_sessions; i++)
		if (b->sess[i].name != NULL &&
		    strcmp(b->sess[i].name, name) == 0) {
			b->sess[i].used = ++b->clock;
			return i;
		}
	return -1;
}

/* A new, empty session named name in a free slot, else in place of the
 * least recently used one; -1 when out of memory. */
static int
session_new(struct batch *b, const char *name)
{
	int i, lru = 0;

	for (i = 0; i < b->max_sessions; i++) {
		if (b->sess[i].name == NULL) {
			lru = i;
			break;
		}
		if (b->sess[i].used < b->sess[lru].used)
			lru = i;
	}
	if (b->kv_sess == lru)
		b->kv_sess = -1;
	session_clear(&b->sess[lru]);
	if ((b->sess[lru].name = strdup(name)) == NULL)
		return -1;
	b->sess[lru].used = ++b->clock;
	return lru;
}

static int
session_add_msg(struct session *s, const char *role, const char *content,
    size_t len)
{
	struct tokenizer_chat_msg *v;
	size_t cap;
	char *r, *c;

	if (s->n_msgs == s->cap_msgs) {
		cap = s->cap_msgs ? s->cap_msgs * 2 : 8;
		if ((v = realloc(s->msgs, cap * sizeof *v)) == NULL)
			return ERR_NOMEM;
		s->msgs = v;
		s->cap_msgs = cap;
	}
	r = strdup(role);
	c = malloc(len + 1);
	if (r == NULL || c == NULL) {
		free(r);
		free(c);
		return ERR_NOMEM;
	}
	memcpy(c, content, len);
	c[len] = '\0';
	s->msgs[s->n_msgs].role = r;
	s->msgs[s->n_msgs++].content = c;
	return 0;
}

/* ---- one request ---- */

/* The conversation a chat request renders: the session's, then new. */
struct conv {
	struct tokenizer_chat_msg	*v;
	size_t				 n, n_old;	/* n_old from the
							 * session */
};

static int
build_conv(struct batch *b, const struct req *q, const struct session *s,
    struct conv *cv, struct err *e)
{
	size_t i, old = s ? s->n_msgs : 0, cap;

	cap = old + (q->msgs ? q->n_msgs : 2);
	if ((cv->v = calloc(cap, sizeof *cv->v)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < old; i++)
		cv->v[i] = s->msgs[i];
	cv->n = cv->n_old = old;
	if (q->msgs != NULL) {
		for (i = 0; i < q->n_msgs; i++)
			cv->v[cv->n++] = q->msgs[i];
		return 0;
	}
	if (b->system != NULL && old == 0) {
		cv->v[cv->n].role = "system";
		cv->v[cv->n++].content = b->system;
	}
	cv->v[cv->n].role = "user";
	cv->v[cv->n++].content = q->prompt;
	return 0;
}

static int
sampler_for(struct batch *b, const struct eng_sampler_params *p,
    struct err *e)
{
	const struct eng_sampler_params *o = &b->s_params;

	if (b->s != NULL && o->temp == p->temp && o->top_k == p->top_k &&
	    o->top_p == p->top_p && o->min_p == p->min_p &&
	    o->repeat_penalty == p->repeat_penalty &&
	    o->repeat_last_n == p->repeat_last_n && o->seed == p->seed) {
		eng_sampler_reset(b->s);
		return 0;
	}
	eng_sampler_free(b->s);
	b->s = NULL;
	b->s_params = *p;
	return eng_sampler_new(&b->s, b->hp->n_vocab, p, e);
}

static size_t
common_prefix(const struct tok_ids *a, const struct tok_ids *b)
{
	size_t i, n = a->n < b->n ? a->n : b->n;

	for (i = 0; i < n && a->v[i] == b->v[i]; i++)
		;
	return i;
}

/*
 * Run q and write its answer. 0 when answered (cancelled included: see
 * *cancelled); an error for the caller to report as q's error line;
 * ERR_IO when stdout is gone (b->out_errno set).
 */
static int
run_request(struct batch *b, struct req *q, int *cancelled, struct err *e)
{
	struct eng_gen_params gp = { 0 };
	struct eng_gen_result gr = { 0 };
	struct tok_ids ids = { 0 };
	struct conv cv = { 0 };
	struct session *s = NULL;
	int si = -1, chat = q->msgs != NULL || b->chat, rc, n_ctx;
	size_t past = 0, i, keep;

	*cancelled = 0;
	/* a new session is made once its first turn has succeeded */
	if (q->session != NULL && (si = session_find(b, q->session)) >= 0) {
		s = &b->sess[si];
		if (s->kind != SESS_NEW &&
		    (s->kind == SESS_CHAT) != chat) {
			rc = err_set(e, ERR_USAGE, "session \"%.60s\" holds a "
			    "%s conversation; this request is a %s", s->name,
			    s->kind == SESS_CHAT ? "chat" : "raw-text",
			    chat ? "chat" : "raw prompt");
			goto done;
		}
	}
	if (chat) {
		if ((rc = build_conv(b, q, s, &cv, e)) != 0 ||
		    (rc = eng_chat_encode_safe(&b->chat_c, cv.v, cv.n, 1, &ids,
		    NULL, e)) != 0)
			goto done;
	} else if (s != NULL && s->raw.len > 0) {
		/* the whole transcript, so that a prompt which merges with
		 * its end is tokenized as one text */
		struct util_buf all = { 0 };

		util_buf_put(&all, s->raw.s, s->raw.len);
		util_buf_put(&all, q->prompt, q->prompt_len);
		rc = all.fail ? err_set(e, ERR_NOMEM, "out of memory") :
		    eng_chat_encode_text(&b->chat_c, all.s, all.len, 0, &ids,
		    e);
		free(all.s);
		if (rc != 0)
			goto done;
	} else if ((rc = eng_chat_encode_text(&b->chat_c, q->prompt,
	    q->prompt_len, 0, &ids, e)) != 0)
		goto done;
	n_ctx = eng_ctx_n_ctx(b->c);
	if (ids.n == 0) {
		rc = err_set(e, ERR_USAGE, "the prompt is empty (no tokens)");
		goto done;
	}
	if (ids.n > (size_t)n_ctx) {
		if (s != NULL && (s->n_msgs > 0 || s->raw.len > 0))
			rc = err_set(e, ERR_RANGE, "session \"%.60s\" is full: "
			    "the conversation is %zu tokens, the context "
			    "holds %d (--ctx)", s->name, ids.n, n_ctx);
		else
			rc = err_set(e, ERR_RANGE, "the prompt is %zu tokens, "
			    "the context holds %d (--ctx)", ids.n, n_ctx);
		goto done;
	}
	/* what the cache holds of this conversation can stay */
	if (si >= 0 && b->kv_sess == si) {
		past = common_prefix(&b->kv, &ids);
		if (past >= ids.n)
			past = ids.n - 1;
		eng_ctx_rewind(b->c, (int)past);
	} else
		eng_ctx_reset(b->c, 0);
	b->kv_sess = -1;
	if ((rc = sampler_for(b, &q->sp, e)) != 0)
		goto done;
	memset(b->load, 0, (size_t)b->hp->n_layer * b->hp->n_expert *
	    sizeof *b->load);
	b->route_tokens = 0;
	b->trace.len = 0;
	b->trace.fail = 0;
	b->cur = q;
	gp.max_tokens = q->max_tokens;
	gp.stop = q->stop;
	gp.n_stop = q->n_stop;
	gp.cancel = &batch_cancel;
	gp.on_token = on_token;
	gp.arg = b;
	rc = eng_gen_run(b->c, b->s, b->chat_c.tok, ids.v, (int)ids.n,
	    (int)past, &gp, &gr, e);
	if (rc != 0) {
		if (b->out_errno)
			rc = ERR_IO;
		goto done;
	}
	*cancelled = gr.finish == ENG_GEN_CANCELLED;
	if (fix_utf8(&gr) != 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = put_result(b, q, &gr, (int)ids.n, (int)past)) != 0)
		goto done;
	if (q->session == NULL || *cancelled)
		goto done;
	/* the session goes on from here */
	if (s == NULL) {
		if ((si = session_new(b, q->session)) < 0) {
			fprintf(stderr, "moescope batch: out of memory: "
			    "session \"%s\" not kept\n", q->session);
			goto done;
		}
		s = &b->sess[si];
	}
	if (chat) {
		for (i = cv.n_old; i < cv.n && rc == 0; i++)
			rc = session_add_msg(s, cv.v[i].role, cv.v[i].content,
			    strlen(cv.v[i].content));
		if (rc == 0)
			rc = session_add_msg(s, "assistant", gr.text, gr.len);
		s->kind = SESS_CHAT;
	} else {
		util_buf_put(&s->raw, q->prompt, q->prompt_len);
		util_buf_put(&s->raw, gr.text, gr.len);
		rc = s->raw.fail ? ERR_NOMEM : 0;
		s->kind = SESS_RAW;
	}
	if (rc != 0) {
		/* an incomplete transcript is worse than none */
		fprintf(stderr, "moescope batch: out of memory: session "
		    "\"%s\" dropped\n", s->name);
		session_clear(s);
		rc = 0;
		goto done;
	}
	/* the cache: the prompt, then the sampled tokens fed back */
	keep = (size_t)eng_ctx_pos(b->c);
	b->kv.n = 0;
	for (i = 0; i < keep && rc == 0; i++) {
		int32_t t = i < ids.n ? ids.v[i] : gr.ids[i - ids.n];

		if (b->kv.n == b->kv.cap) {
			size_t cap = b->kv.cap ? b->kv.cap * 2 : 256;
			int32_t *v = realloc(b->kv.v, cap * sizeof *v);

			if (v == NULL) {
				rc = 0;
				goto done;
			}
			b->kv.v = v;
			b->kv.cap = cap;
		}
		b->kv.v[b->kv.n++] = t;
	}
	b->kv_sess = si;
done:
	b->cur = NULL;
	eng_gen_result_fini(&gr);
	free(cv.v);
	free(ids.v);
	return rc;
}

/* ---- input ---- */

struct reader {
	char	 buf[65536];
	size_t	 pos, end;
	int	 eof;
	struct util_buf line;
	int	 too_long;
};

/*
 * Wait for input, then read it: what read(2) returns, or -1 with errno
 * EINTR when SIGINT came. SIGINT is blocked while the flag is tested and
 * pselect unblocks it atomically, so a signal arriving in between cannot
 * be missed.
 */
static ssize_t
read_more(char *buf, size_t n)
{
	sigset_t block, old;
	fd_set fds;
	int pr;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (atomic_load(&batch_cancel)) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = EINTR;
		return -1;
	}
	FD_ZERO(&fds);
	FD_SET(STDIN_FILENO, &fds);
	pr = pselect(STDIN_FILENO + 1, &fds, NULL, NULL, NULL, &old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pr < 0)
		return -1;
	return read(STDIN_FILENO, buf, n);
}

/* The next line into r->line (its newline and a CR before that
 * removed): 1, or 0 at the end of input, ERR_CANCELLED on SIGINT, ERR_IO
 * on a read error. r->too_long: the line was cut. */
static int
read_line(struct reader *r, struct err *e)
{
	char *nl;
	size_t n;
	ssize_t got;
	int any = 0;

	r->line.len = 0;
	r->line.fail = 0;
	r->too_long = 0;
	for (;;) {
		if (r->pos == r->end) {
			if (r->eof)
				break;
			got = read_more(r->buf, sizeof r->buf);
			if (atomic_load(&batch_cancel))
				return ERR_CANCELLED;
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got < 0)
				return err_set(e, ERR_IO, "stdin: %s",
				    strerror(errno));
			r->pos = 0;
			r->end = (size_t)got;
			if (got == 0) {
				r->eof = 1;
				break;
			}
		}
		any = 1;
		nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		n = (nl ? (size_t)(nl - r->buf) : r->end) - r->pos;
		if (r->line.len + n > MAX_LINE)
			r->too_long = 1;
		else
			util_buf_put(&r->line, r->buf + r->pos, n);
		r->pos += n;
		if (nl != NULL) {
			r->pos++;
			break;
		}
	}
	if (!any)
		return 0;
	if (r->line.fail)
		r->too_long = 1;
	if (r->line.len > 0 && r->line.s[r->line.len - 1] == '\r')
		r->line.s[--r->line.len] = '\0';
	return 1;
}

/* ---- the command ---- */

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope batch [MODEL] [options] < REQUESTS\n\n"
	    "Without MODEL, the embedded default model (a tiny demo MoE).\n"
	    "Reads one request per line from stdin, a prompt or a JSON "
	    "object\n"
	    "{\"id\", \"prompt\" | \"messages\", \"max_tokens\", "
	    "\"temperature\", \"top_p\",\n"
	    " \"top_k\", \"min_p\", \"repeat_penalty\", \"seed\", "
	    "\"stop\", \"session\"},\n"
	    "and writes one JSON object per request to stdout, in order:\n"
	    "{\"id\", \"text\", \"finish_reason\", \"usage\", \"timing\", "
	    "\"routing\"}.\n\n"
	    "  --chat              prompts are user messages in the model's "
	    "chat template\n"
	    "                      (messages always are); otherwise raw "
	    "completions\n"
	    "  --system TEXT       a system message before --chat prompts\n"
	    "  --chat-template FILE|NAME  override the model's template\n"
	    "  --format json|text  text: only the answers, each followed by "
	    "the delimiter\n"
	    "  --delimiter STR     after each text answer (default \"\\n\"; "
	    "\\n \\t \\0 \\\\ work)\n"
	    "  --stream            token events as they are generated\n"
	    "  --routing none|summary|full  per-request expert load "
	    "(default summary);\n"
	    "                      full adds each token's experts and "
	    "weights\n"
	    "  --no-timing         leave out timing, so output is "
	    "byte-for-byte repeatable\n"
	    "  --sessions N        session transcripts kept (default %d)\n\n"
	    "%s", DEF_SESSIONS, cmd_opts_help);
}

/* STR with \n \t \0 \\ decoded, malloc'd, its length in *len. */
static char *
unescape(const char *s, size_t *len)
{
	char *o = malloc(strlen(s) + 1);
	size_t n = 0;

	if (o == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s != '\\' || s[1] == '\0') {
			o[n++] = *s;
			continue;
		}
		s++;
		o[n++] = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == '0' ?
		    '\0' : *s == 'r' ? '\r' : *s;
	}
	o[n] = '\0';
	*len = n;
	return o;
}

static int
parse_args(struct batch *b, int argc, char **argv, const char **model)
{
	const char *f;
	long v;
	int i, r;

	for (i = 1; i < argc; i++) {
		if ((r = cmd_opts_parse(&b->o, argc, argv, &i)) < 0)
			return -1;
		if (r > 0)
			continue;
		f = argv[i];
		if (strcmp(f, "--chat") == 0)
			b->chat = 1;
		else if (strcmp(f, "--stream") == 0)
			b->stream = 1;
		else if (strcmp(f, "--no-timing") == 0)
			b->timing = 0;
		else if (f[0] == '-' && i + 1 >= argc &&
		    (strcmp(f, "--system") == 0 ||
		    strcmp(f, "--chat-template") == 0 ||
		    strcmp(f, "--format") == 0 ||
		    strcmp(f, "--delimiter") == 0 ||
		    strcmp(f, "--routing") == 0 ||
		    strcmp(f, "--sessions") == 0)) {
			fprintf(stderr, "moescope batch: %s needs a value\n", f);
			return -1;
		} else if (strcmp(f, "--system") == 0)
			b->system = argv[++i];
		else if (strcmp(f, "--chat-template") == 0)
			b->tmpl = argv[++i];
		else if (strcmp(f, "--format") == 0) {
			f = argv[++i];
			if (strcmp(f, "json") == 0)
				b->format = FMT_JSON;
			else if (strcmp(f, "text") == 0)
				b->format = FMT_TEXT;
			else {
				fprintf(stderr, "moescope batch: --format: "
				    "'%s' is not json or text\n", f);
				return -1;
			}
		} else if (strcmp(f, "--delimiter") == 0) {
			free(b->delim);
			if ((b->delim = unescape(argv[++i], &b->delim_len)) ==
			    NULL)
				return -1;
		} else if (strcmp(f, "--routing") == 0) {
			f = argv[++i];
			if (strcmp(f, "none") == 0)
				b->routing = ROUTE_NONE;
			else if (strcmp(f, "summary") == 0)
				b->routing = ROUTE_SUMMARY;
			else if (strcmp(f, "full") == 0)
				b->routing = ROUTE_FULL;
			else {
				fprintf(stderr, "moescope batch: --routing: "
				    "'%s' is not none, summary or full\n", f);
				return -1;
			}
		} else if (strcmp(f, "--sessions") == 0) {
			if (util_parse_long(argv[++i], 1, 1 << 16, &v) != 0) {
				fprintf(stderr, "moescope batch: --sessions: "
				    "'%s' is not an integer in 1..65536\n",
				    argv[i]);
				return -1;
			}
			b->max_sessions = (int)v;
		} else if (f[0] != '-' && *model == NULL)
			*model = f;
		else {
			fprintf(stderr, "moescope batch: unexpected '%s'\n", f);
			return -1;
		}
	}
	return 0;
}

static void
batch_fini(struct batch *b)
{
	int i;

	if (b->sess != NULL)
		for (i = 0; i < b->max_sessions; i++)
			session_clear(&b->sess[i]);
	free(b->sess);
	free(b->kv.v);
	free(b->load);
	free(b->trace.s);
	free(b->out.s);
	free(b->delim);
	eng_sampler_free(b->s);
	eng_ctx_free(b->c);
	if (b->have_chat)
		eng_chat_fini(&b->chat_c);
	eng_model_free(b->m);
}

/* Load the model (MODEL, else the embedded default), its tokenizer and
 * template, and a context. ERR_USAGE after printing a bad budget flag. */
static int
batch_open(struct batch *b, const char *model, struct err *e)
{
	char *path = NULL;
	int rc;

	/* no MODEL: the embedded default model (models/README.md) */
	if ((rc = cmd_model_path(model, &path, e)) != 0)
		return rc;
	rc = eng_model_open(&b->m, path, e);
	free(path);
	if (rc != 0)
		return rc;
	if (cmd_opts_resolve(&b->o, b->m) != 0)
		return ERR_USAGE;
	b->hp = eng_model_hparams(b->m);
	if ((rc = eng_chat_load(&b->chat_c, eng_model_gguf(b->m), b->tmpl,
	    e)) != 0)
		return rc;
	b->have_chat = 1;
	if ((rc = eng_ctx_new(&b->c, b->m, &b->o.ep, e)) != 0)
		return rc;
	b->load = calloc((size_t)b->hp->n_layer * (b->hp->n_expert + 1),
	    sizeof *b->load);
	b->sess = calloc((size_t)b->max_sessions, sizeof *b->sess);
	if (b->load == NULL || b->sess == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	eng_set_route_hook(b->c, on_route, b);
	return 0;
}

int
cmd_batch_main(int argc, char **argv)
{
	struct batch b;
	struct reader *rd = NULL;
	struct req q;
	struct sigaction sa;
	sigset_t mask;
	struct err e = { 0 };
	const char *model = NULL;
	long line = 0;
	int rc = 1, r, cancelled;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	memset(&b, 0, sizeof b);
	memset(&q, 0, sizeof q);
	cmd_opts_init(&b.o);
	b.routing = ROUTE_SUMMARY;
	b.timing = 1;
	b.max_sessions = DEF_SESSIONS;
	b.kv_sess = -1;
	if (parse_args(&b, argc, argv, &model) != 0) {
		usage(stderr);
		batch_fini(&b);
		return 2;
	}
	if (b.delim == NULL && (b.delim = unescape("\\n", &b.delim_len)) ==
	    NULL) {
		batch_fini(&b);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);		/* EPIPE from write instead */
	/* the engine's workers start with SIGINT blocked, so that it is
	 * always this thread that the signal interrupts */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	r = batch_open(&b, model, &e);
	pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
	if (r == ERR_USAGE && e.code == 0) {
		rc = 2;		/* a bad budget flag, already reported */
		goto out;
	}
	if (r != 0 || (rd = calloc(1, sizeof *rd)) == NULL) {
		if (r == 0)
			err_set(&e, ERR_NOMEM, "out of memory");
		cmd_fail(&e);
		goto out;
	}
	for (;;) {
		err_clear(&e);
		r = read_line(rd, &e);
		if (r == ERR_CANCELLED) {
			rc = 130;
			goto out;
		}
		if (r < 0) {
			cmd_fail(&e);
			goto out;
		}
		if (r == 0) {
			rc = 0;
			goto out;
		}
		line++;
		memset(&q, 0, sizeof q);
		q.line = line;
		r = 0;
		if (rd->too_long)
			r = err_set(&e, ERR_RANGE, "the line is longer than "
			    "%u bytes", MAX_LINE);
		else {
			size_t i;

			for (i = 0; i < rd->line.len &&
			    strchr(" \t\r\f\v", rd->line.s[i]) != NULL; i++)
				;
			if (i == rd->line.len)
				continue;	/* blank */
			r = parse_line(&b, &q, rd->line.s, rd->line.len, &e);
		}
		cancelled = 0;
		if (r == 0)
			r = run_request(&b, &q, &cancelled, &e);
		if (r != 0 && r != ERR_IO && !b.out_errno)
			r = put_error(&b, &q, e.msg[0] ? e.msg :
			    err_name(e.code));
		req_fini(&q);
		if (b.out_errno)
			break;
		if (cancelled || atomic_load(&batch_cancel)) {
			rc = 130;
			goto out;
		}
	}
	/* stdout is gone: stop quietly (141: as if killed by SIGPIPE) */
	if (b.out_errno == EPIPE)
		rc = 141;
	else if (b.out_errno != EBADF)
		fprintf(stderr, "moescope batch: stdout: %s\n",
		    strerror(b.out_errno));
out:
	req_fini(&q);
	if (rd != NULL)
		free(rd->line.s);
	free(rd);
	batch_fini(&b);
	return rc;
}
