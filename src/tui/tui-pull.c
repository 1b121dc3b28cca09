/*
 * tui-pull.c - downloads and conversions started from the chat (/pull,
 * /model ORG/NAME), each on a thread of its own, never on the UI thread
 * nor the engine's.
 *
 * A job's thread runs convert_pull_run(), the code `moescope pull`
 * runs: the hub's files into the huggingface_hub cache, then the GGUF
 * into the local store. Its progress callbacks copy what they are told
 * into events on a queue (mutex-guarded list); the first event into an
 * empty queue writes a byte to a pipe that the UI thread polls, as the
 * engine session does. Progress events of the same job and file replace
 * the one still waiting, so a slow UI never makes the queue grow. The
 * last event of a job (END) is allocated when the job starts, so it
 * always gets through; the UI joins the thread when it takes it (the
 * thread is then about to return).
 *
 * The UI thread owns struct tui_pull_job: tui_pull_drain() folds the
 * events into it (files, totals, speed, ETA, the conversion's rate),
 * and tui-panels.c draws it. Cancelling sets an atomic flag that both
 * progress callbacks return: net stops its transfers within ~100 ms and
 * keeps the partial files for the next pull to resume, the converter
 * stops after its current chunk of rows and leaves no partial GGUF.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert/convert.h"
#include "net/net.h"
#include "tui/tui-int.h"

#define LINGER_NS	(20ull * 1000000000ull)	/* the panel after an end */

enum { PEV_NET, PEV_CONV_START, PEV_CONV, PEV_END };

struct pull_ev {
	struct pull_ev		*next;
	int			 job;
	int			 kind;		/* PEV_* */
	uint64_t		 t_ns;
	struct net_progress	 np;		/* PEV_NET */
	char			 tensor[96];	/* PEV_CONV* */
	uint64_t		 done, total;
	/* PEV_END */
	int			 rc;
	char			 msg[ERR_MSG_MAX];
	char			 path[1024];
	int			 up_to_date, linked;
	uint64_t		 dl_bytes;
	double			 dl_seconds;
};

struct pull_queue {
	pthread_mutex_t		 mu;
	struct pull_ev		*head, *tail;
	int			 pipe[2];
};

struct pull_worker {
	pthread_t		 th;
	struct pull_queue	*q;
	int			 job;
	char			*repo, *file, *models_dir;
	int			 type, threads;
	atomic_int		 cancel;	/* set by the UI thread */
	volatile sig_atomic_t	 net_cancel;	/* net's own, this thread */
	struct pull_ev		*end;		/* preallocated */
};

/* ---- the queue (any thread) ---- */

static void
q_wake(struct pull_queue *q)
{
	char c = 1;

	/* a full pipe already wakes the UI: nothing lost */
	if (write(q->pipe[1], &c, 1) < 0 && errno != EAGAIN)
		return;
}

/* Queue ev, or fold it into a waiting event it supersedes. */
static void
q_post(struct pull_queue *q, struct pull_ev *ev)
{
	struct pull_ev *o;
	int was_empty;

	pthread_mutex_lock(&q->mu);
	for (o = q->head; o != NULL; o = o->next)
		if (o->job == ev->job && o->kind == ev->kind &&
		    ((ev->kind == PEV_NET && ev->np.event == NET_EV_PROGRESS &&
		    o->np.event == NET_EV_PROGRESS &&
		    o->np.file_index == ev->np.file_index) ||
		    ev->kind == PEV_CONV)) {
			ev->next = o->next;
			*o = *ev;
			pthread_mutex_unlock(&q->mu);
			free(ev);
			return;
		}
	ev->next = NULL;
	was_empty = q->head == NULL;
	if (q->tail != NULL)
		q->tail->next = ev;
	else
		q->head = ev;
	q->tail = ev;
	pthread_mutex_unlock(&q->mu);
	if (was_empty)
		q_wake(q);
}

static struct pull_ev *
q_take(struct pull_queue *q)
{
	struct pull_ev *l;

	pthread_mutex_lock(&q->mu);
	l = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mu);
	return l;
}

static void
ev_free_list(struct pull_ev *l)
{
	struct pull_ev *n;

	for (; l != NULL; l = n) {
		n = l->next;
		free(l);
	}
}

/* ---- the job's thread ---- */

static int
on_net(void *arg, const struct net_progress *p)
{
	struct pull_worker *w = arg;
	struct pull_ev *ev;

	if ((ev = calloc(1, sizeof *ev)) != NULL) {
		ev->job = w->job;
		ev->kind = PEV_NET;
		ev->t_ns = util_now_ns();
		ev->np = *p;
		q_post(w->q, ev);
	}
	return atomic_load(&w->cancel);
}

static int
on_conv(void *arg, const char *tensor, uint64_t done, uint64_t total)
{
	struct pull_worker *w = arg;
	struct pull_ev *ev;

	if ((ev = calloc(1, sizeof *ev)) != NULL) {
		ev->job = w->job;
		ev->kind = done == 0 && tensor[0] == '\0' ? PEV_CONV_START :
		    PEV_CONV;
		ev->t_ns = util_now_ns();
		snprintf(ev->tensor, sizeof ev->tensor, "%s", tensor);
		ev->done = done;
		ev->total = total;
		q_post(w->q, ev);
	}
	return atomic_load(&w->cancel);
}

static void *
pull_main(void *arg)
{
	struct pull_worker *w = arg;
	struct pull_ev *end = w->end;
	struct convert_pull_opts po;
	struct convert_pull_result res;
	struct net_opts no;
	struct err e;
	int rc;

	err_clear(&e);
	memset(&res, 0, sizeof res);
	if ((rc = net_opts_from_env(&no, &e)) == 0) {
		no.progress = on_net;
		no.progress_arg = w;
		no.cancel = &w->net_cancel;
		convert_pull_opts_init(&po);
		po.repo = w->repo;
		po.type = w->type;
		po.file = w->file;
		po.models_dir = w->models_dir;
		po.threads = w->threads;
		po.net = &no;
		po.progress = on_conv;
		po.progress_arg = w;
		rc = convert_pull_run(&po, &res, &e);
		net_opts_fini(&no);
	}
	if (rc != 0 && atomic_load(&w->cancel))
		rc = ERR_CANCELLED;
	end->job = w->job;
	end->kind = PEV_END;
	end->t_ns = util_now_ns();
	end->rc = rc;
	snprintf(end->msg, sizeof end->msg, "%s", e.msg);
	if (rc == 0) {
		snprintf(end->path, sizeof end->path, "%s", res.path);
		end->up_to_date = res.up_to_date;
		end->linked = res.linked;
		end->dl_bytes = res.bytes_fetched;
		end->dl_seconds = res.seconds;
	}
	convert_pull_result_free(&res);
	/* the UI joins this thread when it takes the event */
	q_post(w->q, end);
	return NULL;
}

static void
worker_free(struct pull_worker *w)
{
	if (w == NULL)
		return;
	free(w->repo);
	free(w->file);
	free(w->models_dir);
	free(w->end);
	free(w);
}

/* ---- the UI thread ---- */

int
tui_pull_init(struct tui_pulls *p, struct err *e)
{
	struct pull_queue *q;
	int i;

	memset(p, 0, sizeof *p);
	p->wake_fd = -1;
	p->next_id = 1;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (pipe(q->pipe) != 0) {
		free(q);
		return err_set(e, ERR_IO, "pipe: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		fcntl(q->pipe[i], F_SETFL, fcntl(q->pipe[i], F_GETFL) |
		    O_NONBLOCK);
		fcntl(q->pipe[i], F_SETFD, FD_CLOEXEC);
	}
	pthread_mutex_init(&q->mu, NULL);
	p->q = q;
	p->wake_fd = q->pipe[0];
	return 0;
}

static void
job_fini(struct tui_pull_job *j)
{
	if (j->w != NULL) {
		pthread_join(j->w->th, NULL);
		worker_free(j->w);
		j->w = NULL;
	}
	free(j->files);
	j->files = NULL;
}

int
tui_pull_fini(struct tui_pulls *p)
{
	int i, running = 0;

	if (p->q == NULL)
		return 0;
	for (i = 0; i < p->n; i++)
		if (p->jobs[i].w != NULL) {
			atomic_store(&p->jobs[i].w->cancel, 1);
			running++;
		}
	for (i = 0; i < p->n; i++) {
		/* an END still queued belongs to its worker: not freed
		 * twice */
		if (p->jobs[i].w != NULL) {
			pthread_join(p->jobs[i].w->th, NULL);
			p->jobs[i].w->end = NULL;
		}
	}
	ev_free_list(q_take(p->q));
	for (i = 0; i < p->n; i++) {
		if (p->jobs[i].w != NULL) {
			worker_free(p->jobs[i].w);
			p->jobs[i].w = NULL;
		}
		job_fini(&p->jobs[i]);
	}
	free(p->jobs);
	close(p->q->pipe[0]);
	close(p->q->pipe[1]);
	pthread_mutex_destroy(&p->q->mu);
	free(p->q);
	memset(p, 0, sizeof *p);
	p->wake_fd = -1;
	return running;
}

int
tui_pull_running(const struct tui_pulls *p)
{
	int i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->jobs[i].phase < PULL_DONE;
	return n;
}

int
tui_pull_visible(const struct tui *t, uint64_t now)
{
	const struct tui_pulls *p = &t->pulls;

	if (t->hidden[PANEL_PULL] || p->n == 0)
		return 0;
	return tui_pull_running(p) > 0 || now < p->shown_until;
}

double
tui_pull_frac(const struct tui_pull_job *j)
{
	if (j->phase == PULL_CONVERTING)
		return j->conv_total ? (double)j->conv_done /
		    (double)j->conv_total : 0;
	if (j->phase >= PULL_DONE)
		return 1;
	return j->total_size ? (double)j->total_done /
	    (double)j->total_size : 0;
}

const char *
tui_pull_eta(double s, char *buf, size_t len)
{
	long v;

	if (s < 0 || s != s || s > 360000)
		snprintf(buf, len, "--:--");
	else if ((v = (long)(s + 0.5)) >= 3600)
		snprintf(buf, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
	else
		snprintf(buf, len, "%ld:%02ld", v / 60, v % 60);
	return buf;
}

static struct tui_pull_job *
job_by_id(struct tui_pulls *p, int id)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->jobs[i].id == id)
			return &p->jobs[i];
	return NULL;
}

/* The repo part of ORG/NAME[@REV]. */
static size_t
repo_len(const char *r)
{
	const char *at = strchr(r, '@');

	return at != NULL ? (size_t)(at - r) : strlen(r);
}

/* Make room for one more job: drop the oldest finished past the cap. */
static int
job_room(struct tui_pulls *p)
{
	struct tui_pull_job *nj;
	int i, ncap;

	while (p->n >= TUI_PULL_JOBS) {
		for (i = 0; i < p->n && p->jobs[i].phase < PULL_DONE; i++)
			;
		if (i == p->n)
			break;
		job_fini(&p->jobs[i]);
		memmove(&p->jobs[i], &p->jobs[i + 1], (size_t)(p->n - i - 1) *
		    sizeof *p->jobs);
		p->n--;
	}
	if (p->n < p->cap)
		return 0;
	ncap = p->cap ? p->cap * 2 : 4;
	if ((nj = realloc(p->jobs, (size_t)ncap * sizeof *nj)) == NULL)
		return ERR_NOMEM;
	p->jobs = nj;
	p->cap = ncap;
	return 0;
}

/* The local store: the caller's, else HOME/models (tui-main.c's home:
 * $MOESCOPE_HOME, else ~/.local/share/moescope). */
static char *
models_dir(const struct tui *t)
{
	size_t n;
	char *d;

	if (t->o.models_dir != NULL)
		return strdup(t->o.models_dir);
	if (t->home[0] == '\0')
		return NULL;
	n = strlen(t->home) + 8;
	if ((d = malloc(n)) != NULL)
		snprintf(d, n, "%s/models", t->home);
	return d;
}

int
tui_pull_start(struct tui *t, const char *repo, int type, const char *file,
    int load, struct err *e)
{
	struct tui_pulls *p = &t->pulls;
	struct tui_pull_job *j;
	struct pull_worker *w;
	sigset_t all, old;
	char name[256];
	int i, rc, n;

	if (p->q == NULL)
		return err_set(e, ERR_UNSUPPORTED, "downloads are not "
		    "available (no wake pipe)");
	snprintf(name, sizeof name, "%.*s", (int)repo_len(repo), repo);
	if (!net_repo_valid(name))
		return err_set(e, ERR_USAGE, "'%s' is not a hub repo id "
		    "(ORG/NAME[@REV])", repo);
	for (i = 0; i < p->n; i++)
		if (p->jobs[i].phase < PULL_DONE &&
		    repo_len(p->jobs[i].repo) == strlen(name) &&
		    strncmp(p->jobs[i].repo, name, strlen(name)) == 0)
			return err_set(e, ERR_USAGE, "%s is already being "
			    "pulled (/pull cancel %s stops it)", name, name);
	if ((rc = job_room(p)) != 0)
		return err_set(e, rc, "out of memory");
	if ((w = calloc(1, sizeof *w)) == NULL ||
	    (w->end = calloc(1, sizeof *w->end)) == NULL ||
	    (w->repo = strdup(repo)) == NULL ||
	    (file != NULL && (w->file = strdup(file)) == NULL)) {
		worker_free(w);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if ((w->models_dir = models_dir(t)) == NULL) {
		worker_free(w);
		return err_set(e, ERR_NOTFOUND, "neither MOESCOPE_HOME nor "
		    "HOME is set: no local model store to pull into");
	}
	w->q = p->q;
	w->job = p->next_id;
	w->type = type;
	/* the conversion takes the cores the engine leaves */
	n = util_ncpu() - (t->loaded ? t->info.n_threads : 0);
	w->threads = n < 1 ? 1 : n;
	atomic_init(&w->cancel, 0);
	/* the thread takes no signals: they are the UI's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->th, NULL, pull_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		worker_free(w);
		return err_set(e, ERR_NOMEM, "cannot start a thread: %s",
		    strerror(rc));
	}
	j = &p->jobs[p->n++];
	memset(j, 0, sizeof *j);
	j->id = p->next_id++;
	snprintf(j->repo, sizeof j->repo, "%s", repo);
	snprintf(j->what, sizeof j->what, "%s", file != NULL ? file :
	    convert_type_name(type));
	j->load = load;
	j->phase = PULL_RESOLVING;
	j->speed = 0;
	j->eta_s = -1;
	j->conv_eta_s = -1;
	j->t0 = util_now_ns();
	j->w = w;
	t->hidden[PANEL_PULL] = 0;
	return 0;
}

int
tui_pull_cancel(struct tui *t, const char *which)
{
	struct tui_pulls *p = &t->pulls;
	struct tui_pull_job *j;
	int i, n = 0;
	long id;

	for (i = p->n - 1; i >= 0; i--) {
		j = &p->jobs[i];
		if (j->phase >= PULL_DONE || j->w == NULL)
			continue;
		if (which != NULL && *which != '\0') {
			if (which[0] == '#') {
				if (util_parse_long(which + 1, 0, 1 << 30,
				    &id) != 0 || id != j->id)
					continue;
			} else if (strncmp(j->repo, which,
			    repo_len(which)) != 0 ||
			    repo_len(j->repo) != repo_len(which))
				continue;
		}
		atomic_store(&j->w->cancel, 1);
		j->cancelling = 1;
		n++;
		if (which == NULL || *which == '\0')
			break;
	}
	return n;
}

void
tui_pull_clear(struct tui *t)
{
	struct tui_pulls *p = &t->pulls;
	int i, k = 0;

	for (i = 0; i < p->n; i++) {
		if (p->jobs[i].phase >= PULL_DONE) {
			job_fini(&p->jobs[i]);
			continue;
		}
		p->jobs[k++] = p->jobs[i];
	}
	p->n = k;
	p->shown_until = 0;
}

static void
on_net_ev(struct tui_pull_job *j, const struct net_progress *np)
{
	struct tui_pull_file *f = NULL;

	if (np->file_index >= 0 && np->file_index < j->n_files)
		f = &j->files[np->file_index];
	switch (np->event) {
	case NET_EV_RESOLVED:
		j->phase = PULL_DOWNLOADING;
		free(j->files);
		j->files = NULL;
		j->n_files = 0;
		if (np->n_files > 0 && (j->files = calloc((size_t)np->n_files,
		    sizeof *j->files)) != NULL)
			j->n_files = np->n_files;
		break;
	case NET_EV_FILE_START:
	case NET_EV_PROGRESS:
		if (f != NULL && f->state != PF_DONE) {
			snprintf(f->name, sizeof f->name, "%s", np->file);
			f->done = np->file_done;
			f->size = np->file_size;
			f->state = PF_ACTIVE;
		}
		break;
	case NET_EV_FILE_DONE:
		if (f != NULL && f->state != PF_DONE) {
			snprintf(f->name, sizeof f->name, "%s", np->file);
			f->size = np->file_size;
			f->done = f->size;
			f->state = PF_DONE;
			j->files_done++;
		}
		break;
	case NET_EV_RETRY:
		j->retries++;
		if (f != NULL && f->state != PF_DONE)
			f->state = PF_RETRY;
		break;
	case NET_EV_DONE:
		j->files_done = j->n_files;
		break;
	}
	if (np->event != NET_EV_RESOLVED || np->total_size > 0) {
		j->total_done = np->total_done;
		j->total_size = np->total_size;
	}
	if (np->event == NET_EV_DONE)
		j->total_done = j->total_size;
	j->speed = np->speed;
	j->eta_s = np->eta_s;
}

static void
on_end(struct tui *t, struct tui_pull_job *j, struct pull_ev *ev)
{
	char b[32], name[256];

	j->t_end = util_now_ns();
	t->pulls.shown_until = j->t_end + LINGER_NS;
	snprintf(name, sizeof name, "%.*s", (int)repo_len(j->repo), j->repo);
	if (ev->rc == 0) {
		j->phase = PULL_DONE;
		snprintf(j->path, sizeof j->path, "%s", ev->path);
		j->up_to_date = ev->up_to_date;
		j->linked = ev->linked;
		j->dl_bytes = ev->dl_bytes;
		j->dl_seconds = ev->dl_seconds;
		j->total_done = j->total_size;
		j->conv_done = j->conv_total;
		tui_note(t, ROLE_NOTE, "pulled %s (%s%s): %s%s", name,
		    j->dl_bytes ? util_fmt_bytes(j->dl_bytes, b, sizeof b) :
		    "nothing", j->dl_bytes ? " downloaded" : " to download",
		    j->path, j->up_to_date ? " (already converted)" : "");
		if (!j->load)
			tui_note(t, ROLE_NOTE, "/model %s switches to it",
			    name);
		else if (t->generating) {
			snprintf(t->pending_model, sizeof t->pending_model,
			    "%s", j->path);
			tui_note(t, ROLE_NOTE, "loading it when this reply "
			    "ends");
		} else {
			t->loading = 1;
			t->loaded = 0;
			eng_session_load(t->sess, j->path);
			tui_note(t, ROLE_NOTE, "loading %s", j->path);
			t->dirty[PANEL_TITLE] = 1;
		}
	} else if (ev->rc == ERR_CANCELLED) {
		if (j->phase == PULL_CONVERTING)
			snprintf(j->msg, sizeof j->msg, "cancelled during the "
			    "conversion, nothing written; /pull %s starts it "
			    "again from the cache", j->repo);
		else
			snprintf(j->msg, sizeof j->msg, "cancelled: partial "
			    "downloads are kept; /pull %s resumes", j->repo);
		j->phase = PULL_CANCELLED;
		tui_note(t, ROLE_NOTE, "/pull %s %s", name, j->msg);
	} else {
		j->phase = PULL_FAILED;
		snprintf(j->msg, sizeof j->msg, "%s", ev->msg[0] ? ev->msg :
		    err_name(ev->rc));
		tui_note(t, ROLE_ERROR, "/pull %s failed: %s", name, j->msg);
	}
	/* the thread has posted its last event: it is returning */
	if (j->w != NULL) {
		pthread_join(j->w->th, NULL);
		j->w->end = NULL;	/* ev, freed by the caller */
		worker_free(j->w);
		j->w = NULL;
	}
}

int
tui_pull_drain(struct tui *t)
{
	struct tui_pull_job *j;
	struct pull_ev *l, *ev, *next;
	char buf[256];
	double dt;
	int changed = 0;

	if (t->pulls.q == NULL)
		return 0;
	while (read(t->pulls.wake_fd, buf, sizeof buf) > 0)
		;
	l = q_take(t->pulls.q);
	for (ev = l; ev != NULL; ev = next) {
		next = ev->next;
		changed = 1;
		if ((j = job_by_id(&t->pulls, ev->job)) == NULL) {
			free(ev);
			continue;
		}
		switch (ev->kind) {
		case PEV_NET:
			if (j->phase < PULL_CONVERTING)
				on_net_ev(j, &ev->np);
			break;
		case PEV_CONV_START:
			j->phase = PULL_CONVERTING;
			j->total_done = j->total_size;
			j->conv_t0 = ev->t_ns;
			j->conv_total = ev->total;
			j->conv_done = 0;
			break;
		case PEV_CONV:
			j->phase = PULL_CONVERTING;
			snprintf(j->tensor, sizeof j->tensor, "%s", ev->tensor);
			j->conv_done = ev->done;
			j->conv_total = ev->total;
			dt = j->conv_t0 && ev->t_ns > j->conv_t0 ?
			    (double)(ev->t_ns - j->conv_t0) / 1e9 : 0;
			j->conv_speed = dt > 0 ? (double)ev->done / dt : 0;
			j->conv_eta_s = j->conv_speed > 0 ?
			    (double)(ev->total - ev->done) / j->conv_speed :
			    -1;
			break;
		case PEV_END:
			on_end(t, j, ev);
			break;
		}
		free(ev);
	}
	return changed;
}
