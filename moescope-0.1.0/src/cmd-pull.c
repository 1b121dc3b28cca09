/*
 * cmd-pull.c - `moescope pull ORG/NAME[@REV] [--type T] [--file F.gguf]`:
 * download a model from the hub into the huggingface_hub cache (net
 * room), then convert it (convert room) into the local store as
 * $MOESCOPE_HOME/models/ORG/NAME.gguf, so that `moescope run ORG/NAME`
 * finds it. With --file, a GGUF file of the repo is fetched and linked
 * there instead of converting; a repo of GGUF files without
 * config.json gets the one whose name holds the --type (e.g. Q4_K_M).
 * A record next to the GGUF
 * (NAME.gguf.source: repo, commit, type) lets a repeated pull skip a
 * conversion that is already done. Ctrl-C stops the transfers and keeps
 * the partial files; the next pull resumes them.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "convert/convert.h"
#include "net/net.h"
#include "util/util.h"

static volatile sig_atomic_t stop;

static void
on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: moescope pull ORG/NAME[@REV] [--type T] [--file F.gguf]\n"
	    "\n"
	    "Download a model from the Hugging Face hub into its cache\n"
	    "($HF_HUB_CACHE, or $HF_HOME/hub, or ~/.cache/huggingface/hub;\n"
	    "shared with huggingface_hub), convert it to GGUF and put it in\n"
	    "the local store as ORG/NAME. Interrupted downloads resume.\n"
	    "\n"
	    "  --type T        f32, f16, bf16, q8_0, q4_0, q4_k_m (default),\n"
	    "                  q5_k_m, q6_k\n"
	    "  --file F.gguf   fetch this GGUF file of the repo instead of\n"
	    "                  converting the safetensors (a GGUF repo\n"
	    "                  without it: the file named like --type)\n"
	    "  --parallel N    concurrent transfers (default 4)\n"
	    "  -q, --quiet     no progress bar\n"
	    "  -h, --help      this help\n"
	    "\n"
	    "environment: HF_ENDPOINT (default https://huggingface.co),\n"
	    "HF_TOKEN (gated repos), HF_HUB_OFFLINE=1 (cache only),\n"
	    "HF_HOME, HF_HUB_CACHE, MOESCOPE_HOME.\n");
}

static int
conv_progress(void *arg, const char *tensor, uint64_t done, uint64_t total)
{
	char a[32], b[32];

	(void)arg;
	fprintf(stderr, "\rconverting: %s / %s  %-40.40s",
	    util_fmt_bytes(done, a, sizeof a),
	    util_fmt_bytes(total, b, sizeof b), tensor);
	if (done == total)
		fputc('\n', stderr);
	return stop;
}

static int
mkdir_p(const char *dir, struct err *e)
{
	char *p = strdup(dir), *s;

	if (p == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		{
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				int rc = err_set(e, ERR_IO, "%s: %s", p,
				    strerror(errno));

				free(p);
				return rc;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return 0;
}

/*
 * A repo without config.json but with GGUF files: the one whose name
 * holds the type ("Q4_K_M"), in one piece (not split "-00001-of-"). NULL
 * (with a message listing them) when none or several fit.
 */
static char *
pick_gguf(const struct net_opts *o, const char *repo, const char *rev,
    int type, struct err *e)
{
	char **f = NULL, *pick = NULL, want[16];
	size_t n = 0, i, k, hits = 0, ng = 0;

	if (net_hub_list(o, repo, rev, &f, &n, e) != 0)
		return NULL;
	snprintf(want, sizeof want, "%s", convert_type_name(type));
	for (k = 0; want[k]; k++)
		want[k] = (char)toupper((unsigned char)want[k]);
	for (i = 0; i < n; i++) {
		char up[256];

		if (strcmp(f[i], "config.json") == 0) {
			hits = 0;
			ng = 0;
			break;
		}
		if (strstr(f[i], ".gguf") == NULL || strchr(f[i], '/'))
			continue;
		ng++;
		snprintf(up, sizeof up, "%s", f[i]);
		for (k = 0; up[k]; k++)
			up[k] = (char)toupper((unsigned char)up[k]);
		if (strstr(up, want) != NULL && strstr(up, "-OF-") == NULL) {
			hits++;
			free(pick);
			pick = strdup(f[i]);
		}
	}
	if (ng > 0 && hits != 1) {
		free(pick);
		pick = NULL;
		err_set(e, ERR_NOTFOUND, "%s holds GGUF files but %s %s: "
		    "choose one with --file NAME.gguf", repo, hits ?
		    "several match" : "none matches", want);
	} else if (ng == 0)
		err_clear(e);
	for (i = 0; i < n; i++)
		free(f[i]);
	free(f);
	return pick;
}

static int
has_file(const struct net_snapshot *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i], name) == 0)
			return 1;
	return 0;
}

int
cmd_pull_main(int argc, char **argv)
{
	static const char *const hf_files[] = {
		"config.json", "generation_config.json", "tokenizer.json",
		"tokenizer_config.json", "tokenizer.model",
		"special_tokens_map.json", "added_tokens.json",
		"chat_template.jinja", "model.safetensors.index.json",
		"*.safetensors",
		/* Mistral's repos also hold the same weights unsharded */
		"!consolidated*.safetensors", NULL
	};
	const char *want[2] = { NULL, NULL }, *file = NULL, *arg = NULL;
	char *repo = NULL, *rev = NULL, *dir = NULL, *out = NULL, *src = NULL;
	char *record = NULL, *have = NULL, a[32], *at, *picked = NULL;
	struct net_opts o;
	struct net_snapshot snap;
	struct convert_opts co;
	struct sigaction sa, old;
	struct err e;
	size_t len;
	long par;
	int i, type = CONVERT_Q4_K_M, quiet = 0, rc = 1, t;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	err_clear(&e);
	memset(&snap, 0, sizeof snap);
	if (net_opts_from_env(&o, &e) != 0)
		return cmd_fail(&e);
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--type") == 0 && i + 1 < argc) {
			if ((t = convert_type_parse(argv[++i])) < 0) {
				fprintf(stderr, "moescope pull: unknown --type "
				    "'%s'\n", argv[i]);
				goto usage_err;
			}
			type = t;
		} else if (strcmp(s, "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(s, "--parallel") == 0 && i + 1 < argc) {
			if (util_parse_long(argv[++i], 1, 64, &par) != 0) {
				fprintf(stderr, "moescope pull: bad --parallel "
				    "'%s'\n", argv[i]);
				goto usage_err;
			}
			o.parallel = (int)par;
		} else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0)
			quiet = 1;
		else if (s[0] == '-') {
			fprintf(stderr, "moescope pull: bad option '%s'\n", s);
			goto usage_err;
		} else if (arg == NULL)
			arg = s;
		else {
			fprintf(stderr, "moescope pull: extra argument '%s'\n",
			    s);
			goto usage_err;
		}
	}
	if (arg == NULL)
		goto usage_err;
	if ((repo = strdup(arg)) == NULL)
		goto nomem;
	if ((at = strchr(repo, '@')) != NULL) {
		*at = '\0';
		rev = at + 1;
	}
	if (file != NULL && (strchr(file, '/') != NULL ||
	    strstr(file, ".gguf") == NULL)) {
		fprintf(stderr, "moescope pull: --file wants a .gguf file "
		    "name\n");
		goto usage_err;
	}
	if (!quiet && isatty(2))
		o.progress = net_progress_bar;
	o.cancel = &stop;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	/* a GGUF repo without --file: the file of the requested type */
	if (file == NULL) {
		picked = pick_gguf(&o, repo, rev, type, &e);
		if (picked == NULL && e.msg[0] != '\0')
			goto fail;
		file = picked;
	}
	want[0] = file;
	if (net_hub_download(&o, repo, rev, file ? want : hf_files, &snap,
	    &e) != 0)
		goto fail;
	if (!quiet && isatty(2) && snap.bytes_fetched > 0 &&
	    snap.seconds > 0)
		fprintf(stderr, "downloaded %s in %.1fs (%s/s)\n",
		    util_fmt_bytes(snap.bytes_fetched, a, sizeof a),
		    snap.seconds, util_fmt_bytes((uint64_t)(
		    (double)snap.bytes_fetched / snap.seconds), a + 16, 16));
	if (cmd_models_dir(&dir, &e) != 0)
		goto fail;
	if ((out = malloc(strlen(dir) + strlen(repo) + 16)) == NULL ||
	    (src = malloc(strlen(snap.dir) + 300)) == NULL ||
	    (record = malloc(strlen(dir) + strlen(repo) + 24)) == NULL)
		goto nomem;
	sprintf(out, "%s/%s.gguf", dir, repo);
	sprintf(record, "%s/%s.gguf.source", dir, repo);
	*strrchr(out, '/') = '\0';
	if (mkdir_p(out, &e) != 0)
		goto fail;
	sprintf(out, "%s/%s.gguf", dir, repo);
	if (file != NULL) {
		if (!has_file(&snap, file)) {
			err_set(&e, ERR_NOTFOUND, "%s has no file %s", repo,
			    file);
			goto fail;
		}
		sprintf(src, "%s/%s", snap.dir, file);
		unlink(out);
		if (symlink(src, out) != 0) {
			err_set(&e, ERR_IO, "%s: %s", out, strerror(errno));
			goto fail;
		}
		unlink(record);
	} else {
		char rec[512];

		if (!has_file(&snap, "config.json")) {
			err_set(&e, ERR_NOTFOUND, "%s has no config.json: "
			    "not a transformers checkpoint (for a GGUF repo "
			    "use --file NAME.gguf)", repo);
			goto fail;
		}
		snprintf(rec, sizeof rec, "%s %s %s\n", repo, snap.commit,
		    convert_type_name(type));
		if (util_read_file(record, &have, &len, NULL) == 0 &&
		    strcmp(have, rec) == 0 && access(out, R_OK) == 0) {
			if (!quiet)
				fprintf(stderr, "%s is up to date\n", out);
		} else {
			const char *nm = strchr(repo, '/') + 1;

			unlink(record);
			convert_opts_init(&co);
			co.hf_dir = snap.dir;
			co.out = out;
			co.type = type;
			co.name = nm;
			if (!quiet && isatty(2))
				co.progress = conv_progress;
			if (convert_run(&co, &e) != 0)
				goto fail;
			if (util_write_file(record, rec, strlen(rec), &e) != 0)
				goto fail;
		}
	}
	printf("%s\n", out);
	if (!quiet && isatty(1))
		fprintf(stderr, "run it: moescope run %s -p \"Hello\"\n", repo);
	rc = 0;
	goto done;
usage_err:
	usage(stderr);
	rc = 2;
	goto done;
nomem:
	err_set(&e, ERR_NOMEM, "out of memory");
fail:
	if (o.progress != NULL)
		fputc('\n', stderr);
	rc = cmd_fail(&e);
	if (stop)
		rc = 130;
done:
	if (arg != NULL)
		sigaction(SIGINT, &old, NULL);
	net_snapshot_free(&snap);
	net_opts_fini(&o);
	free(repo);
	free(dir);
	free(out);
	free(src);
	free(record);
	free(have);
	free(picked);
	return rc;
}
