/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pid file probe: a file exists and, optionally, holds the pid of a
 * live process of the service. The directory is watched with inotify (no
 * stat polling); each change of the file's name is looked at again, so
 * atomically renamed pid files and pid files written in pieces both work.
 * Symbolic links are not followed (O_NOFOLLOW) and directories refused. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir-watch.h"
#include "executor-private.h"
#include "probe.h"

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_ATTRIB)
#define PID_FILE_MAX 4096

static const ProbeOps pidfile_ops;

typedef struct PidFileProbe {
        Probe probe;
        char *path;
        bool check_pid;
        DirWatch dir;
        sd_event_source *retry; /* only while the directory does not exist */
        unsigned n_retries;
} PidFileProbe;

/* Reads the pid out of CONTENT's first line (as systemd's PIDFile= does;
 * postgres's postmaster.pid has more lines): digits, then only white space. */
static pid_t parse_pid(char *content) {
        char *end;
        long v;

        content[strcspn(content, "\n")] = '\0';

        content += strspn(content, " \t");
        if (*content < '0' || *content > '9')
                return 0;
        errno = 0;
        v = strtol(content, &end, 10);
        if (errno != 0 || v <= 0 || v > INT32_MAX || end[strspn(end, " \t\r\n")] != '\0')
                return 0;
        return (pid_t) v;
}

/* Is CGROUP (an absolute path in our mount namespace) the cgroup of PID, or
 * an ancestor of it? /proc/PID/cgroup holds the path below the mount point
 * ("0::/a/b"), so a prefix of that path must end CGROUP. */
static bool pid_in_cgroup(pid_t pid, const char *cgroup) {
        char path[64], line[4096];
        FILE *f;
        bool found = false;

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (!found && fgets(line, sizeof line, f)) {
                size_t n, cl = strlen(cgroup);
                if (strncmp(line, "0::", 3) != 0)
                        continue;
                char *rel = line + 3;
                rel[strcspn(rel, "\n")] = '\0';
                n = strlen(rel);
                /* Each prefix of rel at a '/' boundary (and rel itself). */
                for (size_t k = n; k > 1 && !found; k--) {
                        if (k < n && rel[k] != '/')
                                continue;
                        /* rel starts with '/', so a match is at a boundary of CGROUP. */
                        found = rel[0] == '/' && k <= cl && strncmp(cgroup + cl - k, rel, k) == 0;
                }
        }
        fclose(f);
        return found;
}

/* Is PID alive and one of the service's processes? */
static bool pid_of_service(PidFileProbe *f, pid_t pid) {
        const char *cgroup = probe_cgroup(&f->probe);

        if (kill(pid, 0) < 0 && errno == ESRCH)
                return false;
        if (cgroup)
                return pid_in_cgroup(pid, cgroup);
        /* Without a cgroup: the service's own session (it called setsid()),
         * or a daemon that left it, taken in by the process-group backend
         * when it came from the service's tree (pgroup.c). */
        return getsid(pid) == probe_pid(&f->probe) || probe_adopt(&f->probe, pid) > 0;
}

/* Looks at the file once: passes, or says in the status why not yet. */
static void pidfile_check(PidFileProbe *f) {
        _cleanup_close_ int fd = -EBADF;
        char buf[PID_FILE_MAX + 1];
        struct stat st;
        ssize_t n;
        pid_t pid;

        fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        probe_set_status(&f->probe, "%s does not exist yet", f->path);
                else if (errno == ELOOP)
                        probe_set_status(&f->probe, "%s is a symbolic link; not followed", f->path);
                else
                        probe_set_status(&f->probe, "cannot open %s: %s", f->path, strerror(errno));
                return;
        }
        if (fstat(fd, &st) < 0) {
                probe_set_status(&f->probe, "cannot stat %s: %s", f->path, strerror(errno));
                return;
        }
        if (S_ISDIR(st.st_mode)) {
                probe_set_status(&f->probe, "%s is a directory, not a pid file", f->path);
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                probe_set_status(&f->probe, "%s is not a regular file", f->path);
                return;
        }
        if (!f->check_pid) {
                probe_set_status(&f->probe, "%s exists", f->path);
                probe_passed(&f->probe);
                return;
        }
        n = pread(fd, buf, PID_FILE_MAX, 0);
        if (n < 0) {
                probe_set_status(&f->probe, "cannot read %s: %s", f->path, strerror(errno));
                return;
        }
        buf[n] = '\0';
        pid = n < PID_FILE_MAX && memchr(buf, '\0', (size_t) n) == NULL ? parse_pid(buf) : 0;
        if (pid == 0) {
                /* Empty or half written: the next write brings us back. */
                probe_set_status(&f->probe, "%s holds no pid (yet)", f->path);
                return;
        }
        if (!pid_of_service(f, pid)) {
                probe_set_status(&f->probe, "%s holds pid %d, which is not a live process of the service",
                                 f->path, (int) pid);
                return;
        }
        probe_set_status(&f->probe, "%s holds pid %d", f->path, (int) pid);
        probe_passed(&f->probe);
}

bool executor_has_pid_file(MkExecutor *e) {
        PidFileProbe *f = (PidFileProbe *) executor_find_probe(e, &pidfile_ops, 0);
        return f && f->check_pid;
}

pid_t executor_pid_file_pid(MkExecutor *e) {
        PidFileProbe *f = (PidFileProbe *) executor_find_probe(e, &pidfile_ops, 0);
        _cleanup_close_ int fd = -EBADF;
        char buf[PID_FILE_MAX + 1];
        ssize_t n;
        pid_t pid;

        if (!f)
                return 0;
        fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return 0;
        n = pread(fd, buf, PID_FILE_MAX, 0);
        if (n <= 0 || memchr(buf, '\0', (size_t) n))
                return 0;
        buf[n] = '\0';
        pid = parse_pid(buf);
        return pid > 0 && pid_of_service(f, pid) ? pid : 0;
}

static int on_inotify(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        PidFileProbe *f = userdata;

        if (dir_watch_read(&f->dir) && !f->probe.passed)
                pidfile_check(f);
        return 0;
}

static int watch_directory(PidFileProbe *f);

static int on_retry(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        PidFileProbe *f = userdata;
        int r = watch_directory(f);

        if (r < 0)
                probe_failed(&f->probe, r, "cannot watch %s: %s", f->dir.directory, strerror(-r));
        return 0;
}

/* Watches the directory, then looks at the file once. A directory that
 * does not exist yet (the service makes it) is looked for again on the
 * retry back-off until it does. */
static int watch_directory(PidFileProbe *f) {
        Probe *p = &f->probe;
        int r;

        r = dir_watch_add(&f->dir, WATCH_MASK);
        if (r == -ENOENT) {
                probe_set_status(p, "directory %s does not exist yet", f->dir.directory);
                return probe_arm_timer(p, &f->retry, probe_retry_delay(p, f->n_retries++), on_retry);
        }
        if (r < 0)
                return r;
        f->retry = sd_event_source_disable_unref(f->retry);
        r = dir_watch_attach(&f->dir, p, on_inotify);
        if (r < 0)
                return r;
        /* The watch is in place: look once for a file written before it. */
        pidfile_check(f);
        return 0;
}

static int pidfile_start(Probe *p) {
        PidFileProbe *f = (PidFileProbe *) p;
        int r;

        f->n_retries = 0;
        r = dir_watch_open(&f->dir);
        if (r < 0)
                return r;
        r = watch_directory(f);
        if (r < 0)
                probe_failed(p, r, "cannot watch %s: %s", f->dir.directory, strerror(-r));
        return 0;
}

static void pidfile_cancel(Probe *p) {
        PidFileProbe *f = (PidFileProbe *) p;

        dir_watch_stop(&f->dir); /* keeps the inotify fd: see there */
        f->retry = sd_event_source_disable_unref(f->retry);
}

static void pidfile_done(Probe *p) {
        PidFileProbe *f = (PidFileProbe *) p;

        pidfile_cancel(p);
        dir_watch_done(&f->dir);
        free(f->path);
}

static const ProbeOps pidfile_ops = {
        .name = "pid file",
        .size = sizeof(PidFileProbe),
        .start = pidfile_start,
        .cancel = pidfile_cancel,
        .done = pidfile_done,
};

int mk_executor_add_pid_file_probe(MkExecutor *e, const char *path, bool check_pid) {
        PidFileProbe *f;
        int r;

        if (!e)
                return -EINVAL;
        if (!path || !*path || path[strlen(path) - 1] == '/') {
                executor_set_error(e, "pid file probe: want the path of a file");
                return -EINVAL;
        }
        f = (PidFileProbe *) probe_alloc(&pidfile_ops);
        if (!f)
                return -ENOMEM;
        f->check_pid = check_pid;
        f->path = strdup(path);
        if (dir_watch_init(&f->dir, path) < 0 || !f->path) {
                probe_free(&f->probe);
                return -ENOMEM;
        }
        r = executor_add_probe(e, &f->probe);
        if (r < 0)
                probe_free(&f->probe);
        return r;
}
