/*
 * convert-pull.c - a hub model into the local store: download (net room)
 * then convert (convert_run), the one code path behind `moescope pull`
 * and the TUI's /pull and /model ORG/NAME.
 *
 * The safetensors files of ORG/NAME (and its config and tokenizer files)
 * are fetched into the huggingface_hub cache, and the snapshot is
 * converted to STORE/ORG/NAME.gguf. A repo of GGUF files without
 * config.json gets the one whose name holds the type (e.g. Q4_K_M), or
 * the file named by o->file, linked there instead of converted. A record
 * next to the GGUF (NAME.gguf.source: repo, commit, type) lets a
 * repeated pull skip a conversion that is already done.
 *
 * Progress goes out through the callbacks of o->net (transfers) and
 * o->progress (tensors); either may cancel, and a cancelled download
 * keeps its partial files for the next pull to resume. Nothing here
 * prints: the caller draws the progress and reports the result.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert/convert.h"
#include "net/net.h"
#include "util/util.h"

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
 * (with a message listing them) when none or several fit; NULL with an
 * empty message when the repo holds no GGUF file.
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

void
convert_pull_opts_init(struct convert_pull_opts *o)
{
	memset(o, 0, sizeof *o);
	o->type = CONVERT_Q4_K_M;
}

int
convert_pull_run(const struct convert_pull_opts *o,
    struct convert_pull_result *r, struct err *e)
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
	const char *want[2] = { NULL, NULL }, *file = o->file, *rev = NULL;
	char *repo = NULL, *out = NULL, *src = NULL, *record = NULL;
	char *have = NULL, *at, *picked = NULL, rec[512];
	struct net_snapshot snap;
	struct convert_opts co;
	size_t len;
	int rc;

	memset(r, 0, sizeof *r);
	memset(&snap, 0, sizeof snap);
	if (o->repo == NULL || o->models_dir == NULL || o->net == NULL)
		return err_set(e, ERR_USAGE, "pull: no repo, store or "
		    "network options");
	if ((repo = strdup(o->repo)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((at = strchr(repo, '@')) != NULL) {
		*at = '\0';
		rev = at + 1;
	}
	if (!net_repo_valid(repo)) {
		rc = err_set(e, ERR_USAGE, "'%s' is not a hub repo id "
		    "(ORG/NAME)", repo);
		goto done;
	}
	if (file != NULL && (strchr(file, '/') != NULL ||
	    strstr(file, ".gguf") == NULL)) {
		rc = err_set(e, ERR_USAGE, "--file wants a .gguf file name, "
		    "not '%s'", file);
		goto done;
	}
	/* a GGUF repo without --file: the file of the requested type */
	if (file == NULL) {
		err_clear(e);
		picked = pick_gguf(o->net, repo, rev, o->type, e);
		if (picked == NULL && e->msg[0] != '\0') {
			rc = e->code ? e->code : ERR_NET;
			goto done;
		}
		file = picked;
	}
	want[0] = file;
	if ((rc = net_hub_download(o->net, repo, rev, file ? want : hf_files,
	    &snap, e)) != 0)
		goto done;
	r->bytes_fetched = snap.bytes_fetched;
	r->seconds = snap.seconds;
	if ((r->commit = strdup(snap.commit)) == NULL)
		goto nomem;
	len = strlen(o->models_dir) + strlen(repo) + 24;
	if ((out = malloc(len)) == NULL ||
	    (src = malloc(strlen(snap.dir) + 300)) == NULL ||
	    (record = malloc(len)) == NULL)
		goto nomem;
	snprintf(out, len, "%s/%s", o->models_dir, repo);
	*strrchr(out, '/') = '\0';
	if ((rc = mkdir_p(out, e)) != 0)
		goto done;
	snprintf(out, len, "%s/%s.gguf", o->models_dir, repo);
	snprintf(record, len, "%s/%s.gguf.source", o->models_dir, repo);
	if (file != NULL) {
		if (!has_file(&snap, file)) {
			rc = err_set(e, ERR_NOTFOUND, "%s has no file %s", repo,
			    file);
			goto done;
		}
		sprintf(src, "%s/%s", snap.dir, file);
		unlink(out);
		if (symlink(src, out) != 0) {
			rc = err_set(e, ERR_IO, "%s: %s", out,
			    strerror(errno));
			goto done;
		}
		unlink(record);
		r->linked = 1;
	} else {
		if (!has_file(&snap, "config.json")) {
			rc = err_set(e, ERR_NOTFOUND, "%s has no config.json: "
			    "not a transformers checkpoint (for a GGUF repo "
			    "use --file NAME.gguf)", repo);
			goto done;
		}
		snprintf(rec, sizeof rec, "%s %s %s\n", repo, snap.commit,
		    convert_type_name(o->type));
		if (util_read_file(record, &have, &len, NULL) == 0 &&
		    strcmp(have, rec) == 0 && access(out, R_OK) == 0)
			r->up_to_date = 1;
		else {
			unlink(record);
			convert_opts_init(&co);
			co.hf_dir = snap.dir;
			co.out = out;
			co.type = o->type;
			co.name = strchr(repo, '/') + 1;
			co.threads = o->threads;
			co.progress = o->progress;
			co.progress_arg = o->progress_arg;
			if ((rc = convert_run(&co, e)) != 0)
				goto done;
			if ((rc = util_write_file(record, rec, strlen(rec),
			    e)) != 0)
				goto done;
		}
	}
	r->path = out;
	out = NULL;
	rc = 0;
	goto done;
nomem:
	rc = err_set(e, ERR_NOMEM, "out of memory");
done:
	net_snapshot_free(&snap);
	if (rc != 0)
		convert_pull_result_free(r);
	free(repo);
	free(out);
	free(src);
	free(record);
	free(have);
	free(picked);
	return rc;
}

void
convert_pull_result_free(struct convert_pull_result *r)
{
	free(r->path);
	free(r->commit);
	memset(r, 0, sizeof *r);
}
