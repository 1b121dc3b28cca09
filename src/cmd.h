/*
 * cmd.h - the subcommands of the moescope binary. Each takes the argv that
 * follows its name (argv[0] is the command name) and returns the process
 * exit status: 0 success, 1 runtime error, 2 usage error.
 */
#ifndef MOESCOPE_CMD_H
#define MOESCOPE_CMD_H

struct cmd {
	const char	*name;
	int		(*main)(int argc, char **argv);
	const char	*synopsis;
};

/* The subcommands (src/cmd-<name>.c). */
/* batch: also what `moescope` and `moescope chat` run when stdin is not a
 * terminal (argv[0] may then be "chat"). */
int cmd_batch_main(int argc, char **argv);
int cmd_bench_main(int argc, char **argv);
int cmd_chat_main(int argc, char **argv);
int cmd_cachesim_main(int argc, char **argv);
int cmd_convert_main(int argc, char **argv);
int cmd_inspect_main(int argc, char **argv);
int cmd_list_main(int argc, char **argv);
int cmd_logits_main(int argc, char **argv);
int cmd_pull_main(int argc, char **argv);
int cmd_route_main(int argc, char **argv);
int cmd_run_main(int argc, char **argv);
int cmd_template_main(int argc, char **argv);
int cmd_tokenize_main(int argc, char **argv);

/* The command table, terminated by a NULL name (main.c). */
extern const struct cmd cmd_table[];

/* True when argv holds -h or --help before any "--". */
int cmd_wants_help(int argc, char **argv);

struct err;

/*
 * The local model store: $MOESCOPE_HOME/models, else
 * ~/.local/share/moescope/models. *dir is malloc'd. (cmd-common.c)
 */
int cmd_models_dir(char **dir, struct err *e);

/*
 * Resolve a MODEL argument to a path (malloc'd in *path): an existing
 * file or folder as given; else a name in the local store ("NAME",
 * "NAME.gguf" or the folder "NAME" there). Hub ids (OWNER/NAME) are not
 * fetched here. ERR_NOTFOUND with a message saying where it looked.
 */
int cmd_resolve_model(const char *arg, char **path, struct err *e);

/* MODEL as given (cmd_resolve_model), or the embedded default model when
 * arg is NULL (cmd_default_model). */
int cmd_model_path(const char *arg, char **path, struct err *e);

/*
 * The embedded default model, used when a command is given no MODEL:
 * $MOESCOPE_DEFAULT_MODEL if set, else the installed
 * $(pkgdatadir)/models/default.gguf, else models/default.gguf in the
 * source tree (for runs from the build tree). *path is malloc'd;
 * ERR_NOTFOUND naming the places tried. (cmd-common.c)
 */
int cmd_default_model(char **path, struct err *e);

#include <stdint.h>

/*
 * The one-line progress of a conversion on stderr (a convert_progress_fn
 * of convert/convert.h): arg is NULL, or a volatile sig_atomic_t flag
 * that cancels the conversion once set (e.g. by SIGINT). (cmd-common.c)
 */
int cmd_convert_progress(void *arg, const char *tensor, uint64_t done,
    uint64_t total);

/* ---- engine flags shared by run, logits, route, bench (cmd-opts.c) ---- */

#include "engine/engine.h"

struct cmd_opts {
	struct eng_params		ep;
	struct eng_sampler_params	sp;
	int				max_tokens;	/* -n */
	const char			*ram_budget;	/* SIZE or N% */
	const char			*gpu_budget;	/* SIZE or N% */
};

void cmd_opts_init(struct cmd_opts *o);

/*
 * If argv[*i] is a common engine flag (--threads --ctx --batch --seed
 * --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n
 * -n/--max-tokens), consume it and its value (advancing *i) and return 1;
 * 0 if it is not one of ours; -1 after printing a usage error.
 */
int cmd_opts_parse(struct cmd_opts *o, int argc, char **argv, int *i);

/*
 * Settle what needs the model: --ram-budget N% of its expert bytes.
 * 0, or -1 after printing a usage error.
 */
int cmd_opts_resolve(struct cmd_opts *o, const struct eng_model *m);

/* The help text of the common engine flags. */
extern const char cmd_opts_help[];

/* Parse "1,2,3" into a malloc'd array; -1 after printing an error. */
int cmd_parse_tokens(const char *s, int32_t **out, int *n);

/* ---- prompts for run and route (cmd-prompt.c) ---- */

#include "engine/engine-chat.h"

struct cmd_prompt {
	const char	*text;		/* -p */
	const char	*file;		/* -f */
	const char	*tokens;	/* --tokens */
	const char	*system;	/* --system (with --chat) */
	const char	*tmpl;		/* --chat-template FILE|NAME */
	int		 chat;		/* --chat */
};

/* Like cmd_opts_parse, for -p -f --tokens --chat --system
 * --chat-template. */
int cmd_prompt_parse(struct cmd_prompt *p, int argc, char **argv, int *i);
/* Exactly one of -p, -f, --tokens was given. */
int cmd_prompt_given(const struct cmd_prompt *p);
/* The prompt as token ids (malloc'd). */
int cmd_prompt_encode(const struct cmd_prompt *p, struct eng_chat *chat,
    int32_t **ids, int *n, struct err *e);

extern const char cmd_prompt_help[];

/* Print "moescope: MSG" for e and return 1 (runtime error). */
int cmd_fail(const struct err *e);

#endif
