/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "util/macro.h"

#define GUARD_KILL_PASSES 1000
#define GUARD_EMPTY_WAIT_MS 10000

/* ---- the guard: async-signal-safe calls only (it is forked, never execs) ---- */

static size_t str_len(const char *s) {
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

static char *put_uint(char *p, unsigned long v) {
        char tmp[24];
        int n = 0;
        do
                tmp[n++] = (char) ('0' + v % 10);
        while ((v /= 10));
        while (n)
                *p++ = tmp[--n];
        return p;
}

static ssize_t read_at(int dirfd, const char *file, char *buf, size_t size) {
        int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        ssize_t n = 0, l;

        if (fd < 0)
                return -1;
        while (n < (ssize_t) size - 1 && (l = read(fd, buf + n, size - 1 - (size_t) n)) > 0)
                n += l;
        close(fd);
        buf[n] = '\0';
        return n;
}

static bool write_at(int dirfd, const char *file, const char *value) {
        int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
        bool ok;

        if (fd < 0)
                return false;
        ok = write(fd, value, str_len(value)) == (ssize_t) str_len(value);
        close(fd);
        return ok;
}

static bool populated(int cgfd) {
        char buf[256];
        if (read_at(cgfd, "cgroup.events", buf, sizeof buf) <= 0)
                return false;
        for (char *p = buf; (p = strstr(p, "populated ")); p++)
                if (p == buf || p[-1] == '\n')
                        return p[10] == '1';
        return false;
}

static void kill_cgroup(int cgfd) {
        static char buf[65536];

        if (write_at(cgfd, "cgroup.kill", "1"))
                return;
        /* Before Linux 5.14: freeze, kill each, thaw. */
        (void) write_at(cgfd, "cgroup.freeze", "1");
        for (int pass = 0; pass < GUARD_KILL_PASSES; pass++) {
                ssize_t n = read_at(cgfd, "cgroup.procs", buf, sizeof buf);
                unsigned long v = 0;
                bool any = false, digit = false;

                if (n <= 0)
                        break;
                for (ssize_t i = 0; i <= n; i++) {
                        if (i < n && buf[i] >= '0' && buf[i] <= '9') {
                                v = v * 10 + (unsigned long) (buf[i] - '0');
                                digit = true;
                        } else if (digit) {
                                (void) kill((pid_t) v, SIGKILL);
                                any = true;
                                v = 0;
                                digit = false;
                        }
                }
                if (!any)
                        break;
        }
        (void) write_at(cgfd, "cgroup.freeze", "0");
}

static void wait_empty(int cgfd) {
        char path[64] = "/proc/self/fd/", *p;
        int in;

        p = put_uint(path + str_len(path), (unsigned long) cgfd);
        memcpy(p, "/cgroup.events", sizeof "/cgroup.events");
        in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in < 0 || inotify_add_watch(in, path, IN_MODIFY) < 0)
                return;
        while (populated(cgfd)) {
                struct pollfd pfd = { .fd = in, .events = POLLIN };
                char buf[1024];
                if (poll(&pfd, 1, GUARD_EMPTY_WAIT_MS) == 0)
                        return;
                while (read(in, buf, sizeof buf) > 0)
                        ;
        }
}

static _Noreturn void guard_main(int pidfd, int cgfd, int parentfd, const char *name, pid_t pgid) {
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

        while (poll(&pfd, 1, -1) < 0)
                if (errno != EINTR)
                        _exit(EXIT_FAILURE);

        /* The supervisor is gone. */
        if (cgfd >= 0) {
                kill_cgroup(cgfd);
                wait_empty(cgfd);
                if (parentfd >= 0)
                        (void) unlinkat(parentfd, name, AT_REMOVEDIR);
        } else if (pgid > 1)
                (void) kill(-pgid, SIGKILL);
        _exit(EXIT_SUCCESS);
}

static int move_fd(int fd, int to) {
        if (fd < 0)
                return -1;
        return dup2(fd, to);
}

/* ---- the supervisor's side ---- */

int guard_start(const char *cgroup, bool remove, pid_t pgid, Guard *ret) {
        _cleanup_close_ int pidfd = -EBADF, cgfd = -EBADF, parentfd = -EBADF, devnull = -EBADF;
        _cleanup_free_ char *parent = NULL;
        const char *name = NULL;
        pid_t pid;
        int r;

        pidfd = pidfd_open(getpid(), 0);
        if (pidfd < 0)
                return -errno;
        if (cgroup) {
                cgfd = open(cgroup, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                if (cgfd < 0)
                        return -errno;
                if (remove) {
                        const char *slash = strrchr(cgroup, '/');
                        if (!slash || slash == cgroup)
                                return -EINVAL;
                        parent = strndup(cgroup, (size_t) (slash - cgroup));
                        if (!parent)
                                return -ENOMEM;
                        name = slash + 1;
                        parentfd = open(parent, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
                        if (parentfd < 0)
                                return -errno;
                }
        }
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (devnull < 0)
                return -errno;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* Own session: a Ctrl-C or a kill of the supervisor's process
                 * group must not take the guard along. */
                struct sigaction ignore = { .sa_handler = SIG_IGN };
                sigset_t none;
                (void) setsid();
                (void) sigaction(SIGPIPE, &ignore, NULL);
                (void) sigaction(SIGHUP, &ignore, NULL);
                (void) sigaction(SIGINT, &ignore, NULL);
                (void) sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                /* Hold nothing else of the supervisor's (pipes, gates, sockets). */
                int hi[4] = { fcntl(pidfd, F_DUPFD, 100), cgfd >= 0 ? fcntl(cgfd, F_DUPFD, 100) : -1,
                              parentfd >= 0 ? fcntl(parentfd, F_DUPFD, 100) : -1,
                              fcntl(devnull, F_DUPFD, 100) };
                if (hi[0] < 0 || hi[3] < 0 || dup2(hi[3], 0) < 0 || dup2(hi[3], 1) < 0 ||
                    dup2(hi[3], 2) < 0 || move_fd(hi[0], 3) != 3 ||
                    (hi[1] >= 0 && move_fd(hi[1], 4) != 4) || (hi[2] >= 0 && move_fd(hi[2], 5) != 5))
                        _exit(EXIT_FAILURE);
                if (hi[1] < 0)
                        (void) close(4);
                if (hi[2] < 0)
                        (void) close(5);
                (void) close_range(6, ~0U, 0);
                guard_main(3, hi[1] >= 0 ? 4 : -1, hi[2] >= 0 ? 5 : -1, name, pgid);
        }
        int fd = pidfd_open(pid, 0);
        if (fd < 0) {
                r = -errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        *ret = (Guard) { .pid = pid, .pidfd = fd };
        return 0;
}

void guard_stop(Guard *g) {
        siginfo_t si;

        if (!g || g->pid <= 0)
                return;
        (void) pidfd_send_signal(g->pidfd, SIGKILL, NULL, 0);
        while (waitid(P_PIDFD, (id_t) g->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
        g->pidfd = safe_close(g->pidfd);
        g->pid = 0;
}
