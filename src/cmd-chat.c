/*
 * cmd-chat.c - `moescope chat [MODEL] [engine flags]`, also what a bare
 * `moescope` runs: the terminal chat (src/tui). When stdin is not a
 * terminal the command behaves as `moescope batch` (when that command is
 * built in), so `echo hi | moescope` works in scripts.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "tui/tui.h"

/* Batch mode lives in cmd-batch.c; weak so this file links without it. */
int cmd_batch_main(int argc, char **argv) __attribute__((weak));

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: moescope [chat] [MODEL] [options]\n\n"
	    "The terminal chat with live expert panels. MODEL is a .gguf "
	    "file,\na name in the local store, or a hub id (ORG/NAME[@REV]), "
	    "pulled and\nconverted in the chat's downloads panel.\nKeys: F1 "
	    "help, Enter send, Alt-Enter newline, Ctrl-C stop, Ctrl-D "
	    "quit.\nWhen stdin is not a terminal this runs moescope "
	    "batch.\n\n%s", cmd_opts_help);
}

int
cmd_chat_main(int argc, char **argv)
{
	struct tui_opts to;
	struct cmd_opts o;
	struct err e = { 0 };
	const char *model = NULL;
	char *defpath = NULL, *store = NULL;
	int i, r, rc;

	if (!isatty(STDIN_FILENO)) {
		if (cmd_batch_main != NULL)
			return cmd_batch_main(argc, argv);
		fprintf(stderr, "moescope: stdin is not a terminal, and batch "
		    "mode (moescope batch) is not in this build; use "
		    "moescope run\n");
		return 2;
	}
	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	cmd_opts_init(&o);
	o.max_tokens = 512;
	memset(&to, 0, sizeof to);
	for (i = 1; i < argc; i++) {
		if ((r = cmd_opts_parse(&o, argc, argv, &i)) < 0)
			return 2;
		if (r > 0)
			continue;
		if (argv[i][0] != '-' && model == NULL)
			model = argv[i];
		else {
			fprintf(stderr, "moescope chat: unexpected '%s'\n",
			    argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (o.ram_budget != NULL) {
		/* a share needs the model's size: the session applies it */
		size_t n = strlen(o.ram_budget);
		long pct;
		char buf[32];
		uint64_t v;

		if (n > 1 && n < sizeof buf && o.ram_budget[n - 1] == '%') {
			memcpy(buf, o.ram_budget, n - 1);
			buf[n - 1] = '\0';
			if (util_parse_long(buf, 1, 100, &pct) != 0) {
				fprintf(stderr, "moescope: --ram-budget: '%s' "
				    "is not a percentage in 1..100\n",
				    o.ram_budget);
				return 2;
			}
			to.ram_share = (double)pct / 100;
		} else if (util_parse_size(o.ram_budget, 0, &v) != 0 ||
		    v == 0) {
			fprintf(stderr, "moescope: --ram-budget: '%s' is not a "
			    "size (e.g. 8G, 512M) or N%%\n", o.ram_budget);
			return 2;
		} else
			o.ep.ram_budget = v;
	}
	if (model == NULL) {
		/* the embedded default model (models/default.gguf) */
		if (cmd_default_model(&defpath, &e) != 0) {
			fprintf(stderr, "moescope: no model given and %s\n"
			    "run moescope chat PATH/TO/MODEL.gguf\n", e.msg);
			return 2;
		}
		model = defpath;
	} else if (cmd_resolve_model(model, &defpath, &e) == 0)
		model = defpath;	/* a name in the local store */
	setlocale(LC_ALL, "");
	/* where /pull puts its models (NULL: the TUI's default) */
	if (cmd_models_dir(&store, &e) != 0)
		store = NULL;
	to.models_dir = store;
	to.resolve_model = cmd_resolve_model;
	to.model = model;
	to.ep = o.ep;
	to.sp = o.sp;
	to.max_tokens = o.max_tokens;
	rc = tui_run(&to, &e);
	free(defpath);
	free(store);
	if (rc != 0)
		return cmd_fail(&e);
	return 0;
}
