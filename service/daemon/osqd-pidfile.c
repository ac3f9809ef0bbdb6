/* SPDX-License-Identifier: Apache-2.0
 *
 * Pidfile with lock semantics. The lock, not the file's existence, says whether a daemon runs:
 * open (creating), flock(LOCK_EX | LOCK_NB), then check that the path still names the inode we
 * locked (a daemon that was stopping may have unlinked it in between; then start over).
 * Release unlinks the path while still holding the lock, so no second daemon can lock a file
 * that is about to disappear.
 */
#include "config.h"

#include "osqd-pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "osq-error.h"

#define OSQD_PIDFILE_ATTEMPTS 5

struct _OsqdPidfile {
	gchar *path;
	int fd;
};

static void
pidfile_set_errno_error(GError **error, int saved, const gchar *what, const gchar *path)
{
	g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO, "cannot %s pidfile %s: %s", what, path,
	            g_strerror(saved));
}

/* The pid a locked pidfile holds, for the error message; 0 when unreadable. */
static gint64
pidfile_read_pid(int fd)
{
	gchar buf[32] = { 0 };
	ssize_t n;
	gint64 pid = 0;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	if (!g_ascii_string_to_signed(g_strstrip(buf), 10, 1, G_MAXINT32, &pid, NULL))
		return 0;
	return pid;
}

static gboolean
pidfile_write_pid(int fd)
{
	gchar buf[32];
	gint len = g_snprintf(buf, sizeof(buf), "%d\n", (gint)getpid());
	gsize done = 0;

	if (ftruncate(fd, 0) != 0)
		return FALSE;
	while (done < (gsize)len) {
		ssize_t n = pwrite(fd, buf + done, (gsize)len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		done += (gsize)n;
	}
	return TRUE;
}

/* One attempt: TRUE with *fd_out locked, or FALSE with an error, or TRUE with *fd_out = -1 when
 * the file was replaced under us and the caller should try again. */
static gboolean
pidfile_try_lock(const gchar *path, int *fd_out, GError **error)
{
	struct stat st_fd, st_path;
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		pidfile_set_errno_error(error, errno, "create", path);
		return FALSE;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int saved = errno;
		gint64 pid;
		if (saved == EINTR)
			continue;
		if (saved != EWOULDBLOCK) {
			(void)close(fd);
			pidfile_set_errno_error(error, saved, "lock", path);
			return FALSE;
		}
		pid = pidfile_read_pid(fd);
		(void)close(fd);
		if (pid > 0)
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			            "osqd is already running (pid %" G_GINT64_FORMAT
			            ", pidfile %s is locked)",
			            pid, path);
		else
			g_set_error(error, OSQ_ERROR, OSQ_ERROR_FAILED,
			            "osqd is already running (pidfile %s is locked)", path);
		return FALSE;
	}
	if (fstat(fd, &st_fd) != 0 || stat(path, &st_path) != 0 || st_fd.st_ino != st_path.st_ino ||
	    st_fd.st_dev != st_path.st_dev) {
		(void)close(fd); /* replaced or removed meanwhile */
		return TRUE;
	}
	*fd_out = fd;
	return TRUE;
}

OsqdPidfile *
osqd_pidfile_acquire(const gchar *path, GError **error)
{
	g_autoptr(OsqdPidfile) pidfile = NULL;
	int fd = -1;

	for (guint i = 0; i < OSQD_PIDFILE_ATTEMPTS && fd < 0; i++) {
		if (!pidfile_try_lock(path, &fd, error))
			return NULL;
	}
	if (fd < 0) {
		g_set_error(error, OSQ_ERROR, OSQ_ERROR_IO,
		            "cannot lock pidfile %s: it keeps being replaced", path);
		return NULL;
	}
	pidfile = g_new0(OsqdPidfile, 1);
	pidfile->path = g_strdup(path);
	pidfile->fd = fd;
	if (!pidfile_write_pid(fd)) {
		pidfile_set_errno_error(error, errno, "write", path);
		return NULL;
	}
	return g_steal_pointer(&pidfile);
}

void
osqd_pidfile_release(OsqdPidfile *pidfile)
{
	if (pidfile == NULL)
		return;
	if (pidfile->fd >= 0) {
		/* still locked while unlinking: nobody can take over a file that is going away */
		if (unlink(pidfile->path) != 0 && errno != ENOENT)
			g_debug("cannot remove pidfile %s: %s", pidfile->path, g_strerror(errno));
		(void)close(pidfile->fd);
	}
	g_free(pidfile->path);
	g_free(pidfile);
}
