/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pid file probe: a file exists and, optionally, holds the pid of a
 * live process of the service. The directory is watched with inotify (no
 * stat polling); each change of the file's name is looked at again, so
 * atomically renamed pid files and pid files written in pieces both work.
 * Symbolic links are not followed (O_NOFOLLOW) and directories refused. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor-private.h"
#include "probe.h"

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_ATTRIB)
#define PID_FILE_MAX 64

typedef struct PidFileProbe {
        Probe probe;
        char *path;
        char *directory;
        char *base;
        bool check_pid;
        int inotify_fd; /* kept from the first start until done(), see pidfile_cancel() */
        int watch;      /* 0: none */
        sd_event_source *inotify_source;
        sd_event_source *retry; /* only while the directory does not exist */
        unsigned n_retries;
} PidFileProbe;

/* Reads the pid out of CONTENT: digits, then only white space. */
static pid_t parse_pid(const char *content) {
        char *end;
        long v;

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
        /* Without a cgroup: the service's own session (it called setsid()). */
        return getsid(pid) == probe_pid(&f->probe);
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

static int on_inotify(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        PidFileProbe *f = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool ours = false;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;
                        if ((ev->mask & IN_Q_OVERFLOW) ||
                            (ev->len > 0 && strcmp(ev->name, f->base) == 0))
                                ours = true;
                        p += sizeof *ev + ev->len;
                }
        }
        if (ours && !f->probe.passed)
                pidfile_check(f);
        return 0;
}

static int watch_directory(PidFileProbe *f);

static int on_retry(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        PidFileProbe *f = userdata;
        int r = watch_directory(f);

        if (r < 0)
                probe_failed(&f->probe, r, "cannot watch %s: %s", f->directory, strerror(-r));
        return 0;
}

/* Watches the directory, then looks at the file once. A directory that
 * does not exist yet (the service makes it) is looked for again on the
 * retry back-off until it does. */
static int watch_directory(PidFileProbe *f) {
        Probe *p = &f->probe;
        int r;

        f->watch = inotify_add_watch(f->inotify_fd, f->directory, WATCH_MASK | IN_ONLYDIR);
        if (f->watch < 0) {
                r = -errno;
                f->watch = 0;
                if (r != -ENOENT)
                        return r;
                probe_set_status(p, "directory %s does not exist yet", f->directory);
                return probe_arm_timer(p, &f->retry, probe_retry_delay(p, f->n_retries++), on_retry);
        }
        f->retry = sd_event_source_disable_unref(f->retry);
        if (!f->inotify_source) {
                r = probe_add_io(p, &f->inotify_source, f->inotify_fd, EPOLLIN, on_inotify);
                if (r < 0)
                        return r;
        }
        /* The watch is in place: look once for a file written before it. */
        pidfile_check(f);
        return 0;
}

static int pidfile_start(Probe *p) {
        PidFileProbe *f = (PidFileProbe *) p;
        int r;

        f->n_retries = 0;
        if (f->inotify_fd < 0) {
                f->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (f->inotify_fd < 0)
                        return -errno;
        }
        r = watch_directory(f);
        if (r < 0)
                probe_failed(p, r, "cannot watch %s: %s", f->directory, strerror(-r));
        return 0;
}

static void pidfile_cancel(Probe *p) {
        PidFileProbe *f = (PidFileProbe *) p;

        f->inotify_source = sd_event_source_disable_unref(f->inotify_source);
        f->retry = sd_event_source_disable_unref(f->retry);
        /* Only the watch goes here; the fd stays until done(): close() of an
         * inotify fd waits for an SRCU grace period in the kernel (several
         * ms, measured by bench/), which would delay the ready report. */
        if (f->watch > 0)
                (void) inotify_rm_watch(f->inotify_fd, f->watch);
        f->watch = 0;
}

static void pidfile_done(Probe *p) {
        PidFileProbe *f = (PidFileProbe *) p;

        pidfile_cancel(p);
        f->inotify_fd = safe_close(f->inotify_fd);
        free(f->path);
        free(f->directory);
        free(f->base);
}

static const ProbeOps pidfile_ops = {
        .name = "pid file",
        .size = sizeof(PidFileProbe),
        .start = pidfile_start,
        .cancel = pidfile_cancel,
        .done = pidfile_done,
};

int mk_executor_add_pid_file_probe(MkExecutor *e, const char *path, bool check_pid) {
        _cleanup_free_ char *d = NULL, *b = NULL;
        PidFileProbe *f;
        int r;

        if (!e)
                return -EINVAL;
        if (!path || !*path || path[strlen(path) - 1] == '/') {
                executor_set_error(e, "pid file probe: want the path of a file");
                return -EINVAL;
        }
        d = strdup(path);
        b = strdup(path);
        if (!d || !b)
                return -ENOMEM;
        f = (PidFileProbe *) probe_alloc(&pidfile_ops);
        if (!f)
                return -ENOMEM;
        f->inotify_fd = -EBADF;
        f->check_pid = check_pid;
        f->path = strdup(path);
        f->directory = strdup(dirname(d));
        f->base = strdup(basename(b));
        if (!f->path || !f->directory || !f->base) {
                probe_free(&f->probe);
                return -ENOMEM;
        }
        r = executor_add_probe(e, &f->probe);
        if (r < 0)
                probe_free(&f->probe);
        return r;
}
