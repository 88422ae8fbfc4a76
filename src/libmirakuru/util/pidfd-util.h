/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Children with a pidfd where pidfd_open(2) and pidfd_send_signal(2) are
 * missing: Linux 5.2 (CLONE_PIDFD, but pidfd_open came in 5.3), seccomp
 * profiles that refuse the newer calls, and valgrind up to 3.19, which
 * answers ENOSYS to pidfd_open, pidfd_send_signal and clone3 but passes a
 * fork-like clone(CLONE_PIDFD) through. Header-only: the CLI uses it too. */
#pragma once

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* fork(), returning a pidfd of the child in *RET_PIDFD (parent only).
 * Through the raw clone system call: no atfork handlers run, so the child
 * may make only async-signal-safe calls before it execs or _exits. Returns
 * the pid in the parent, 0 in the child, -1 with errno on failure. */
static inline pid_t fork_with_pidfd(int *ret_pidfd) {
        int pidfd = -1;
        pid_t pid;

#if defined(__s390__) || defined(__CRIS__)
        /* CLONE_BACKWARDS2: the stack comes first. */
        pid = (pid_t) syscall(SYS_clone, 0, CLONE_PIDFD | SIGCHLD, &pidfd, NULL, 0);
#else
        /* Everywhere else the third argument is the parent's tid pointer,
         * which CLONE_PIDFD uses for the pidfd. */
        pid = (pid_t) syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, NULL, 0);
#endif
        if (pid > 0)
                *ret_pidfd = pidfd;
        return pid;
}

/* pidfd_send_signal(), or kill(PID) where the kernel lacks it (ENOSYS) or
 * there is no pidfd (PIDFD < 0). That is as safe only while PID is the
 * caller's own child and not yet reaped: its pid cannot be reused before. */
static inline int pidfd_signal_child(int pidfd, pid_t pid, int signo) {
        if (pidfd >= 0) {
                if (syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0) >= 0)
                        return 0;
                if (errno != ENOSYS)
                        return -errno;
        }
        if (pid <= 0)
                return -ESRCH;
        return kill(pid, signo) < 0 ? -errno : 0;
}
