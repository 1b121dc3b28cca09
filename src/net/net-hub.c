/*
 * net-hub.c - the hub client: API call, file resolution (HEAD on the
 * resolve URL, as huggingface_hub does), parallel downloads on a curl
 * multi handle with resume, retries and SHA-256 checks, and the cache's
 * blobs / refs / snapshots.
 *
 * One pass: resolve the revision and list the files (GET /api/models/
 * REPO/revision/REV); for each wanted file, HEAD /REPO/resolve/COMMIT/
 * FILE without following redirects, which gives the ETag (X-Linked-Etag
 * for LFS files), the size (X-Linked-Size or Content-Length), the commit
 * (X-Repo-Commit) and, for LFS files, the redirect target (Location).
 * A blob already in the cache is not fetched again. The others are
 * fetched into blobs/ETAG.incomplete, appending from its current size
 * with a Range request; the SHA-256 of what is already there is computed
 * first so that the whole file is checked when the last byte arrives.
 * Complete files are renamed to blobs/ETAG and linked from the snapshot.
 *
 * Failures: a transfer that breaks off is retried (backoff doubling from
 * opts.backoff_ms) and resumes; a redirect target that answers 403/410
 * (expired signature) is resolved again with a new HEAD; 401/403 from the
 * hub mean gated or private; 404 means no such repo, revision or file;
 * a write error (disk full) stops everything; a checksum mismatch
 * removes the partial file. Cancelling keeps every partial file.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "net/net.h"

enum { F_PENDING, F_ACTIVE, F_DONE };

struct hub_file {
	char		*path;		/* repo path */
	char		*etag;		/* normalized */
	uint64_t	 size;
	int		 size_known;
	int		 lfs;		/* etag is a SHA-256 */
	char		*location;	/* redirect target, or NULL */
	char		*blob;		/* blobs/ETAG */
	char		*part;		/* blobs/ETAG.incomplete */
	int		 cached;
	int		 state;
	int		 index;		/* among the files to fetch */
	/* transfer */
	CURL		*h;
	FILE		*fp;
	uint64_t	 have;
	uint64_t	 start_have;
	struct net_sha256 sha;
	int		 tries;
	uint64_t	 next_ns;
	int		 first_write;
	int		 restarted;	/* server ignored the Range */
	int		 no_range;	/* start over without Range */
	int		 werr;		/* errno of a failed write */
	struct curl_slist *hdrs;
	char		 errbuf[CURL_ERROR_SIZE];
};

struct hub {
	const struct net_opts	*o;
	const char		*repo;
	char			*endpoint;
	char			*repo_dir;
	char			*commit;
	struct hub_file		*f;
	size_t			 n_f;
	struct curl_slist	*auth;	/* Authorization header, or NULL */
	/* progress */
	int			 n_fetch;
	uint64_t		 total_size;
	uint64_t		 last_emit_ns;
	uint64_t		 speed_t0_ns, speed_b0;
	double			 speed;
	int			 active;
};

/* ---- small helpers ---- */

static char *
fmt(const char *f, ...) UTIL_PRINTF(1, 2);

static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* mkdir -p for the folders of path (not path itself). */
static int
mkdirs_for(const char *path, struct err *e)
{
	char *p = strdup(path), *s;

	if (p == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			int rc = err_set(e, ERR_IO, "%s: %s", p,
			    strerror(errno));

			free(p);
			return rc;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

int
net_repo_valid(const char *r)
{
	const char *slash = strchr(r, '/');
	const char *p;

	if (slash == NULL || slash == r || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL || strstr(r, "..") != NULL ||
	    strlen(r) > 200)
		return 0;
	for (p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.' && *p != '/')
			return 0;
	return r[0] != '.' && slash[1] != '.';
}

static int
valid_rev(const char *r)
{
	const char *p;

	if (r[0] == '\0' || r[0] == '/' || strstr(r, "..") != NULL ||
	    strlen(r) > 200)
		return 0;
	for (p = r; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.' && *p != '/')
			return 0;
	return 1;
}

/* A repo path from the API: relative, no "..", no odd bytes. */
static int
valid_path(const char *r)
{
	const char *p;

	if (r[0] == '\0' || r[0] == '/' || strstr(r, "..") != NULL ||
	    strlen(r) > 255)
		return 0;
	for (p = r; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return 0;
	return 1;
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* URL-quote a revision or path ('/' kept when keep_slash). */
static char *
quote(const char *s, int keep_slash)
{
	char *o = malloc(strlen(s) * 3 + 1), *p = o;

	if (o == NULL)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' ||
		    c == '~' || (keep_slash && c == '/'))
			*p++ = (char)c;
		else {
			sprintf(p, "%%%02X", c);
			p += 3;
		}
	}
	*p = '\0';
	return o;
}

char *
net_repo_dir(const char *cache_dir, const char *repo)
{
	const char *slash = strchr(repo, '/');

	if (slash == NULL)
		return fmt("%s/models--%s", cache_dir, repo);
	return fmt("%s/models--%.*s--%s", cache_dir, (int)(slash - repo),
	    repo, slash + 1);
}

/* ---- options ---- */

int
net_opts_from_env(struct net_opts *o, struct err *e)
{
	const char *v, *home;
	long n;

	memset(o, 0, sizeof *o);
	o->endpoint = getenv("HF_ENDPOINT");
	if (o->endpoint == NULL || o->endpoint[0] == '\0')
		o->endpoint = "https://huggingface.co";
	o->token = getenv("HF_TOKEN");
	if (o->token != NULL && o->token[0] == '\0')
		o->token = NULL;
	v = getenv("HF_HUB_OFFLINE");
	o->offline = v != NULL && (strcmp(v, "1") == 0 ||
	    strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "on") == 0);
	if ((v = getenv("HF_HUB_CACHE")) != NULL && v[0] != '\0')
		o->cache_dir = strdup(v);
	else if ((v = getenv("HF_HOME")) != NULL && v[0] != '\0')
		o->cache_dir = fmt("%s/hub", v);
	else if ((v = getenv("XDG_CACHE_HOME")) != NULL && v[0] != '\0')
		o->cache_dir = fmt("%s/huggingface/hub", v);
	else if ((home = getenv("HOME")) != NULL && home[0] != '\0')
		o->cache_dir = fmt("%s/.cache/huggingface/hub", home);
	else
		return err_set(e, ERR_NOTFOUND, "no HF_HUB_CACHE, HF_HOME or "
		    "HOME: nowhere to keep downloads");
	if (o->cache_dir == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	o->parallel = 4;
	o->retries = 5;
	o->backoff_ms = 500;
	if ((v = getenv("MOESCOPE_NET_RETRIES")) != NULL &&
	    util_parse_long(v, 0, 100, &n) == 0)
		o->retries = (int)n;
	if ((v = getenv("MOESCOPE_NET_BACKOFF_MS")) != NULL &&
	    util_parse_long(v, 0, 600000, &n) == 0)
		o->backoff_ms = n;
	return 0;
}

void
net_opts_fini(struct net_opts *o)
{
	free((char *)o->cache_dir);
	o->cache_dir = NULL;
}

/* ---- HTTP: a whole request into memory, and HEAD ---- */

struct membuf {
	char	*p;
	size_t	 n, cap;
	size_t	 max;
};

static size_t
mem_write(char *d, size_t sz, size_t nm, void *arg)
{
	struct membuf *b = arg;
	size_t n = sz * nm;

	if (b->n + n > b->max)
		return 0;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

struct head {
	char	*etag, *linked_etag, *commit, *location;
	uint64_t size, linked_size;
	int	 has_size, has_linked_size;
};

static void
head_free(struct head *h)
{
	free(h->etag);
	free(h->linked_etag);
	free(h->commit);
	free(h->location);
	memset(h, 0, sizeof *h);
}

static size_t
head_line(char *d, size_t sz, size_t nm, void *arg)
{
	struct head *h = arg;
	size_t n = sz * nm, k;
	char line[2048], *v, *end;

	if (n >= sizeof line)
		return n;
	memcpy(line, d, n);
	line[n] = '\0';
	/* a new response (after a redirect or 100): start over */
	if (strncmp(line, "HTTP/", 5) == 0) {
		head_free(h);
		return n;
	}
	if ((v = strchr(line, ':')) == NULL)
		return n;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	k = strlen(v);
	while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n' ||
	    v[k - 1] == ' '))
		v[--k] = '\0';
	if (strcasecmp(line, "etag") == 0) {
		free(h->etag);
		h->etag = strdup(v);
	} else if (strcasecmp(line, "x-linked-etag") == 0) {
		free(h->linked_etag);
		h->linked_etag = strdup(v);
	} else if (strcasecmp(line, "x-repo-commit") == 0) {
		free(h->commit);
		h->commit = strdup(v);
	} else if (strcasecmp(line, "location") == 0) {
		free(h->location);
		h->location = strdup(v);
	} else if (strcasecmp(line, "content-length") == 0) {
		h->size = strtoull(v, &end, 10);
		h->has_size = end != v;
	} else if (strcasecmp(line, "x-linked-size") == 0) {
		h->linked_size = strtoull(v, &end, 10);
		h->has_linked_size = end != v;
	}
	return n;
}

static void
common_opts(struct hub *hb, CURL *c, const char *url, int auth)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "moescope/0.1");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	if (auth && hb->auth != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hb->auth);
}

/* Is a curl result worth another try? */
static int
transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
cancelled(const struct hub *hb)
{
	return hb->o->cancel != NULL && *hb->o->cancel;
}

/*
 * A request with retries on transient failures: GET into b (head NULL)
 * or HEAD into h. *status gets the HTTP status; 0 or ERR_NET.
 */
static int
request(struct hub *hb, const char *url, struct membuf *b, struct head *h,
    long *status, struct err *e)
{
	CURL *c;
	CURLcode rc = CURLE_OK;
	char ebuf[CURL_ERROR_SIZE];
	int try;
	long delay = hb->o->backoff_ms;

	for (try = 0; ; try++) {
		if (cancelled(hb))
			return err_set(e, ERR_CANCELLED, "interrupted");
		if ((c = curl_easy_init()) == NULL)
			return err_set(e, ERR_NOMEM, "curl_easy_init failed");
		common_opts(hb, c, url, 1);
		ebuf[0] = '\0';
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		if (h != NULL) {
			head_free(h);
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
			curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, head_line);
			curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
		} else {
			b->n = 0;
			curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
		}
		rc = curl_easy_perform(c);
		*status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		curl_easy_cleanup(c);
		if (rc == CURLE_OK && *status != 429 && *status < 500)
			return 0;
		if ((rc != CURLE_OK && !transient(rc)) ||
		    try >= hb->o->retries)
			break;
		sleep_ms(delay);
		delay *= 2;
	}
	if (rc != CURLE_OK)
		return err_set(e, ERR_NET, "%s: %s", url,
		    ebuf[0] ? ebuf : curl_easy_strerror(rc));
	return err_set(e, ERR_NET, "%s: HTTP %ld (server error)", url,
	    *status);
}

static int
status_error(struct hub *hb, long status, const char *what, struct err *e)
{
	if (status == 401 || status == 403)
		return err_set(e, ERR_NET, "%s: HTTP %ld: the repository is "
		    "gated or private, or does not exist: %s", what, status,
		    hb->o->token ? "check that HF_TOKEN has access to it" :
		    "set HF_TOKEN to a token with access");
	if (status == 404)
		return err_set(e, ERR_NOTFOUND, "%s: HTTP 404: not found",
		    what);
	return err_set(e, ERR_NET, "%s: HTTP %ld", what, status);
}

/* ---- resolution ---- */

/* Matches a pattern and no "!pattern". */
static int
wanted(const char *path, const char *const *want)
{
	size_t i;
	int yes = 0;

	for (i = 0; want[i] != NULL; i++) {
		if (want[i][0] == '!') {
			if (fnmatch(want[i] + 1, path, FNM_PATHNAME) == 0)
				return 0;
		} else if (fnmatch(want[i], path, FNM_PATHNAME) == 0)
			yes = 1;
	}
	return yes;
}

static int
add_file(struct hub *hb, const char *path, struct err *e)
{
	struct hub_file *f;

	f = realloc(hb->f, (hb->n_f + 1) * sizeof *f);
	if (f == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	hb->f = f;
	f = &hb->f[hb->n_f++];
	memset(f, 0, sizeof *f);
	if ((f->path = strdup(path)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

/* Something must have matched. */
static int
check_wanted(struct hub *hb, const char *const *want, const char *where,
    struct err *e)
{
	if (hb->n_f > 0)
		return 0;
	return err_set(e, ERR_NOTFOUND, "%s has no file matching %s%s%s",
	    hb->repo, want[0] ? want[0] : "(nothing)",
	    want[0] && want[1] ? ", ..." : "", where);
}

static int
api_list(struct hub *hb, const char *rev, const char *const *want,
    struct err *e)
{
	struct membuf b = { NULL, 0, 0, 64u << 20 };
	json_t *j = NULL, *sib, *it;
	json_error_t je;
	char *qrev = quote(rev, 0), *url = NULL, *what = NULL;
	const char *sha;
	long status;
	size_t i;
	int rc;

	if (qrev == NULL || (url = fmt("%s/api/models/%s/revision/%s",
	    hb->endpoint, hb->repo, qrev)) == NULL ||
	    (what = fmt("%s@%s", hb->repo, rev)) == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = request(hb, url, &b, NULL, &status, e)) != 0)
		goto done;
	if (status != 200) {
		rc = status_error(hb, status, what, e);
		goto done;
	}
	j = json_loadb(b.p ? b.p : "", b.n, 0, &je);
	sha = json_string_value(json_object_get(j, "sha"));
	sib = json_object_get(j, "siblings");
	if (j == NULL || sha == NULL || !json_is_array(sib) ||
	    !valid_rev(sha)) {
		rc = err_set(e, ERR_FORMAT, "%s: the hub's answer is not the "
		    "expected JSON (sha, siblings)%s%s", url,
		    j == NULL ? ": " : "", j == NULL ? je.text : "");
		goto done;
	}
	if ((hb->commit = strdup(sha)) == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	json_array_foreach(sib, i, it) {
		const char *p = json_string_value(json_object_get(it,
		    "rfilename"));

		if (p == NULL || !valid_path(p) || !wanted(p, want))
			continue;
		if ((rc = add_file(hb, p, e)) != 0)
			goto done;
	}
	rc = check_wanted(hb, want, "", e);
done:
	json_decref(j);
	free(b.p);
	free(qrev);
	free(url);
	free(what);
	return rc;
}

static char *
norm_etag(const char *s)
{
	size_t n;
	char *o;

	if (s == NULL)
		return NULL;
	if (strncmp(s, "W/", 2) == 0)
		s += 2;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if ((o = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(o, s, n);
	o[n] = '\0';
	return o;
}

/* HEAD the resolve URL of f: etag, size, redirect. */
static int
resolve_file(struct hub *hb, struct hub_file *f, struct err *e)
{
	struct head h;
	char *qp = quote(f->path, 1), *url = NULL, *what = NULL;
	long status;
	int rc;

	memset(&h, 0, sizeof h);
	if (qp == NULL || (url = fmt("%s/%s/resolve/%s/%s", hb->endpoint,
	    hb->repo, hb->commit, qp)) == NULL ||
	    (what = fmt("%s: %s", hb->repo, f->path)) == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = request(hb, url, NULL, &h, &status, e)) != 0)
		goto done;
	if (status >= 400) {
		rc = status_error(hb, status, what, e);
		goto done;
	}
	free(f->etag);
	f->etag = norm_etag(h.linked_etag ? h.linked_etag : h.etag);
	if (f->etag == NULL || f->etag[0] == '\0' || strchr(f->etag, '/') ||
	    strstr(f->etag, "..") != NULL) {
		rc = err_set(e, ERR_FORMAT, "%s: the hub sent no usable ETag",
		    what);
		goto done;
	}
	f->lfs = h.linked_etag != NULL && is_hex(f->etag, 64);
	if (h.has_linked_size) {
		f->size = h.linked_size;
		f->size_known = 1;
	} else if (h.has_size && status < 300) {
		f->size = h.size;
		f->size_known = 1;
	}
	free(f->location);
	f->location = NULL;
	if (status >= 300 && h.location != NULL) {
		if (strncmp(h.location, "http://", 7) == 0 ||
		    strncmp(h.location, "https://", 8) == 0)
			f->location = strdup(h.location);
		else if (h.location[0] == '/')
			f->location = fmt("%s%s", hb->endpoint, h.location);
	}
	if (f->location == NULL)
		f->location = strdup(url);
	free(f->blob);
	free(f->part);
	f->blob = fmt("%s/blobs/%s", hb->repo_dir, f->etag);
	f->part = fmt("%s/blobs/%s.incomplete", hb->repo_dir, f->etag);
	if (f->location == NULL || f->blob == NULL || f->part == NULL)
		rc = err_set(e, ERR_NOMEM, "out of memory");
done:
	head_free(&h);
	free(qp);
	free(url);
	free(what);
	return rc;
}

/* ---- progress ---- */

static void
emit(struct hub *hb, int ev, const struct hub_file *f, int force)
{
	struct net_progress p;
	uint64_t now = util_now_ns(), done = 0;
	size_t i;

	if (hb->o->progress == NULL)
		return;
	if (ev == NET_EV_PROGRESS && !force &&
	    now - hb->last_emit_ns < 100000000ull)
		return;
	hb->last_emit_ns = now;
	memset(&p, 0, sizeof p);
	p.event = ev;
	p.file_index = -1;
	for (i = 0; i < hb->n_f; i++)
		if (!hb->f[i].cached)
			done += hb->f[i].have;
	if (hb->speed_t0_ns == 0) {
		hb->speed_t0_ns = now;
		hb->speed_b0 = done;
	} else if (now - hb->speed_t0_ns > 500000000ull) {
		double dt = (double)(now - hb->speed_t0_ns) / 1e9;
		double s = (double)(done - hb->speed_b0) / dt;

		hb->speed = hb->speed == 0 ? s : 0.6 * hb->speed + 0.4 * s;
		hb->speed_t0_ns = now;
		hb->speed_b0 = done;
	}
	if (f != NULL) {
		snprintf(p.file, sizeof p.file, "%s", f->path);
		p.file_index = f->index;
		p.file_done = f->have;
		p.file_size = f->size;
	}
	p.n_files = hb->n_fetch;
	p.total_done = done;
	p.total_size = hb->total_size;
	p.speed = hb->speed;
	p.eta_s = hb->speed > 0 && hb->total_size >= done ?
	    (double)(hb->total_size - done) / hb->speed : -1;
	p.active = hb->active;
	if (hb->o->progress(hb->o->progress_arg, &p) != 0 &&
	    hb->o->cancel != NULL)
		*hb->o->cancel = 1;
}

/* At most ~10 times a second: a PROGRESS event per running transfer
 * (totals only when none runs). */
static void
emit_running(struct hub *hb)
{
	size_t i;
	int any = 0;

	if (hb->o->progress == NULL ||
	    util_now_ns() - hb->last_emit_ns < 100000000ull)
		return;
	for (i = 0; i < hb->n_f; i++)
		if (!hb->f[i].cached && hb->f[i].state == F_ACTIVE) {
			emit(hb, NET_EV_PROGRESS, &hb->f[i], 1);
			any = 1;
		}
	if (!any)
		emit(hb, NET_EV_PROGRESS, NULL, 1);
}

/* ---- transfers ---- */

static size_t
dl_write(char *d, size_t sz, size_t nm, void *arg)
{
	struct hub_file *f = arg;
	size_t n = sz * nm;
	long code = 0;

	if (f->first_write) {
		f->first_write = 0;
		curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200 && code != 206)
			return n;	/* an error body: dropped */
		if (code == 200 && f->have > 0) {
			/* the server ignored the Range: start over */
			if (fflush(f->fp) != 0 || ftruncate(fileno(f->fp),
			    0) != 0 || fseeko(f->fp, 0, SEEK_SET) != 0) {
				f->werr = errno;
				return 0;
			}
			f->have = 0;
			net_sha256_init(&f->sha);
			f->restarted = 1;
		}
	}
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200 && code != 206)
		return n;
	if (f->size_known && f->have + n > f->size) {
		f->werr = EOVERFLOW;
		return 0;
	}
	if (fwrite(d, 1, n, f->fp) != n) {
		f->werr = errno ? errno : EIO;
		return 0;
	}
	if (f->lfs)
		net_sha256_update(&f->sha, d, n);
	f->have += n;
	return n;
}

static int
dl_xfer(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct hub *hb = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return cancelled(hb);
}

/* Hash what the partial file already holds. */
static int
hash_existing(struct hub_file *f, struct err *e)
{
	char buf[1 << 16];
	size_t n;
	uint64_t left = f->have;

	net_sha256_init(&f->sha);
	if (!f->lfs || f->have == 0)
		return 0;
	if (fseeko(f->fp, 0, SEEK_SET) != 0)
		return err_set(e, ERR_IO, "%s: %s", f->part, strerror(errno));
	while (left > 0) {
		n = fread(buf, 1, left < sizeof buf ? (size_t)left :
		    sizeof buf, f->fp);
		if (n == 0)
			return err_set(e, ERR_IO, "%s: read error", f->part);
		net_sha256_update(&f->sha, buf, n);
		left -= n;
	}
	if (fseeko(f->fp, 0, SEEK_END) != 0)
		return err_set(e, ERR_IO, "%s: %s", f->part, strerror(errno));
	return 0;
}

static int
dl_start(struct hub *hb, CURLM *mh, struct hub_file *f, struct err *e)
{
	struct stat sb;
	int fd, auth;

	if ((fd = open(f->part, O_RDWR | O_CREAT, 0644)) < 0 ||
	    (f->fp = fdopen(fd, "r+b")) == NULL) {
		int rc = err_set(e, ERR_IO, "%s: %s", f->part,
		    strerror(errno));

		if (fd >= 0)
			close(fd);
		return rc;
	}
	f->have = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	if ((f->size_known && f->have > f->size) || f->no_range) {
		if (ftruncate(fd, 0) != 0)
			return err_set(e, ERR_IO, "%s: %s", f->part,
			    strerror(errno));
		f->have = 0;
		f->no_range = 0;
	}
	if (hash_existing(f, e) != 0)
		return ERR_IO;
	if (fseeko(f->fp, 0, SEEK_END) != 0)
		return err_set(e, ERR_IO, "%s: %s", f->part, strerror(errno));
	f->start_have = f->have;
	f->state = F_ACTIVE;
	f->first_write = 1;
	f->werr = 0;
	f->restarted = 0;
	hb->active++;
	emit(hb, NET_EV_FILE_START, f, 1);
	if (f->size_known && f->have == f->size) {
		/* complete already: nothing to ask for */
		f->h = NULL;
		return 0;
	}
	if ((f->h = curl_easy_init()) == NULL)
		return err_set(e, ERR_NOMEM, "curl_easy_init failed");
	/* the token goes to the hub only, never to a CDN */
	auth = strncmp(f->location, hb->endpoint, strlen(hb->endpoint)) == 0;
	common_opts(hb, f->h, f->location, auth);
	curl_easy_setopt(f->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_PRIVATE, f);
	curl_easy_setopt(f->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(f->h, CURLOPT_XFERINFOFUNCTION, dl_xfer);
	curl_easy_setopt(f->h, CURLOPT_XFERINFODATA, hb);
	curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->errbuf);
	f->errbuf[0] = '\0';
	if (f->have > 0)
		curl_easy_setopt(f->h, CURLOPT_RESUME_FROM_LARGE,
		    (curl_off_t)f->have);
	curl_multi_add_handle(mh, f->h);
	return 0;
}

static void
dl_stop(struct hub *hb, CURLM *mh, struct hub_file *f)
{
	if (f->h != NULL) {
		curl_multi_remove_handle(mh, f->h);
		curl_easy_cleanup(f->h);
		f->h = NULL;
	}
	if (f->fp != NULL) {
		fclose(f->fp);
		f->fp = NULL;
	}
	if (f->state == F_ACTIVE)
		hb->active--;
}

/* Verify and move a complete partial file into place. */
static int
dl_finish(struct hub *hb, struct hub_file *f, struct err *e)
{
	uint8_t d[32];
	char hex[65];

	if (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0)
		return err_set(e, ERR_IO, "%s: %s%s", f->part,
		    strerror(errno), errno == ENOSPC ? " (disk full)" : "");
	if (f->lfs) {
		net_sha256_final(&f->sha, d);
		net_sha256_hex(d, hex);
		if (strcasecmp(hex, f->etag) != 0) {
			unlink(f->part);
			return err_set(e, ERR_FORMAT, "%s: %s: checksum "
			    "mismatch (SHA-256 %s, the hub says %s); the "
			    "download was removed", hb->repo, f->path, hex,
			    f->etag);
		}
	}
	if (rename(f->part, f->blob) != 0)
		return err_set(e, ERR_IO, "%s: %s", f->blob, strerror(errno));
	return 0;
}

/*
 * One finished transfer: 0 done, 1 to be retried, or an error.
 */
static int
dl_done(struct hub *hb, CURLM *mh, struct hub_file *f, CURLcode res,
    struct err *e)
{
	long status = 0;
	int rc, retry = 0;

	if (f->h != NULL)
		curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	else {
		status = 206;
		res = CURLE_OK;
	}
	if (f->werr != 0) {
		rc = err_set(e, ERR_IO, "%s: %s%s", f->part,
		    strerror(f->werr), f->werr == ENOSPC ? " (disk full; "
		    "the partial file is kept: free space and pull again)" :
		    "");
		dl_stop(hb, mh, f);
		return rc;
	}
	if (res == CURLE_ABORTED_BY_CALLBACK || cancelled(hb)) {
		dl_stop(hb, mh, f);
		return err_set(e, ERR_CANCELLED, "interrupted: partial "
		    "downloads kept in %s/blobs for resume", hb->repo_dir);
	}
	if (res == CURLE_OK && (status == 200 || status == 206) &&
	    (!f->size_known || f->have == f->size)) {
		rc = dl_finish(hb, f, e);
		dl_stop(hb, mh, f);
		if (rc != 0)
			return rc;
		f->state = F_DONE;
		emit(hb, NET_EV_FILE_DONE, f, 1);
		return 0;
	}
	/* with Range, curl reports an error status as a range error */
	if (res == CURLE_RANGE_ERROR && status >= 300)
		res = CURLE_OK;
	if (res == CURLE_RANGE_ERROR) {
		retry = 1;	/* the server ignores Range: start over */
		f->no_range = 1;
	} else if (res == CURLE_OK && status == 416 && f->size_known &&
	    f->have >= f->size) {
		/* the partial is complete (or too long): check it */
		retry = 1;
	} else if (res == CURLE_OK && (status == 403 || status == 410) &&
	    strncmp(f->location, hb->endpoint, strlen(hb->endpoint)) != 0) {
		retry = 2;	/* a signed redirect URL expired */
	} else if (res == CURLE_OK && (status == 401 || status == 403 ||
	    status == 404)) {
		char what[512];

		dl_stop(hb, mh, f);
		snprintf(what, sizeof what, "%s: %s", hb->repo, f->path);
		return status_error(hb, status, what, e);
	} else if (res == CURLE_OK && (status == 200 || status == 206)) {
		retry = 1;	/* cut short */
	} else if ((res == CURLE_OK && (status >= 500 || status == 429 ||
	    status == 403 || status == 410)) || transient(res)) {
		retry = 1;
	}
	if (res == CURLE_OK && status >= 300 && status < 400 && !retry)
		retry = 2;
	dl_stop(hb, mh, f);
	if (!retry || f->tries >= hb->o->retries) {
		if (res != CURLE_OK)
			return err_set(e, ERR_NET, "%s: %s: %s%s", hb->repo,
			    f->path, f->errbuf[0] ? f->errbuf :
			    curl_easy_strerror(res), f->tries ?
			    " (retries used up; pull again to resume)" : "");
		return err_set(e, ERR_NET, "%s: %s: HTTP %ld%s", hb->repo,
		    f->path, status, f->tries ? " (retries used up)" : "");
	}
	f->tries++;
	if (retry == 2) {
		/* resolve again for a fresh redirect */
		if ((rc = resolve_file(hb, f, e)) != 0)
			return rc;
		f->next_ns = 0;
	} else
		f->next_ns = util_now_ns() + (uint64_t)hb->o->backoff_ms *
		    1000000ull * (1ull << (f->tries - 1 < 16 ? f->tries - 1 :
		    16));
	f->state = F_PENDING;
	emit(hb, NET_EV_RETRY, f, 1);
	return 1;
}

static int
download_all(struct hub *hb, struct err *e)
{
	CURLM *mh;
	CURLMsg *msg;
	size_t i;
	int running, left, rc = 0, n;
	uint64_t now;

	if ((mh = curl_multi_init()) == NULL)
		return err_set(e, ERR_NOMEM, "curl_multi_init failed");
	for (;;) {
		now = util_now_ns();
		left = 0;
		for (i = 0; i < hb->n_f; i++) {
			struct hub_file *f = &hb->f[i];

			if (f->cached || f->state == F_DONE)
				continue;
			left++;
			if (f->state == F_PENDING &&
			    hb->active < hb->o->parallel &&
			    now >= f->next_ns) {
				if ((rc = dl_start(hb, mh, f, e)) != 0)
					goto out;
				if (f->h == NULL) {
					rc = dl_done(hb, mh, f, CURLE_OK, e);
					if (rc < 0)
						goto out;
					rc = 0;
				}
			}
		}
		if (left == 0)
			break;
		if (cancelled(hb)) {
			rc = err_set(e, ERR_CANCELLED, "interrupted: partial "
			    "downloads kept in %s/blobs for resume",
			    hb->repo_dir);
			goto out;
		}
		curl_multi_perform(mh, &running);
		while ((msg = curl_multi_info_read(mh, &n)) != NULL) {
			struct hub_file *f;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&f);
			rc = dl_done(hb, mh, f, msg->data.result, e);
			if (rc < 0)
				goto out;
			rc = 0;
		}
		emit_running(hb);
		curl_multi_poll(mh, NULL, 0, 100, NULL);
	}
out:
	for (i = 0; i < hb->n_f; i++)
		if (hb->f[i].state == F_ACTIVE)
			dl_stop(hb, mh, &hb->f[i]);
	curl_multi_cleanup(mh);
	return rc;
}

/* ---- snapshot ---- */

static int
link_file(struct hub *hb, const char *snap, struct hub_file *f,
    struct err *e)
{
	char *dst = fmt("%s/%s", snap, f->path), *tmp = NULL, *rel = NULL;
	size_t depth = 0, k, o;
	const char *p;
	int rc = 0;

	for (p = f->path; *p; p++)
		depth += *p == '/';
	rel = malloc(3 * (depth + 2) + strlen(f->etag) + 8);
	tmp = dst ? fmt("%s.tmp.%ld", dst, (long)getpid()) : NULL;
	if (dst == NULL || rel == NULL || tmp == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	for (k = 0, o = 0; k < depth + 2; k++, o += 3)
		memcpy(rel + o, "../", 3);
	sprintf(rel + o, "blobs/%s", f->etag);
	if ((rc = mkdirs_for(dst, e)) != 0)
		goto done;
	unlink(tmp);
	if (symlink(rel, tmp) != 0 || rename(tmp, dst) != 0) {
		rc = err_set(e, ERR_IO, "%s: %s", dst, strerror(errno));
		unlink(tmp);
	}
done:
	free(dst);
	free(tmp);
	free(rel);
	return rc;
}

static int
write_ref(struct hub *hb, const char *rev, struct err *e)
{
	char *path;
	int rc;

	if (strcmp(rev, hb->commit) == 0)
		return 0;
	if ((path = fmt("%s/refs/%s", hb->repo_dir, rev)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((rc = mkdirs_for(path, e)) == 0)
		rc = util_write_file(path, hb->commit, strlen(hb->commit), e);
	free(path);
	return rc;
}

/* ---- offline: the cache only ---- */

static int
walk(struct hub *hb, const char *root, const char *rel,
    const char *const *want, struct err *e)
{
	char *dir = rel[0] ? fmt("%s/%s", root, rel) : strdup(root);
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int rc = 0;

	if (dir == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return 0;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *r, *full;

		if (de->d_name[0] == '.')
			continue;
		r = rel[0] ? fmt("%s/%s", rel, de->d_name) :
		    strdup(de->d_name);
		full = r ? fmt("%s/%s", root, r) : NULL;
		if (r == NULL || full == NULL)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
			rc = walk(hb, root, r, want, e);
		else if (stat(full, &sb) == 0 && wanted(r, want))
			rc = add_file(hb, r, e);
		free(r);
		free(full);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int
from_cache(struct hub *hb, const char *rev, const char *const *want,
    char **snap, struct err *e)
{
	char *ref = NULL, *buf = NULL;
	size_t len;
	struct stat sb;
	int rc;

	if (is_hex(rev, 40)) {
		hb->commit = strdup(rev);
	} else {
		if ((ref = fmt("%s/refs/%s", hb->repo_dir, rev)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		rc = util_read_file(ref, &buf, &len, NULL);
		free(ref);
		if (rc != 0)
			return err_set(e, ERR_NOTFOUND, "%s@%s is not in the "
			    "cache %s (offline)", hb->repo, rev,
			    hb->o->cache_dir);
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == ' '))
			buf[--len] = '\0';
		if (!valid_rev(buf)) {
			free(buf);
			return err_set(e, ERR_FORMAT, "%s/refs/%s: not a "
			    "commit", hb->repo_dir, rev);
		}
		hb->commit = buf;
	}
	if (hb->commit == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if ((*snap = fmt("%s/snapshots/%s", hb->repo_dir, hb->commit)) ==
	    NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (stat(*snap, &sb) != 0)
		return err_set(e, ERR_NOTFOUND, "%s@%s is not in the cache "
		    "%s (offline)", hb->repo, rev, hb->o->cache_dir);
	if ((rc = walk(hb, *snap, "", want, e)) != 0)
		return rc;
	return check_wanted(hb, want, " in the cache (offline)", e);
}

/* ---- the entry point ---- */

static void
hub_free(struct hub *hb)
{
	size_t i;

	for (i = 0; i < hb->n_f; i++) {
		free(hb->f[i].path);
		free(hb->f[i].etag);
		free(hb->f[i].location);
		free(hb->f[i].blob);
		free(hb->f[i].part);
	}
	free(hb->f);
	free(hb->endpoint);
	free(hb->repo_dir);
	free(hb->commit);
	curl_slist_free_all(hb->auth);
}

static int
fill_snapshot(struct hub *hb, char *snap, struct net_snapshot *out,
    struct err *e)
{
	size_t i;

	out->repo = strdup(hb->repo);
	out->commit = strdup(hb->commit);
	out->dir = snap;
	out->files = calloc(hb->n_f + 1, sizeof *out->files);
	if (out->repo == NULL || out->commit == NULL || out->files == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < hb->n_f; i++) {
		if ((out->files[i] = strdup(hb->f[i].path)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		out->n_files++;
	}
	return 0;
}

/* curl_global_init, once per process whatever the thread (it is not
 * thread-safe in older libcurl). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) != 0;
}

static int
curl_ready(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_init_rc;
}

/*
 * Set hb up for repo at rev: both checked, the endpoint without its
 * trailing slashes, the repo's cache folder, the Authorization header.
 * On error hb holds what hub_free releases.
 */
static int
hub_init(struct hub *hb, const struct net_opts *o, const char *repo,
    const char *rev, struct err *e)
{
	size_t n;
	char *h;

	memset(hb, 0, sizeof *hb);
	hb->o = o;
	hb->repo = repo;
	if (!net_repo_valid(repo))
		return err_set(e, ERR_USAGE, "'%s' is not a hub repo id "
		    "(ORG/NAME)", repo);
	if (!valid_rev(rev))
		return err_set(e, ERR_USAGE, "'%s' is not a revision", rev);
	if (curl_ready() != 0)
		return err_set(e, ERR_NET, "curl_global_init failed");
	n = strlen(o->endpoint);
	while (n > 0 && o->endpoint[n - 1] == '/')
		n--;
	if ((hb->endpoint = strndup(o->endpoint, n)) == NULL ||
	    (hb->repo_dir = net_repo_dir(o->cache_dir, repo)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (o->token != NULL) {
		if ((h = fmt("Authorization: Bearer %s", o->token)) == NULL)
			return err_set(e, ERR_NOMEM, "out of memory");
		hb->auth = curl_slist_append(NULL, h);
		free(h);
	}
	return 0;
}

int
net_hub_download(const struct net_opts *o, const char *repo,
    const char *rev, const char *const *want, struct net_snapshot *out,
    struct err *e)
{
	struct hub hb;
	char *snap = NULL;
	size_t i;
	struct stat sb;
	uint64_t t0;
	int rc;

	memset(out, 0, sizeof *out);
	if (rev == NULL)
		rev = "main";
	if ((rc = hub_init(&hb, o, repo, rev, e)) != 0)
		goto done;
	if (o->offline) {
		if ((rc = from_cache(&hb, rev, want, &snap, e)) != 0)
			goto done;
		rc = fill_snapshot(&hb, snap, out, e);
		snap = NULL;
		goto done;
	}
	if ((rc = api_list(&hb, rev, want, e)) != 0) {
		/* network down: fall back on the cache, as huggingface_hub
		 * does */
		if (rc == ERR_NET && strstr(e->msg, "HTTP") == NULL) {
			struct err e2;
			size_t k;

			for (k = 0; k < hb.n_f; k++)
				free(hb.f[k].path);
			hb.n_f = 0;
			free(hb.commit);
			hb.commit = NULL;
			if (from_cache(&hb, rev, want, &snap, &e2) == 0) {
				util_log(1, "%s; using the cached snapshot",
				    e->msg);
				err_clear(e);
				rc = fill_snapshot(&hb, snap, out, e);
				snap = NULL;
			}
		}
		goto done;
	}
	for (i = 0; i < hb.n_f; i++)
		if ((rc = resolve_file(&hb, &hb.f[i], e)) != 0)
			goto done;
	for (i = 0; i < hb.n_f; i++) {
		struct hub_file *f = &hb.f[i];

		if (stat(f->blob, &sb) == 0 && (!f->size_known ||
		    (uint64_t)sb.st_size == f->size)) {
			f->cached = 1;
			continue;
		}
		f->index = hb.n_fetch++;
		hb.total_size += f->size;
		if ((rc = mkdirs_for(f->blob, e)) != 0)
			goto done;
	}
	emit(&hb, NET_EV_RESOLVED, NULL, 1);
	t0 = util_now_ns();
	if ((rc = download_all(&hb, e)) != 0)
		goto done;
	out->seconds = (double)(util_now_ns() - t0) / 1e9;
	for (i = 0; i < hb.n_f; i++)
		if (!hb.f[i].cached)
			out->bytes_fetched += hb.f[i].have -
			    hb.f[i].start_have;
	if ((snap = fmt("%s/snapshots/%s", hb.repo_dir, hb.commit)) == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < hb.n_f; i++)
		if ((rc = link_file(&hb, snap, &hb.f[i], e)) != 0)
			goto done;
	if ((rc = write_ref(&hb, rev, e)) != 0)
		goto done;
	emit(&hb, NET_EV_DONE, NULL, 1);
	rc = fill_snapshot(&hb, snap, out, e);
	snap = NULL;
done:
	free(snap);
	hub_free(&hb);
	if (rc != 0)
		net_snapshot_free(out);
	return rc;
}

int
net_hub_list(const struct net_opts *o, const char *repo, const char *rev,
    char ***files, size_t *n, struct err *e)
{
	static const char *const all[] = { "*", NULL };
	struct hub hb;
	size_t i;
	int rc;

	*files = NULL;
	*n = 0;
	if (rev == NULL)
		rev = "main";
	if ((rc = hub_init(&hb, o, repo, rev, e)) != 0)
		goto done;
	if (o->offline) {
		char *snap = NULL;

		rc = from_cache(&hb, rev, all, &snap, e);
		free(snap);
	} else
		rc = api_list(&hb, rev, all, e);
	if (rc != 0)
		goto done;
	if ((*files = calloc(hb.n_f + 1, sizeof **files)) == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < hb.n_f; i++) {
		(*files)[i] = hb.f[i].path;
		hb.f[i].path = NULL;
	}
	*n = hb.n_f;
done:
	hub_free(&hb);
	return rc;
}

void
net_snapshot_free(struct net_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_files; i++)
		free(s->files[i]);
	free(s->files);
	free(s->repo);
	free(s->commit);
	free(s->dir);
	memset(s, 0, sizeof *s);
}

/* ---- a plain progress bar ---- */

int
net_progress_bar(void *arg, const struct net_progress *p)
{
	char a[32], b[32], s[32], eta[32];
	int width = 30, fill, i;
	char bar[64];

	(void)arg;
	if (p->event == NET_EV_RESOLVED || p->total_size == 0)
		return 0;
	fill = (int)((double)p->total_done / (double)p->total_size * width);
	if (fill > width)
		fill = width;
	for (i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	if (p->eta_s >= 0)
		snprintf(eta, sizeof eta, "%d:%02d", (int)p->eta_s / 60,
		    (int)p->eta_s % 60);
	else
		snprintf(eta, sizeof eta, "--:--");
	fprintf(stderr, "\r[%s] %s / %s  %s/s  ETA %s  (%d active) ", bar,
	    util_fmt_bytes(p->total_done, a, sizeof a),
	    util_fmt_bytes(p->total_size, b, sizeof b),
	    util_fmt_bytes((uint64_t)p->speed, s, sizeof s), eta, p->active);
	if (p->event == NET_EV_DONE)
		fputc('\n', stderr);
	return 0;
}
