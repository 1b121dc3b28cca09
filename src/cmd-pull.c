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
 * the partial files; the next pull resumes them. The work itself is
 * convert_pull_run() (convert-pull.c), which the TUI's /pull shares;
 * this file parses the command line and draws the progress on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
cmd_pull_main(int argc, char **argv)
{
	const char *file = NULL, *arg = NULL;
	char *dir = NULL, a[32], b[32];
	struct net_opts o;
	struct convert_pull_opts po;
	struct convert_pull_result res;
	struct sigaction sa, old;
	struct err e;
	long par;
	int i, type = CONVERT_Q4_K_M, quiet = 0, rc = 1, t;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	err_clear(&e);
	memset(&res, 0, sizeof res);
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
	if (file != NULL && (strchr(file, '/') != NULL ||
	    strstr(file, ".gguf") == NULL)) {
		fprintf(stderr, "moescope pull: --file wants a .gguf file "
		    "name\n");
		goto usage_err;
	}
	if (cmd_models_dir(&dir, &e) != 0)
		goto fail;
	if (!quiet && isatty(2))
		o.progress = net_progress_bar;
	o.cancel = &stop;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	convert_pull_opts_init(&po);
	po.repo = arg;
	po.type = type;
	po.file = file;
	po.models_dir = dir;
	po.net = &o;
	if (!quiet && isatty(2)) {
		po.progress = cmd_convert_progress;
		po.progress_arg = (void *)&stop;	/* Ctrl-C cancels */
	}
	rc = convert_pull_run(&po, &res, &e);
	sigaction(SIGINT, &old, NULL);
	if (rc != 0)
		goto fail;
	if (!quiet && isatty(2) && res.bytes_fetched > 0 && res.seconds > 0)
		fprintf(stderr, "downloaded %s in %.1fs (%s/s)\n",
		    util_fmt_bytes(res.bytes_fetched, a, sizeof a),
		    res.seconds, util_fmt_bytes((uint64_t)(
		    (double)res.bytes_fetched / res.seconds), b, sizeof b));
	if (!quiet && res.up_to_date)
		fprintf(stderr, "%s is up to date\n", res.path);
	printf("%s\n", res.path);
	if (!quiet && isatty(1))
		fprintf(stderr, "run it: moescope run %s -p \"Hello\"\n", arg);
	rc = 0;
	goto done;
usage_err:
	usage(stderr);
	rc = 2;
	goto done;
fail:
	if (o.progress != NULL)
		fputc('\n', stderr);
	rc = cmd_fail(&e);
	if (stop)
		rc = 130;
done:
	convert_pull_result_free(&res);
	net_opts_fini(&o);
	free(dir);
	return rc;
}
