/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The notify probes.
 *
 * sd_notify: a private datagram socket per start, bound by the kernel to a
 * fresh abstract name (autobind), given to the service as
 * NOTIFY_SOCKET=@name. Datagrams carry SCM_CREDENTIALS; we accept only
 * senders that belong to the service: in its cgroup (or below), or, without
 * a cgroup, in its session or process group. Others are ignored and counted
 * (and named in the timeout message). A sender that exited and was reaped
 * before we read its datagram cannot be checked and is ignored too.
 * READY=1 passes; STATUS=, ERRNO=, EXIT_STATUS= and MAINPID= are kept;
 * EXTEND_TIMEOUT_USEC= moves the start deadline. After READY=1 the socket
 * is closed: later messages are not read.
 *
 * s6 (notification-fd): the write end of a pipe becomes fd N in the
 * service; a newline written to it passes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "executor-private.h"
#include "notify-parse.h"
#include "probe.h"

/* sd_notify messages are small; systemd reads at most this much too. */
#define NOTIFY_DATAGRAM_MAX 4096

typedef struct NotifyProbe {
        Probe probe;
        int fd;
        sd_event_source *source;
        char *cgroup_rel;     /* the service's cgroup as /proc/<pid>/cgroup shows it */
        char *status;         /* last STATUS= */
        pid_t main_pid;       /* MAINPID= */
        int errno_value;      /* ERRNO=, 0 if none */
        int exit_status;      /* EXIT_STATUS=, -1 if none */
        unsigned rejected;    /* datagrams from processes outside the service */
        pid_t last_rejected;
        unsigned malformed;   /* oversized, NULs, no credentials */
} NotifyProbe;

static const ProbeOps notify_ops;

/* ---- who may talk ---- */

/* The cgroup2 mount point that holds PATH; the rest of PATH is what
 * /proc/<pid>/cgroup shows for processes in it. */
static int cgroup_relative(const char *path, char **ret) {
        size_t best = 0;
        FILE *f = fopen("/proc/self/mounts", "re");

        if (!f)
                return -errno;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        while (getline(&line, &size, f) > 0) {
                char dir[4096], type[64];
                size_t n;
                if (sscanf(line, "%*s %4095s %63s", dir, type) != 2 || strcmp(type, "cgroup2") != 0)
                        continue;
                n = strlen(dir);
                if (n == 1) /* "/" */
                        n = 0;
                if (strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0') && n >= best)
                        best = n + 1;
        }
        fclose(f);
        if (best == 0)
                return -ENOENT;
        *ret = strdup(path[best - 1] ? path + best - 1 : "/");
        return *ret ? 0 : -ENOMEM;
}

/* True if PID's cgroup (v2 line "0::/x/y") is REL or below it. */
static bool pid_in_cgroup(pid_t pid, const char *rel) {
        _cleanup_free_ char *line = NULL;
        char path[64];
        size_t size = 0, n = strlen(rel);
        bool found = false;
        FILE *f;

        (void) snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (getline(&line, &size, f) > 0) {
                const char *c;
                if (strncmp(line, "0::", 3) != 0)
                        continue;
                c = line + 3;
                line[3 + strcspn(c, "\n")] = '\0';
                if (strcmp(rel, "/") == 0)
                        found = true;
                else
                        found = strncmp(c, rel, n) == 0 && (c[n] == '\0' || c[n] == '/');
                break;
        }
        fclose(f);
        return found;
}

static bool sender_is_service(NotifyProbe *n, pid_t pid) {
        pid_t main = probe_pid(&n->probe);

        if (pid <= 0)
                return false;
        if (pid == main)
                return true;
        if (n->cgroup_rel)
                return pid_in_cgroup(pid, n->cgroup_rel);
        /* The process-group backend: the service is its own session leader. */
        return getsid(pid) == main || getpgid(pid) == main;
}

/* ---- messages ---- */

static void notify_update_status(NotifyProbe *n) {
        _cleanup_free_ char *err = NULL, *exit_s = NULL, *extra = NULL;

        /* A failed asprintf_safe() leaves NULL: that part is left out. */
        if (n->errno_value > 0)
                (void) asprintf_safe(&err, "; ERRNO=%d (%s)", n->errno_value, strerror(n->errno_value));
        if (n->exit_status >= 0)
                (void) asprintf_safe(&exit_s, "; EXIT_STATUS=%d", n->exit_status);
        if (n->rejected > 0)
                (void) asprintf_safe(&extra, "; ignored %u datagram%s from processes outside the service (last: pid %d)",
                                     n->rejected, n->rejected == 1 ? "" : "s", (int) n->last_rejected);
        probe_set_status(&n->probe, "%s%s%s%s%s", n->status ? "STATUS=" : "no READY=1 yet",
                         n->status ?: "", err ?: "", exit_s ?: "", extra ?: "");
}

static bool notify_handle(NotifyProbe *n, const char *buf, size_t len) {
        NotifyMessage m;
        int r;

        r = notify_parse(buf, len, &m);
        if (r < 0) {
                n->malformed++;
                return false;
        }
        if (m.status) {
                free(n->status);
                n->status = strndup(m.status, m.status_len);
        }
        if (m.main_pid > 0) {
                n->main_pid = m.main_pid;
                probe_main_pid(&n->probe, m.main_pid);
        }
        if (m.errno_value > 0)
                n->errno_value = m.errno_value;
        if (m.exit_status >= 0)
                n->exit_status = m.exit_status;
        if (m.extend_timeout_usec > 0)
                probe_extend_deadline(&n->probe, m.extend_timeout_usec);
        notify_update_status(n);
        unsigned flags = (m.ready ? MK_NOTIFY_READY : 0) | (m.stopping ? MK_NOTIFY_STOPPING : 0) |
                         (m.reloading ? MK_NOTIFY_RELOADING : 0) | (m.watchdog ? MK_NOTIFY_WATCHDOG : 0) |
                         (m.main_pid > 0 ? MK_NOTIFY_MAINPID : 0);
        _cleanup_free_ char *status = m.status ? strndup(m.status, m.status_len) : NULL;
        probe_notify(&n->probe, status, flags);
        return m.ready;
}

static int notify_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NotifyProbe *n = userdata;
        bool ready = false;

        for (;;) {
                char buf[NOTIFY_DATAGRAM_MAX + 1];
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                const struct ucred *cred = NULL;
                ssize_t k;

                k = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break; /* EAGAIN: all read */
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET)
                                continue;
                        if (c->cmsg_type == SCM_CREDENTIALS &&
                            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                                cred = (const struct ucred *) CMSG_DATA(c);
                        else if (c->cmsg_type == SCM_RIGHTS) {
                                /* We store no fds (FDSTORE=1 is not ours to honour). */
                                size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                int fds[16];
                                memcpy(fds, CMSG_DATA(c), MIN(nfd, ELEMENTSOF(fds)) * sizeof(int));
                                for (size_t i = 0; i < MIN(nfd, ELEMENTSOF(fds)); i++)
                                        safe_close(fds[i]);
                        }
                }
                if ((size_t) k >= sizeof buf || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !cred) {
                        n->malformed++;
                        continue;
                }
                if (!sender_is_service(n, cred->pid)) {
                        n->rejected++;
                        n->last_rejected = cred->pid;
                        notify_update_status(n);
                        continue;
                }
                if (notify_handle(n, buf, (size_t) k))
                        ready = true;
        }
        if (ready)
                probe_passed(&n->probe); /* the socket stays open (keep_listening) */
        return 0;
}

/* ---- the probe ---- */

static void notify_close(NotifyProbe *n) {
        n->source = sd_event_source_disable_unref(n->source);
        n->fd = safe_close(n->fd);
}

static int notify_prepare(Probe *p) {
        NotifyProbe *n = (NotifyProbe *) p;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len = sizeof(sa_family_t);
        char name[sizeof sa.sun_path + 1];
        _cleanup_close_ int fd = -EBADF;

        notify_close(n);
        free(n->status);
        n->status = NULL;
        n->main_pid = 0;
        n->errno_value = 0;
        n->exit_status = -1;
        n->rejected = n->malformed = 0;
        n->last_rejected = 0;

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* Autobind: the kernel picks an unused abstract name. */
        if (bind(fd, (const struct sockaddr *) &sa, len) < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int) { 1 }, sizeof(int)) < 0)
                return -errno;
        len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        if (len <= offsetof(struct sockaddr_un, sun_path) + 1 || sa.sun_path[0] != '\0')
                return -EPROTO;
        /* "@name": sd_notify's spelling of the abstract namespace. */
        name[0] = '@';
        memcpy(name + 1, sa.sun_path + 1, len - offsetof(struct sockaddr_un, sun_path) - 1);
        name[len - offsetof(struct sockaddr_un, sun_path)] = '\0';
        n->fd = TAKE_FD(fd);
        return probe_child_env(p, "NOTIFY_SOCKET", name);
}

static int notify_start(Probe *p) {
        NotifyProbe *n = (NotifyProbe *) p;
        const char *cgroup = probe_cgroup(p);
        int r;

        free(n->cgroup_rel);
        n->cgroup_rel = NULL;
        if (cgroup) {
                r = cgroup_relative(cgroup, &n->cgroup_rel);
                if (r < 0)
                        return r;
        }
        notify_update_status(n);
        if (n->fd < 0)
                return -EBADF;
        return probe_add_io(p, &n->source, n->fd, EPOLLIN, notify_on_io);
}

static void notify_cancel(Probe *p) {
        notify_close((NotifyProbe *) p);
}

static void notify_done(Probe *p) {
        NotifyProbe *n = (NotifyProbe *) p;

        notify_close(n);
        free(n->cgroup_rel);
        free(n->status);
}

static const ProbeOps notify_ops = {
        .name = "notify",
        .size = sizeof(NotifyProbe),
        .keep_listening = true,
        .prepare = notify_prepare,
        .start = notify_start,
        .cancel = notify_cancel,
        .done = notify_done,
};

int mk_executor_add_notify_probe(MkExecutor *e) {
        NotifyProbe *n;
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (executor_find_probe(e, &notify_ops, 0)) {
                executor_set_error(e, "notify probe: there can be only one NOTIFY_SOCKET");
                return -EEXIST;
        }
        n = (NotifyProbe *) probe_alloc(&notify_ops);
        if (!n)
                return -ENOMEM;
        n->fd = -EBADF;
        n->exit_status = -1;
        r = executor_add_probe(e, &n->probe);
        if (r < 0)
                probe_free(&n->probe);
        return r;
}

const char *mk_executor_get_notify_status(MkExecutor *e) {
        NotifyProbe *n = (NotifyProbe *) executor_find_probe(e, &notify_ops, 0);
        return n ? n->status : NULL;
}

pid_t mk_executor_get_notify_main_pid(MkExecutor *e) {
        NotifyProbe *n = (NotifyProbe *) executor_find_probe(e, &notify_ops, 0);
        return n ? n->main_pid : 0;
}

/* ---- s6: a newline on an fd ---- */

typedef struct NotifyFdProbe {
        Probe probe;
        int number;     /* the fd number in the service */
        int read_fd;
        int write_fd;   /* ours until the service has its copy */
        sd_event_source *source;
} NotifyFdProbe;

static void notify_fd_close(NotifyFdProbe *n) {
        n->source = sd_event_source_disable_unref(n->source);
        n->read_fd = safe_close(n->read_fd);
        n->write_fd = safe_close(n->write_fd);
}

static int notify_fd_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NotifyFdProbe *n = userdata;
        char buf[256];

        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        probe_failed(&n->probe, -errno, "reading fd %d: %m", n->number);
                        return 0;
                }
                if (k == 0) {
                        probe_failed(&n->probe, -EPIPE,
                                     "every copy of fd %d was closed without a newline written to it",
                                     n->number);
                        return 0;
                }
                if (memchr(buf, '\n', (size_t) k)) {
                        probe_set_status(&n->probe, "newline on fd %d", n->number);
                        probe_passed(&n->probe);
                        return 0;
                }
                probe_set_status(&n->probe, "data but no newline on fd %d yet", n->number);
        }
}

static int notify_fd_prepare(Probe *p) {
        NotifyFdProbe *n = (NotifyFdProbe *) p;
        int fds[2], r;

        notify_fd_close(n);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        n->read_fd = fds[0];
        n->write_fd = fds[1];
        if (fcntl(n->read_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        r = probe_child_fd_at(p, n->write_fd, n->number);
        if (r == -EBUSY)
                probe_set_status(p, "fd %d is wanted by another probe", n->number);
        return r < 0 ? r : 0;
}

static int notify_fd_start(Probe *p) {
        NotifyFdProbe *n = (NotifyFdProbe *) p;

        /* The service has its copy; ours would hide the EOF. */
        n->write_fd = safe_close(n->write_fd);
        if (n->read_fd < 0)
                return -EBADF;
        probe_set_status(p, "no newline on fd %d yet", n->number);
        return probe_add_io(p, &n->source, n->read_fd, EPOLLIN, notify_fd_on_io);
}

static void notify_fd_cancel(Probe *p) {
        notify_fd_close((NotifyFdProbe *) p);
}

static const ProbeOps notify_fd_ops = {
        .name = "notify-fd",
        .size = sizeof(NotifyFdProbe),
        .prepare = notify_fd_prepare,
        .start = notify_fd_start,
        .cancel = notify_fd_cancel,
        .done = notify_fd_cancel,
};

int mk_executor_add_notify_fd_probe(MkExecutor *e, int fd_number) {
        NotifyFdProbe *n;
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (fd_number < 3 || fd_number >= PROBE_CHILD_FD_MAX) {
                executor_set_error(e, "notify-fd probe: fd number %d out of range (3-%d)", fd_number,
                                   PROBE_CHILD_FD_MAX - 1);
                return -EINVAL;
        }
        n = (NotifyFdProbe *) probe_alloc(&notify_fd_ops);
        if (!n)
                return -ENOMEM;
        n->number = fd_number;
        n->read_fd = n->write_fd = -EBADF;
        r = executor_add_probe(e, &n->probe);
        if (r < 0)
                probe_free(&n->probe);
        return r;
}
