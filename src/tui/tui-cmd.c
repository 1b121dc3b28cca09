/*
 * tui-cmd.c - slash commands typed in the input line, and their Tab
 * completion (command names, /set parameter names, /pull's words and
 * types, file names).
 *
 * Commands change the UI state and queue engine requests; none waits
 * for the engine, nor for a download: /pull and /model ORG/NAME start a
 * job on its own thread (tui-pull.c). Results and errors show as notes
 * in the chat pane.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"
#include "net/net.h"
#include "tui/tui-int.h"

const struct tui_cmd_help tui_cmd_list[] = {
	{ "/help", "", "list the commands" },
	{ "/system", "[TEXT]", "set (or show) the system prompt" },
	{ "/clear", "", "start a new conversation" },
	{ "/regen", "", "generate the last reply again" },
	{ "/read", "FILE", "put a file's text in the input" },
	{ "/save", "FILE", "save the conversation (JSON)" },
	{ "/load", "FILE", "load a saved conversation" },
	{ "/set", "NAME VALUE", "temp top-k top-p min-p seed max-tokens" },
	{ "/model", "PATH|ORG/NAME", "load a model; a hub id is pulled first" },
	{ "/pull", "ORG/NAME [--type T]",
	    "download + convert (cancel, clear)" },
	{ "/tokens", "1,2,3", "send token ids as your turn" },
	{ "/stats", "", "session statistics" },
	{ "/quit", "", "leave" },
	{ NULL, NULL, NULL }
};

static const char *const pull_words[] = {
	"cancel", "clear", "--type", "--file", NULL
};

static const char *const type_names[] = {
	"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k", NULL
};

static const char *const set_names[] = {
	"temp", "top-k", "top-p", "min-p", "seed", "max-tokens",
	"repeat-penalty", NULL
};

static int
parse_float(const char *s, double *v)
{
	char *end;

	*v = strtod(s, &end);
	return end != s && *end == '\0' && *v == *v;
}

static void
cmd_set(struct tui *t, const char *args)
{
	char name[32];
	const char *val;
	double v;
	long l;
	struct eng_sampler_params sp = t->sp;
	int mt = t->max_tokens, n;

	if (sscanf(args, "%31s%n", name, &n) != 1) {
		tui_note(t, ROLE_NOTE, "temp %.2f  top-k %d  top-p %.2f  "
		    "min-p %.2f  seed %llu  max-tokens %d  repeat-penalty "
		    "%.2f", (double)sp.temp, sp.top_k, (double)sp.top_p,
		    (double)sp.min_p, (unsigned long long)sp.seed, mt,
		    (double)sp.repeat_penalty);
		return;
	}
	val = args + n;
	while (*val == ' ')
		val++;
	if (*val == '\0') {
		tui_note(t, ROLE_ERROR, "/set %s needs a value", name);
		return;
	}
	if (strcmp(name, "seed") == 0 || strcmp(name, "top-k") == 0 ||
	    strcmp(name, "max-tokens") == 0) {
		if (util_parse_long(val, 0, strcmp(name, "seed") == 0 ?
		    0x7fffffffL : 1 << 24, &l) != 0) {
			tui_note(t, ROLE_ERROR, "/set %s: '%s' is not a "
			    "non-negative integer", name, val);
			return;
		}
		if (strcmp(name, "seed") == 0)
			sp.seed = (uint64_t)l;
		else if (strcmp(name, "top-k") == 0)
			sp.top_k = (int)l;
		else
			mt = (int)l;
	} else if (strcmp(name, "temp") == 0 || strcmp(name, "top-p") == 0 ||
	    strcmp(name, "min-p") == 0 ||
	    strcmp(name, "repeat-penalty") == 0) {
		if (!parse_float(val, &v) || v < 0 || v > 100) {
			tui_note(t, ROLE_ERROR, "/set %s: '%s' is not a "
			    "number in 0..100", name, val);
			return;
		}
		if (strcmp(name, "temp") == 0)
			sp.temp = (float)v;
		else if (strcmp(name, "top-p") == 0)
			sp.top_p = (float)v;
		else if (strcmp(name, "min-p") == 0)
			sp.min_p = (float)v;
		else
			sp.repeat_penalty = (float)v;
	} else {
		tui_note(t, ROLE_ERROR, "/set: unknown parameter '%s' (temp "
		    "top-k top-p min-p seed max-tokens repeat-penalty)", name);
		return;
	}
	t->sp = sp;
	t->max_tokens = mt;
	eng_session_set_params(t->sess, &sp, mt);
	tui_note(t, ROLE_NOTE, "%s = %s", name, val);
}

static void
cmd_tokens(struct tui *t, const char *args)
{
	struct tui_msg *m;
	const char *p = args;
	char *end;
	long v;
	int i;

	if (t->generating) {
		tui_status(t, 1, "busy: Ctrl-C stops the reply first");
		return;
	}
	for (i = 0; i < t->conv.n; i++)
		if (t->conv.m[i].role == ROLE_USER &&
		    t->conv.m[i].n_ids == 0) {
			tui_note(t, ROLE_ERROR, "/tokens: this is a text chat; "
			    "/clear first to send raw token ids");
			return;
		}
	if ((m = tui_conv_add(&t->conv, ROLE_USER, args, strlen(args))) ==
	    NULL)
		return;
	m->done = 1;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		v = strtol(p, &end, 10);
		if (end == p || v < 0 || v >= (t->loaded ?
		    t->info.hp.n_vocab : INT32_MAX)) {
			tui_note(t, ROLE_ERROR, "/tokens: bad token id near "
			    "'%.20s'%s", p, t->loaded ? " (outside the "
			    "vocabulary)" : "");
			tui_conv_del(&t->conv, t->conv.n - 2);
			return;
		}
		/* the message's text stays the ids as typed */
		if (tui_msg_add_token(m, (int32_t)v, -1, "", 0) != 0)
			return;
		p = end;
	}
	if (m->n_ids == 0) {
		tui_note(t, ROLE_ERROR, "/tokens needs ids: /tokens 1,2,3");
		tui_conv_del(&t->conv, t->conv.n - 2);
		return;
	}
	tui_generate(t);
}

static void
cmd_stats(struct tui *t)
{
	const struct tui_stats *st = &t->st;
	char mem[32];
	double mm = 0, cv = 0, h = 0;
	int il, n = 0, worst = -1;

	if (!t->have_stats) {
		tui_note(t, ROLE_NOTE, "no model");
		return;
	}
	for (il = 0; il < st->n_layer; il++)
		if (st->maxmean[il] > 0) {
			mm += st->maxmean[il];
			cv += st->cv[il];
			h += st->entropy[il];
			if (worst < 0 || st->maxmean[il] > st->maxmean[worst])
				worst = il;
			n++;
		}
	tui_note(t, ROLE_NOTE, "%llu tokens routed, context %d/%d, mem %s, "
	    "decode %.1f tok/s, prefill %.0f tok/s",
	    (unsigned long long)st->n_tokens, st->n_recs, t->info.n_ctx,
	    util_fmt_bytes(tui_rss_bytes(), mem, sizeof mem), st->tps_now,
	    st->prefill_now);
	if (st->last.finish != 0)
		tui_note(t, ROLE_NOTE, "last reply: %d tokens, decode %.2f "
		    "tok/s (wall clock), %.2f tok/s in the forward passes; "
		    "prefill "
		    "%.2f tok/s; ttft %.1f ms", st->last.gen_tokens,
		    st->last.decode_tps, st->last.eval_decode_tps,
		    st->last.prefill_tps, st->last.ttft_ms);
	if (n > 0)
		tui_note(t, ROLE_NOTE, "balance over %d MoE layers: mean "
		    "max/mean %.2f, cv %.2f, entropy %.0f%%; worst layer %d "
		    "(max/mean %.2f)", n, mm / n, cv / n, h / n * 100, worst,
		    st->maxmean[worst]);
}

static void
cmd_read(struct tui *t, const char *path)
{
	struct err e = { 0 };
	char *buf;
	size_t len;

	if (util_read_file(path, &buf, &len, &e) != 0) {
		tui_note(t, ROLE_ERROR, "/read: %s", e.msg);
		return;
	}
	free(t->in);
	t->in = buf;
	t->in_len = t->in_cur = len;
	t->in_cap = len + 1;
	tui_status(t, 0, "read %zu bytes into the input", len);
}

/*
 * "ORG/NAME[@REV] [--type T] [--file F.gguf]" -> repo, type, file
 * (pointers into buf, a copy of args). 0, or -1 after a note saying
 * what is wrong.
 */
static int
pull_args(struct tui *t, const char *cmd, const char *args, char *buf,
    size_t len, const char **repo, int *type, const char **file)
{
	char *tok, *save = NULL;

	*repo = *file = NULL;
	*type = CONVERT_Q4_K_M;
	snprintf(buf, len, "%s", args);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "--type") == 0 || strcmp(tok, "--file") == 0) {
			const char *v = strtok_r(NULL, " ", &save);

			if (v == NULL) {
				tui_note(t, ROLE_ERROR, "%s: %s needs a value",
				    cmd, tok);
				return -1;
			}
			if (tok[2] == 'f')
				*file = v;
			else if ((*type = convert_type_parse(v)) < 0) {
				tui_note(t, ROLE_ERROR, "%s: unknown --type "
				    "'%s' (f32 f16 bf16 q8_0 q4_0 q4_k_m "
				    "q5_k_m q6_k)", cmd, v);
				return -1;
			}
		} else if (tok[0] == '-') {
			tui_note(t, ROLE_ERROR, "%s: unknown option '%s' "
			    "(--type T, --file F.gguf)", cmd, tok);
			return -1;
		} else if (*repo == NULL)
			*repo = tok;
		else {
			tui_note(t, ROLE_ERROR, "%s: one repo at a time "
			    "('%s' is extra)", cmd, tok);
			return -1;
		}
	}
	if (*repo == NULL) {
		tui_note(t, ROLE_ERROR, "%s ORG/NAME[@REV] [--type T] "
		    "[--file F.gguf]", cmd);
		return -1;
	}
	if (*file != NULL && (strchr(*file, '/') != NULL ||
	    strstr(*file, ".gguf") == NULL)) {
		tui_note(t, ROLE_ERROR, "%s: --file wants a .gguf file name "
		    "of the repo", cmd);
		return -1;
	}
	return 0;
}

static void
start_pull(struct tui *t, const char *cmd, const char *args, int load)
{
	struct err e = { 0 };
	const char *repo, *file;
	char buf[1024];
	int type;

	if (pull_args(t, cmd, args, buf, sizeof buf, &repo, &type, &file) != 0)
		return;
	if (tui_pull_start(t, repo, type, file, load, &e) != 0) {
		tui_note(t, ROLE_ERROR, "%s: %s", cmd, e.msg);
		return;
	}
	tui_note(t, ROLE_NOTE, "pulling %s (%s) from the hub%s; the chat "
	    "stays usable, /pull cancel stops it", repo, file != NULL ? file :
	    convert_type_name(type), load ? " to load it" : "");
}

static void
cmd_pull(struct tui *t, const char *args)
{
	struct tui_pulls *p = &t->pulls;
	int i, n;

	if (*args == '\0') {
		if (p->n == 0) {
			tui_note(t, ROLE_NOTE, "no downloads: /pull ORG/NAME"
			    "[@REV] [--type T] [--file F.gguf]");
			return;
		}
		/* show the panel again for a while */
		t->hidden[PANEL_PULL] = 0;
		p->shown_until = util_now_ns() + 20ull * 1000000000ull;
		for (i = 0; i < p->n; i++)
			if (p->jobs[i].phase == PULL_DONE)
				tui_note(t, ROLE_NOTE, "#%d %s: %s",
				    p->jobs[i].id, p->jobs[i].repo,
				    p->jobs[i].path);
		return;
	}
	if (strncmp(args, "cancel", 6) == 0 && (args[6] == '\0' ||
	    args[6] == ' ')) {
		args += 6;
		while (*args == ' ')
			args++;
		if ((n = tui_pull_cancel(t, args)) == 0)
			tui_note(t, ROLE_ERROR, "/pull cancel: %s", *args ?
			    "no such download running" : "no download running");
		else
			tui_status(t, 0, "cancelling %d download%s", n,
			    n > 1 ? "s" : "");
		return;
	}
	if (strcmp(args, "clear") == 0) {
		tui_pull_clear(t);
		return;
	}
	start_pull(t, "/pull", args, 0);
}

/* A MODEL that is no file: a hub id to pull (and not a path). */
static int
hub_id(const char *arg)
{
	char repo[256];
	const char *at = strchr(arg, '@'), *sp = strchr(arg, ' ');
	size_t n = at != NULL ? (size_t)(at - arg) : sp != NULL ?
	    (size_t)(sp - arg) : strlen(arg);

	if (n >= sizeof repo)
		return 0;
	memcpy(repo, arg, n);
	repo[n] = '\0';
	return net_repo_valid(repo) && strstr(repo, ".gguf") == NULL &&
	    strstr(repo, ".safetensors") == NULL;
}

void
tui_cmd_model(struct tui *t, const char *arg, int startup)
{
	struct err e = { 0 };
	char *path = NULL;
	size_t n;
	int i;

	/* the user chose: a pull's pending load is off */
	t->pending_model[0] = '\0';
	for (i = 0; i < t->pulls.n; i++)
		t->pulls.jobs[i].load = 0;
	if (t->o.resolve_model != NULL &&
	    t->o.resolve_model(arg, &path, &e) != 0 && hub_id(arg)) {
		/* already being pulled: load it when that ends */
		n = strcspn(arg, "@ ");
		for (i = 0; i < t->pulls.n; i++)
			if (t->pulls.jobs[i].phase < PULL_DONE &&
			    strncmp(t->pulls.jobs[i].repo, arg, n) == 0 &&
			    strcspn(t->pulls.jobs[i].repo, "@") == n) {
				t->pulls.jobs[i].load = 1;
				tui_note(t, ROLE_NOTE, "%s is being pulled: "
				    "loading it when that ends",
				    t->pulls.jobs[i].repo);
				return;
			}
		start_pull(t, "/model", arg, 1);
		return;
	}
	if (t->generating)
		eng_session_stop(t->sess);
	t->loading = 1;
	t->loaded = 0;
	eng_session_load(t->sess, path != NULL ? path : arg);
	if (!startup)
		tui_note(t, ROLE_NOTE, "loading %s", path != NULL ? path :
		    arg);
	free(path);
}

void
tui_cmd_run(struct tui *t, const char *line)
{
	char name[32];
	const char *args;
	struct err e = { 0 };
	int n = 0, i;

	if (sscanf(line, "%31s%n", name, &n) != 1)
		return;
	args = line + n;
	while (*args == ' ')
		args++;
	if (strcmp(name, "/quit") == 0 || strcmp(name, "/exit") == 0) {
		t->quit = 1;
	} else if (strcmp(name, "/help") == 0) {
		for (i = 0; tui_cmd_list[i].name != NULL; i++)
			tui_note(t, ROLE_NOTE, "%-8s %-12s %s",
			    tui_cmd_list[i].name, tui_cmd_list[i].args,
			    tui_cmd_list[i].help);
	} else if (strcmp(name, "/system") == 0) {
		if (*args == '\0') {
			tui_note(t, ROLE_NOTE, "system prompt: %s",
			    t->conv.system ? t->conv.system : "(none)");
			return;
		}
		free(t->conv.system);
		t->conv.system = strdup(args);
		tui_note(t, ROLE_SYSTEM, "%s", args);
	} else if (strcmp(name, "/clear") == 0) {
		if (t->generating)
			eng_session_stop(t->sess);
		tui_conv_clear(&t->conv);
		eng_session_reset(t->sess);
		if (t->have_stats)
			tui_stats_clear(&t->st);
		t->chat_scroll = 0;
		tui_status(t, 0, "new conversation");
	} else if (strcmp(name, "/regen") == 0) {
		if (t->generating) {
			tui_status(t, 1, "busy: Ctrl-C stops the reply first");
			return;
		}
		for (i = t->conv.n - 1; i >= 0; i--)
			if (t->conv.m[i].role == ROLE_USER ||
			    t->conv.m[i].role == ROLE_ASSISTANT)
				break;
		if (i < 0 || t->conv.m[i].role != ROLE_ASSISTANT) {
			tui_note(t, ROLE_ERROR, "/regen: no reply to redo");
			return;
		}
		while (t->conv.n > i)
			tui_conv_del(&t->conv, t->conv.n - 1);
		tui_generate(t);
	} else if (strcmp(name, "/read") == 0) {
		if (*args == '\0')
			tui_note(t, ROLE_ERROR, "/read FILE");
		else
			cmd_read(t, args);
	} else if (strcmp(name, "/save") == 0) {
		if (*args == '\0')
			tui_note(t, ROLE_ERROR, "/save FILE");
		else if (tui_conv_save(&t->conv, args, t->loaded ?
		    t->info.path : NULL, &e) != 0)
			tui_note(t, ROLE_ERROR, "/save: %s", e.msg);
		else
			tui_note(t, ROLE_NOTE, "saved to %s", args);
	} else if (strcmp(name, "/load") == 0) {
		if (*args == '\0') {
			tui_note(t, ROLE_ERROR, "/load FILE");
			return;
		}
		if (t->generating)
			eng_session_stop(t->sess);
		if (tui_conv_load(&t->conv, args, &e) != 0) {
			tui_note(t, ROLE_ERROR, "/load: %s", e.msg);
			return;
		}
		eng_session_reset(t->sess);
		if (t->have_stats)
			tui_stats_clear(&t->st);
		t->chat_scroll = 0;
		tui_note(t, ROLE_NOTE, "loaded %s", args);
	} else if (strcmp(name, "/set") == 0) {
		cmd_set(t, args);
	} else if (strcmp(name, "/model") == 0) {
		if (*args == '\0') {
			tui_note(t, ROLE_NOTE, "model: %s", t->loaded ?
			    t->info.path : "(none)");
			return;
		}
		tui_cmd_model(t, args, 0);
	} else if (strcmp(name, "/pull") == 0) {
		cmd_pull(t, args);
	} else if (strcmp(name, "/tokens") == 0) {
		cmd_tokens(t, args);
	} else if (strcmp(name, "/stats") == 0) {
		cmd_stats(t);
	} else
		tui_note(t, ROLE_ERROR, "unknown command %s (/help lists them)",
		    name);
}

/* Replace the input's text from byte `from` on with s. */
static void
input_replace(struct tui *t, size_t from, const char *s)
{
	size_t n = strlen(s);
	char *ni;

	if (from + n + 1 > t->in_cap) {
		if ((ni = realloc(t->in, from + n + 1)) == NULL)
			return;
		t->in = ni;
		t->in_cap = from + n + 1;
	}
	memcpy(t->in + from, s, n + 1);
	t->in_len = t->in_cur = from + n;
}

/* The longest common prefix of the matches, and how many there are. */
static int
complete_from(struct tui *t, size_t from, const char *word,
    const char *const *cands, int ncand, const char *suffix)
{
	char best[512] = "", list[512] = "";
	int i, n = 0;
	size_t k, wl = strlen(word);

	for (i = 0; i < ncand; i++) {
		if (strncmp(cands[i], word, wl) != 0)
			continue;
		if (n++ == 0)
			snprintf(best, sizeof best, "%s", cands[i]);
		else
			for (k = 0; best[k] && best[k] == cands[i][k]; k++)
				;
		if (n > 1)
			best[k] = '\0';
		if (strlen(list) + strlen(cands[i]) + 2 < sizeof list) {
			strcat(list, cands[i]);
			strcat(list, " ");
		}
	}
	if (n == 1) {
		strncat(best, suffix, sizeof best - strlen(best) - 1);
		input_replace(t, from, best);
	} else if (n > 1) {
		input_replace(t, from, best);
		tui_status(t, 0, "%s", list);
	}
	return n;
}

void
tui_cmd_complete(struct tui *t)
{
	const char *names[32], *sp;
	char word[512];
	glob_t g;
	size_t i, from;
	int n = 0, rc;

	if (t->in_len == 0 || t->in[0] != '/')
		return;
	t->in[t->in_len] = '\0';
	sp = strchr(t->in, ' ');
	if (sp == NULL) {
		for (i = 0; tui_cmd_list[i].name != NULL && n < 32; i++)
			names[n++] = tui_cmd_list[i].name;
		if (complete_from(t, 0, t->in, names, n, " ") == 0)
			tui_status(t, 1, "no command starts with %s", t->in);
		return;
	}
	from = (size_t)(sp - t->in) + 1;
	while (from < t->in_len && t->in[from] == ' ')
		from++;
	snprintf(word, sizeof word, "%s", t->in + from);
	if (strncmp(t->in, "/set ", 5) == 0) {
		for (n = 0; set_names[n] != NULL; n++)
			names[n] = set_names[n];
		complete_from(t, from, word, names, n, " ");
		return;
	}
	if (strncmp(t->in, "/pull ", 6) == 0) {
		/* the last word: a type after --type, a running repo after
		 * cancel, else the keywords (options after the repo) */
		const char *ls = strrchr(t->in, ' ');

		from = (size_t)(ls - t->in) + 1;
		snprintf(word, sizeof word, "%s", t->in + from);
		n = 0;
		if (from >= 13 && strncmp(t->in + from - 7, "--type ", 7) == 0)
			for (; type_names[n] != NULL; n++)
				names[n] = type_names[n];
		else if (strncmp(t->in, "/pull cancel ", 13) == 0)
			for (i = 0; i < (size_t)t->pulls.n && n < 32; i++) {
				if (t->pulls.jobs[i].phase < PULL_DONE)
					names[n++] = t->pulls.jobs[i].repo;
			}
		else
			for (i = from == 6 ? 0 : 2; pull_words[i] != NULL; i++)
				names[n++] = pull_words[i];
		if (complete_from(t, from, word, names, n, " ") == 0)
			tui_status(t, 1, "/pull ORG/NAME[@REV] [--type T] "
			    "[--file F.gguf] | cancel [ORG/NAME] | clear");
		return;
	}
	if (strncmp(t->in, "/read ", 6) == 0 ||
	    strncmp(t->in, "/save ", 6) == 0 ||
	    strncmp(t->in, "/load ", 6) == 0 ||
	    strncmp(t->in, "/model ", 7) == 0) {
		strncat(word, "*", sizeof word - strlen(word) - 1);
		rc = glob(word, GLOB_MARK, NULL, &g);
		word[strlen(word) - 1] = '\0';
		if (rc == 0) {
			complete_from(t, from, word,
			    (const char *const *)g.gl_pathv,
			    g.gl_pathc > 64 ? 64 : (int)g.gl_pathc, "");
			globfree(&g);
		} else
			tui_status(t, 1, "no file matches %s*", word);
	}
}
