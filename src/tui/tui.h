/*
 * tui.h - the tui room: the terminal chat with live expert panels.
 *
 * The TUI owns the terminal (ncursesw) on the calling thread and drives
 * an engine session (engine/engine-session.h) on its own thread; it sees
 * the engine only through the session's events. tui uses util, the
 * engine's public headers and ncursesw; nothing else calls curses.
 * Downloads and conversions (/pull, /model ORG/NAME) run on threads of
 * their own through convert.h's convert_pull_run, the code `moescope
 * pull` runs, and report through net.h's progress events.
 */
#ifndef MOESCOPE_TUI_H
#define MOESCOPE_TUI_H

#include "engine/engine.h"

struct tui_opts {
	const char			*model;		/* path; NULL: none */
	struct eng_params		 ep;
	struct eng_sampler_params	 sp;
	int				 max_tokens;
	double				 ram_share;	/* --ram-budget N%:
							 * 0..1, 0: ep's */
	/* where the history lives; NULL: $MOESCOPE_HOME, else
	 * ~/.local/share/moescope */
	const char			*home;
	/* the local model store, where /pull puts what it converts;
	 * NULL: $MOESCOPE_HOME/models, else ~/.local/share/moescope/models */
	const char			*models_dir;
	/* MODEL argument -> path (a file, or a name in the store); NULL:
	 * paths only. (cmd_resolve_model) */
	int				(*resolve_model)(const char *arg,
					    char **path, struct err *e);
};

/*
 * Run the chat until the user quits. Returns 0, or a negative ERR_* with
 * e filled when the terminal cannot host the TUI (not a terminal, no
 * cursor addressing, TERM=dumb). The terminal is restored on every
 * return path.
 */
int tui_run(const struct tui_opts *o, struct err *e);

#endif
