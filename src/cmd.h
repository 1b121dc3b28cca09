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

int cmd_inspect_main(int argc, char **argv);

#endif
