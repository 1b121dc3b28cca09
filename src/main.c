/*
 * main.c - the moescope binary: global flags, subcommand dispatch.
 *
 * Each subcommand lives in src/cmd-<name>.c and is registered in
 * cmd_table below; this file only picks one and runs it.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "cmd.h"

const struct cmd cmd_table[] = {
	{ "chat", cmd_chat_main,
	    "[chat] [MODEL]                        the terminal chat (default)" },
	{ "convert", cmd_convert_main,
	    "convert HF_DIR -o OUT.gguf [--type T]  Hugging Face -> GGUF" },
	{ "inspect", cmd_inspect_main,
	    "inspect MODEL [--json]   architecture, hyper-parameters, tensors" },
	{ "run", cmd_run_main,
	    "run MODEL -p TEXT [-n N]              one generation, no TUI" },
	{ "batch", cmd_batch_main,
	    "batch [MODEL] [--chat] [--format json|text] < REQUESTS\n"
	    "                                        one answer per stdin line "
	    "(JSON lines)" },
	{ "pull", cmd_pull_main,
	    "pull ORG/NAME[@REV] [--type T] [--file F.gguf]  download, "
	    "convert" },
	{ "route", cmd_route_main,
	    "route MODEL -p TEXT -o TRACE.jsonl    experts per token" },
	{ "bench", cmd_bench_main,
	    "bench MODEL [-p N] [-n N] [--json]    speed and roofline ratio" },
	{ "list", cmd_list_main,
	    "list [--json]                          models in the local store" },
	{ "cachesim", cmd_cachesim_main,
	    "cachesim TRACE.jsonl [--policy P] [--budget B]  replay a trace" },
	{ "logits", cmd_logits_main,
	    "logits MODEL --tokens 1,2,3 -o FILE  float32 logits per position" },
	{ "template", cmd_template_main,
	    "template MODEL|--template FILE --messages FILE.json\n"
	    "                                        print a chat as the "
	    "model's template renders it" },
	{ "tokenize", cmd_tokenize_main,
	    "tokenize MODEL TEXT|-f FILE [--json] [--show-pieces]" },
	{ NULL, NULL, NULL }
};

int
cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

static void
usage(FILE *fp)
{
	const struct cmd *c;

	fprintf(fp,
	    "usage: moescope [COMMAND] [ARGS]\n"
	    "\n"
	    "Chat with Mixture-of-Experts models in the terminal and watch\n"
	    "their experts work. With no command, moescope opens the chat;\n"
	    "with no MODEL, chat, run and batch use the embedded default model\n"
	    "(a tiny Qwen3-MoE-style model trained for this project; see\n"
	    "models/README.md). MODEL is a .gguf path or a name in the local\n"
	    "store ($MOESCOPE_HOME/models).\n"
	    "\n"
	    "commands:\n");
	for (c = cmd_table; c->name != NULL; c++)
		fprintf(fp, "  %s\n", c->synopsis);
	fprintf(fp,
	    "\n"
	    "Every command takes --help. moescope --version prints the "
	    "version.\n"
	    "Exit status: 0 success, 1 runtime error, 2 usage error.\n");
}

int
main(int argc, char **argv)
{
	const struct cmd *c;

	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("moescope %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return 0;
	}
	/* no command, or flags first: the chat, the default command */
	if (argc < 2 || argv[1][0] == '-')
		return cmd_chat_main(argc, argv);
	for (c = cmd_table; c->name != NULL; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->main(argc - 1, argv + 1);
	/* `moescope MODEL.gguf`: chat is the default command */
	if (strchr(argv[1], '/') != NULL || strstr(argv[1], ".gguf") != NULL)
		return cmd_chat_main(argc, argv);
	fprintf(stderr, "moescope: unknown command '%s' (see moescope --help)\n",
	    argv[1]);
	return 2;
}
