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

/* Subcommands (src/cmd-<name>.c). */
int cmd_tokenize_main(int argc, char **argv);

/* True when argv holds -h or --help before any "--". */
int cmd_wants_help(int argc, char **argv);

#endif
