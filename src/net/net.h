/*
 * net.h - the net room: a Hugging Face hub client on libcurl.
 *
 * net_hub_download() resolves a repo revision to a commit and its file
 * list through the hub API ($HF_ENDPOINT, default https://huggingface.co),
 * then fetches the wanted files into the huggingface_hub cache, laid out
 * exactly as huggingface_hub lays it out, so either reuses the other's
 * downloads:
 *
 *   $HF_HUB_CACHE (or $HF_HOME/hub, or ~/.cache/huggingface/hub)
 *     models--ORG--NAME/
 *       blobs/ETAG               file contents, named by their ETag (the
 *                                SHA-256 for LFS files, the git SHA-1
 *                                for the others)
 *       blobs/ETAG.incomplete    a partial download, resumed with Range
 *       refs/REVISION            the commit a branch or tag resolved to
 *       snapshots/COMMIT/FILE -> ../../blobs/ETAG   (relative symlinks)
 *
 * Transfers run in parallel on a curl multi handle; a dropped transfer is
 * retried with backoff and resumed from where it stopped; a redirect URL
 * that has expired is resolved again; LFS files are checked against their
 * SHA-256 while they stream (a mismatch removes the file). $HF_TOKEN is
 * sent as a bearer token to the hub (never to the redirect target);
 * $HF_HUB_OFFLINE=1 uses only the cache.
 *
 * Only this room calls curl. It uses util (and jansson for the API's
 * JSON). Progress is reported through a callback with copies of the
 * numbers (struct net_progress), for the TUI panel or a plain bar.
 */
#ifndef MOESCOPE_NET_H
#define MOESCOPE_NET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- SHA-256 (net-sha256.c) ---- */

struct net_sha256 {
	uint32_t	h[8];
	uint64_t	len;
	uint8_t		buf[64];
	size_t		n;
};

void net_sha256_init(struct net_sha256 *s);
void net_sha256_update(struct net_sha256 *s, const void *data, size_t len);
void net_sha256_final(struct net_sha256 *s, uint8_t out[32]);
/* Use the CPU's SHA extensions when present (enable 1, the default) or
 * the plain C version (0); returns 1 when the extensions are in use. */
int net_sha256_accel(int enable);
/* 64 lowercase hex digits and a NUL. */
void net_sha256_hex(const uint8_t d[32], char out[65]);

/* ---- progress ---- */

enum net_event {
	NET_EV_RESOLVED,	/* file list known: n_files, total_size */
	NET_EV_FILE_START,	/* a transfer began (or resumed: done > 0) */
	NET_EV_PROGRESS,	/* bytes arrived: one event per running
				 * transfer (file set), at most ~10 times a
				 * second */
	NET_EV_FILE_DONE,	/* a file is complete and verified */
	NET_EV_RETRY,		/* a transfer failed and will be retried */
	NET_EV_DONE		/* every file is in the snapshot */
};

struct net_progress {
	int		event;		/* enum net_event */
	char		file[256];	/* the file (repo path), if any */
	int		file_index;	/* 0-based; -1 for totals only */
	int		n_files;	/* files to fetch (not cached) */
	uint64_t	file_done;	/* bytes of this file on disk */
	uint64_t	file_size;
	uint64_t	total_done;	/* bytes of all files to fetch */
	uint64_t	total_size;
	double		speed;		/* bytes/s over the last seconds */
	double		eta_s;		/* seconds left; -1 unknown */
	int		active;		/* transfers running */
};

/* Return non-zero to cancel (partial files are kept for resume). */
typedef int (*net_progress_fn)(void *arg, const struct net_progress *p);

struct net_opts {
	const char		*endpoint;	/* default: $HF_ENDPOINT or
						 * https://huggingface.co */
	const char		*token;		/* default: $HF_TOKEN */
	const char		*cache_dir;	/* the hub cache root */
	int			 offline;	/* $HF_HUB_OFFLINE */
	int			 parallel;	/* concurrent transfers (4) */
	int			 retries;	/* per file (5) */
	long			 backoff_ms;	/* first retry delay (500),
						 * doubling */
	net_progress_fn		 progress;
	void			*progress_arg;
	volatile sig_atomic_t	*cancel;	/* set (e.g. by SIGINT) to
						 * stop */
};

/* Defaults from the environment: HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE /
 * HF_HOME, HF_HUB_OFFLINE, MOESCOPE_NET_RETRIES,
 * MOESCOPE_NET_BACKOFF_MS. Strings point into the environment. */
int net_opts_from_env(struct net_opts *o, struct err *e);
/* Frees what net_opts_from_env allocated (the cache path). */
void net_opts_fini(struct net_opts *o);

/* A downloaded snapshot. */
struct net_snapshot {
	char		*repo;		/* ORG/NAME */
	char		*commit;	/* 40 hex digits (or as the hub says) */
	char		*dir;		/* .../snapshots/COMMIT */
	size_t		 n_files;
	char		**files;	/* repo paths, in the snapshot */
	uint64_t	 bytes_fetched;	/* downloaded by this call */
	double		 seconds;	/* spent downloading */
};

/*
 * net_hub_download and net_hub_list may run on several threads at once
 * (one call per thread, each with its own net_opts), but not twice on
 * the same repo at the same time: the partial files would collide.
 *
 * Fetch the files of repo (ORG/NAME) at rev (a branch, tag or commit;
 * NULL: "main") whose repo paths match one of the shell patterns in
 * want (NULL-terminated; fnmatch, e.g. "*.safetensors"; "!PATTERN"
 * excludes); at least one file must match (ERR_NOTFOUND otherwise).
 * Errors name the repo/file: ERR_NOTFOUND (404), ERR_NET with "gated /
 * needs HF_TOKEN" (401/403), ERR_NET (network down, retries used up),
 * ERR_FORMAT (checksum mismatch: the file is removed), ERR_IO (disk full
 * and other write errors), ERR_CANCELLED (partials kept).
 */
int net_hub_download(const struct net_opts *o, const char *repo,
    const char *rev, const char *const *want, struct net_snapshot *out,
    struct err *e);
void net_snapshot_free(struct net_snapshot *s);

/* The repo paths of a revision (from the API, or the cache when offline);
 * *files is a malloc'd array of n malloc'd strings. */
int net_hub_list(const struct net_opts *o, const char *repo,
    const char *rev, char ***files, size_t *n, struct err *e);

/* True when r is a hub repo id: ORG/NAME of letters, digits, '-', '_'
 * and '.', neither part starting with '.', no "..". */
int net_repo_valid(const char *r);

/* The cache folder of a repo: CACHE/models--ORG--NAME (malloc'd). */
char *net_repo_dir(const char *cache_dir, const char *repo);

/*
 * A plain progress bar on stderr for a terminal: one line per update,
 * redrawn in place ("\r"); pass as progress with arg NULL.
 */
int net_progress_bar(void *arg, const struct net_progress *p);

#endif
