/*
 * cmd-common.c - helpers shared by the subcommands: where the local
 * model store is, how a MODEL argument becomes a path, and the progress
 * line of a conversion (convert, pull).
 *
 * A MODEL is tried, in order, as a path (file or folder) and as a name
 * in the local store ($MOESCOPE_HOME/models, default
 * ~/.local/share/moescope/models): NAME, NAME.gguf, then the folder NAME.
 * A hub id (OWNER/NAME) that is neither is reported as not found; the
 * hub client resolves those.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "util/util.h"

int
cmd_models_dir(char **dir, struct err *e)
{
	const char *home = getenv("MOESCOPE_HOME"), *h;
	size_t n;

	*dir = NULL;
	if (home != NULL && home[0] != '\0') {
		n = strlen(home) + 8;
		if ((*dir = malloc(n)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		snprintf(*dir, n, "%s/models", home);
		return 0;
	}
	if ((h = getenv("HOME")) == NULL || h[0] == '\0')
		return err_set(e, ERR_NOTFOUND, "neither MOESCOPE_HOME nor "
		    "HOME is set: no local model store");
	n = strlen(h) + 40;
	if ((*dir = malloc(n)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	snprintf(*dir, n, "%s/.local/share/moescope/models", h);
	return 0;
}

static int
exists(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0;
}

int
cmd_resolve_model(const char *arg, char **path, struct err *e)
{
	char *dir, *p;
	size_t n, i;
	int rc;

	*path = NULL;
	if (arg == NULL || arg[0] == '\0')
		return err_set(e, ERR_USAGE, "empty MODEL");
	if (exists(arg)) {
		if ((*path = strdup(arg)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		return 0;
	}
	/* a path that does not exist: say so plainly */
	if (arg[0] == '/' || arg[0] == '.' || strstr(arg, ".gguf") != NULL ||
	    strstr(arg, ".safetensors") != NULL)
		return err_set(e, ERR_NOTFOUND, "%s: %s", arg,
		    strerror(ENOENT));
	if ((rc = cmd_models_dir(&dir, e)) != 0)
		return rc;
	n = strlen(dir) + strlen(arg) + 8;
	if ((p = malloc(n)) == NULL) {
		free(dir);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if (strstr(arg, "..") == NULL)
		for (i = 0; i < 2; i++) {
			snprintf(p, n, "%s/%s%s", dir, arg, i ? ".gguf" : "");
			if (exists(p)) {
				*path = p;
				free(dir);
				return 0;
			}
		}
	free(p);
	rc = err_set(e, ERR_NOTFOUND, "model '%s' not found: no such file, "
	    "and not in the local store %s%s", arg, dir,
	    strchr(arg, '/') != NULL ? " (hub ids: moescope pull first)" : "");
	free(dir);
	return rc;
}

/*
 * The embedded default model (models/default.gguf, issue 9): the first
 * that exists of $MOESCOPE_DEFAULT_MODEL, the installed copy under
 * $(pkgdatadir)/models, and the source tree's models/ (runs from a build
 * tree). The Makefile defines MOESCOPE_PKGDATADIR and MOESCOPE_SRCDIR.
 */
#ifndef MOESCOPE_PKGDATADIR
#define MOESCOPE_PKGDATADIR "/usr/local/share/moescope"
#endif
#ifndef MOESCOPE_SRCDIR
#define MOESCOPE_SRCDIR "."
#endif

int
cmd_default_model(char **path, struct err *e)
{
	const char *env = getenv("MOESCOPE_DEFAULT_MODEL");
	const char *const cand[] = {
		MOESCOPE_PKGDATADIR "/models/default.gguf",
		MOESCOPE_SRCDIR "/models/default.gguf",
	};
	size_t i;

	*path = NULL;
	if (env != NULL && env[0] != '\0') {
		if (!exists(env))
			return err_set(e, ERR_NOTFOUND, "MOESCOPE_DEFAULT_MODEL="
			    "%s: %s", env, strerror(ENOENT));
		if ((*path = strdup(env)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		return 0;
	}
	for (i = 0; i < sizeof cand / sizeof cand[0]; i++)
		if (exists(cand[i])) {
			if ((*path = strdup(cand[i])) == NULL)
				return err_set(e, ERR_NOMEM, "out of memory");
			return 0;
		}
	return err_set(e, ERR_NOTFOUND, "no default model: not installed "
	    "as %s nor in the source tree as %s (give a MODEL, or set "
	    "MOESCOPE_DEFAULT_MODEL)", cand[0], cand[1]);
}

int
cmd_model_path(const char *arg, char **path, struct err *e)
{
	if (arg == NULL)
		return cmd_default_model(path, e);
	return cmd_resolve_model(arg, path, e);
}

int
cmd_convert_progress(void *arg, const char *tensor, uint64_t done,
    uint64_t total)
{
	const volatile sig_atomic_t *stop = arg;
	char a[32], b[32];

	fprintf(stderr, "\rconverting: %s / %s  %-40.40s",
	    util_fmt_bytes(done, a, sizeof a),
	    util_fmt_bytes(total, b, sizeof b), tensor);
	if (done == total)
		fputc('\n', stderr);
	return stop != NULL ? *stop : 0;
}
