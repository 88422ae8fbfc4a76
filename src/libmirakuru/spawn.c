/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "util/macro.h"
#include "util/strv.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int spawn_resolve(const char *argv0, const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (!argv0 || !*argv0)
                return -EINVAL;

        if (strchr(argv0, '/')) {
                r = strv_push_dup(&l, argv0);
                if (r < 0)
                        return r;
        } else {
                const char *p = path ?: DEFAULT_PATH;
                for (;;) {
                        size_t n = strcspn(p, ":");
                        char *candidate;
                        /* An empty PATH entry means the current directory, as in execvp(). */
                        if (asprintf(&candidate, "%.*s/%s", n > 0 ? (int) n : 1,
                                     n > 0 ? p : ".", argv0) < 0)
                                return -ENOMEM;
                        r = strv_push(&l, candidate);
                        if (r < 0) {
                                free(candidate);
                                return r;
                        }
                        if (!p[n])
                                break;
                        p += n + 1;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- the child: async-signal-safe calls only from here to exec ---- */

static _Noreturn void child_fail(int exec_fd, int error) {
        ssize_t n _unused_ = write(exec_fd, &error, sizeof error);
        _exit(127);
}

static int move_above(int fd, int floor) {
        return fcntl(fd, F_DUPFD_CLOEXEC, floor);
}

/* Closes every fd from FROM up, except A and B. */
static void close_all_from(int from, int a, int b) {
        int lo = MIN(a, b), hi = MAX(a, b);

        if (lo < from || hi < from)
                goto fallback;
        if ((lo > from && close_range(from, lo - 1, 0) < 0) ||
            (hi > lo + 1 && close_range(lo + 1, hi - 1, 0) < 0) ||
            close_range(hi + 1, ~0U, 0) < 0)
                goto fallback;
        return;

fallback:;
        struct rlimit rl;
        int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int) rl.rlim_cur : 65536;
        for (int fd = from; fd < max; fd++)
                if (fd != a && fd != b)
                        close(fd);
}

static void format_pid(char *buf, const char *prefix, pid_t pid) {
        char digits[16];
        int n = 0;
        size_t l = strlen(prefix);

        memcpy(buf, prefix, l);
        do {
                digits[n++] = (char) ('0' + pid % 10);
                pid /= 10;
        } while (pid > 0);
        while (n > 0)
                buf[l++] = digits[--n];
        buf[l] = '\0';
}

static _Noreturn void child_main(const SpawnParams *p, char **envp, size_t listen_pid_slot,
                                 char *listen_pid_buf, int gate_fd, int exec_fd) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;
        char byte;
        ssize_t n;
        int base = 3 + (int) p->n_pass_fds;
        int moved[3 + p->n_pass_fds];
        int sources[3] = { p->stdin_fd, p->stdout_fd, p->stderr_fd };

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);

        if (setsid() < 0)
                child_fail(exec_fd, errno);

        /* Set up the fds before waiting at the gate, so that a child held there
         * does not keep copies of other services' pipes open. Move everything
         * above the target range first, so no dup2() overwrites a source still
         * needed. */
        if (exec_fd < base && (exec_fd = move_above(exec_fd, base)) < 0)
                _exit(127);
        if (gate_fd < base && (gate_fd = move_above(gate_fd, base)) < 0)
                child_fail(exec_fd, errno);
        for (int i = 0; i < base; i++) {
                int src = i < 3 ? sources[i] : p->pass_fds[i - 3];
                if (src < 0) {
                        src = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (src < 0)
                                child_fail(exec_fd, errno);
                }
                moved[i] = move_above(src, base);
                if (moved[i] < 0)
                        child_fail(exec_fd, errno);
        }
        for (int i = 0; i < base; i++)
                if (dup2(moved[i], i) < 0) /* dup2() leaves the new fd inheritable */
                        child_fail(exec_fd, errno);
        close_all_from(base, exec_fd, gate_fd);

        /* The gate: one byte means "go"; EOF means the parent gave up or died,
         * so never exec. */
        do
                n = read(gate_fd, &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(127);
        close(gate_fd);

        if (listen_pid_buf) {
                format_pid(listen_pid_buf, "LISTEN_PID=", getpid());
                envp[listen_pid_slot] = listen_pid_buf;
        }

        if (p->cwd && chdir(p->cwd) < 0)
                child_fail(exec_fd, errno);

        /* execvp()'s search rules: go on after ENOENT, ENOTDIR and EACCES;
         * report EACCES if any candidate had it, else the last error. */
        int error = ENOENT;
        bool saw_eacces = false;
        for (char *const *path = p->exec_paths; *path; path++) {
                execve(*path, p->argv, envp);
                if (errno == EACCES)
                        saw_eacces = true;
                else if (errno != ENOENT && errno != ENOTDIR) {
                        error = errno;
                        break;
                }
        }
        child_fail(exec_fd, saw_eacces && error == ENOENT ? EACCES : error);
}

/* ---- the parent ---- */

/* Older kernels (ENOSYS, E2BIG for the cgroup field) and container seccomp
 * profiles (EPERM) refuse clone3; fork + pidfd_open does the same job. */
static bool clone3_refused(int error) {
        return error == ENOSYS || error == EPERM || error == E2BIG;
}

static bool clone3_disabled(void) {
        const char *e = getenv("MIRAKURU_SPAWN");
        return e && strcmp(e, "fork") == 0;
}

int spawn_start(const SpawnParams *p, SpawnedChild *ret) {
        _cleanup_close_pair_ int gate[2] = { -EBADF, -EBADF }, exec_pipe[2] = { -EBADF, -EBADF };
        _cleanup_free_ char **envp = NULL;
        char listen_pid_buf[32];
        size_t n_env = strv_length(p->envp);
        int pidfd = -EBADF;
        bool in_cgroup = false, used_clone3 = false;
        pid_t pid = -1;

        if (!p->argv || !p->argv[0] || !p->exec_paths || !p->exec_paths[0])
                return -EINVAL;

        /* The child may add one entry; prepare the array (and its buffer) now. */
        envp = calloc(n_env + 2, sizeof(char *));
        if (!envp)
                return -ENOMEM;
        if (n_env > 0)
                memcpy(envp, p->envp, n_env * sizeof(char *));

        if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(exec_pipe, O_CLOEXEC) < 0)
                return -errno;

        if (!clone3_disabled()) {
                struct clone_args args = {
                        .flags = CLONE_PIDFD | (p->cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                        .pidfd = (uint64_t) (uintptr_t) &pidfd,
                        .exit_signal = SIGCHLD,
                        .cgroup = p->cgroup_fd >= 0 ? (uint64_t) p->cgroup_fd : 0,
                };
                pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
                if (pid == 0)
                        child_main(p, envp, n_env, p->set_listen_pid ? listen_pid_buf : NULL,
                                   gate[0], exec_pipe[1]);
                if (pid > 0) {
                        used_clone3 = true;
                        in_cgroup = p->cgroup_fd >= 0;
                } else if (!clone3_refused(errno))
                        return -errno;
        }

        if (pid < 0) {
                pid = fork();
                if (pid < 0)
                        return -errno;
                if (pid == 0)
                        child_main(p, envp, n_env, p->set_listen_pid ? listen_pid_buf : NULL,
                                   gate[0], exec_pipe[1]);
                pidfd = pidfd_open(pid, 0);
                if (pidfd < 0) {
                        int r = -errno;
                        (void) kill(pid, SIGKILL); /* still held at the gate: it never ran the program */
                        (void) waitpid(pid, NULL, 0);
                        return r;
                }
        }

        *ret = (SpawnedChild) {
                .pid = pid,
                .pidfd = pidfd,
                .gate_fd = TAKE_FD(gate[1]),
                .exec_fd = TAKE_FD(exec_pipe[0]),
                .in_cgroup = in_cgroup,
                .used_clone3 = used_clone3,
        };
        return 0;
}

void spawn_release(SpawnedChild *child) {
        static const char go = 'g';
        if (child->gate_fd < 0)
                return;
        ssize_t n _unused_ = write(child->gate_fd, &go, 1);
        child->gate_fd = safe_close(child->gate_fd);
}

int spawn_read_exec_result(int exec_fd) {
        int error;
        ssize_t n;

        do
                n = read(exec_fd, &error, sizeof error);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return 1;
        if (n != sizeof error || error <= 0)
                return -EIO;
        return -error;
}

void spawned_child_done(SpawnedChild *child) {
        child->gate_fd = safe_close(child->gate_fd);
        child->exec_fd = safe_close(child->exec_fd);
        child->pidfd = safe_close(child->pidfd);
}
