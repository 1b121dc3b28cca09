/*
 * util-file.c - read-only maps, whole-file reads and atomic writes.
 *
 * Outputs are never written in place: util_atomic_open() creates
 * "<path>.tmp.<pid>" next to the target, and util_atomic_commit() flushes,
 * fsyncs and renames it, so a crash or an error leaves the old file (or
 * none) and never half of a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
util_map_open(struct util_map *m, const char *path, struct err *e)
{
	struct stat st;
	void *p;
	int fd;

	m->data = NULL;
	m->size = 0;
	m->fd = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
		    "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_IO, "%s: not a regular file", path);
	}
	if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
		    0);
		if (p == MAP_FAILED) {
			close(fd);
			return err_set(e, ERR_IO, "%s: mmap: %s", path,
			    strerror(errno));
		}
		m->data = p;
		m->size = (size_t)st.st_size;
	}
	m->fd = fd;
	return 0;
}

void
util_map_close(struct util_map *m)
{
	if (m->data != NULL)
		munmap(m->data, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->data = NULL;
	m->size = 0;
	m->fd = -1;
}

int
util_read_file(const char *path, char **out, size_t *len, struct err *e)
{
	FILE *fp;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, r;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (fp == NULL)
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
		    "%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				if (fp != stdin)
					fclose(fp);
				return err_set(e, ERR_NOMEM, "%s: out of memory",
				    path);
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		if (fp != stdin)
			fclose(fp);
		return err_set(e, ERR_IO, "%s: read error", path);
	}
	if (fp != stdin)
		fclose(fp);
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int
util_atomic_open(struct util_atomic *a, const char *path, struct err *e)
{
	size_t n = strlen(path) + 32;
	int fd;

	a->fp = NULL;
	a->path = strdup(path);
	a->tmp = malloc(n);
	if (a->path == NULL || a->tmp == NULL) {
		free(a->path);
		free(a->tmp);
		return err_set(e, ERR_NOMEM, "%s: out of memory", path);
	}
	snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (a->fp = fdopen(fd, "wb")) == NULL) {
		err_set(e, ERR_IO, "%s: cannot create: %s", a->tmp,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		free(a->path);
		free(a->tmp);
		return ERR_IO;
	}
	return 0;
}

int
util_atomic_commit(struct util_atomic *a, struct err *e)
{
	int rc = 0;

	if (fflush(a->fp) != 0 || ferror(a->fp))
		rc = err_set(e, ERR_IO, "%s: write failed: %s", a->tmp,
		    strerror(errno));
	else if (fsync(fileno(a->fp)) != 0 && errno != EINVAL)
		rc = err_set(e, ERR_IO, "%s: fsync failed: %s", a->tmp,
		    strerror(errno));
	if (fclose(a->fp) != 0 && rc == 0)
		rc = err_set(e, ERR_IO, "%s: close failed: %s", a->tmp,
		    strerror(errno));
	a->fp = NULL;
	if (rc == 0 && rename(a->tmp, a->path) != 0)
		rc = err_set(e, ERR_IO, "%s: rename failed: %s", a->path,
		    strerror(errno));
	if (rc != 0)
		unlink(a->tmp);
	free(a->path);
	free(a->tmp);
	a->path = a->tmp = NULL;
	return rc;
}

void
util_atomic_abort(struct util_atomic *a)
{
	if (a->fp != NULL)
		fclose(a->fp);
	if (a->tmp != NULL)
		unlink(a->tmp);
	free(a->path);
	free(a->tmp);
	a->fp = NULL;
	a->path = a->tmp = NULL;
}

int
util_write_file(const char *path, const void *buf, size_t len,
    struct err *e)
{
	struct util_atomic a;
	int rc;

	if ((rc = util_atomic_open(&a, path, e)) != 0)
		return rc;
	if (len > 0 && fwrite(buf, 1, len, a.fp) != len) {
		err_set(e, ERR_IO, "%s: write failed: %s", path,
		    strerror(errno));
		util_atomic_abort(&a);
		return ERR_IO;
	}
	return util_atomic_commit(&a, e);
}
