/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mk_fork_keeper(): a subreaper above the supervisor, so that what the
 * process-group backend cannot attribute (double-forked setsid() daemons,
 * a fork bomb's orphans) still lands with a process of ours when the
 * supervisor dies, SIGKILL included. See docs/containment.md. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containment/cgroup-util.h"
#include "mirakuru.h"
#include "util/macro.h"
#include "util/pidfd-util.h"
#include "util/time-util.h"
#include "containment/proc-children.h"
#include "util/proc-stat.h"

/* How long a sweep may go on, at most (a fork bomb is caught in a few passes). */
#define SWEEP_USEC (10 * UINT64_C(1000000))

static pid_t kept_pid; /* the continuing process, in itself: its atexit() sweep */

/* The parent pid of PID from /proc/PID/stat, or -1. */
static pid_t ppid_of(pid_t pid) {
        ProcStat st;
        return proc_stat_read(pid, &st) < 0 ? -1 : st.ppid;
}

typedef struct PidList {
        pid_t *pids, *parents;
        size_t n, alloc;
} PidList;

static int list_push(PidList *l, pid_t pid, pid_t parent) {
        if (l->n == l->alloc) {
                size_t want = MAX(l->alloc * 2, (size_t) 64);
                pid_t *a = realloc(l->pids, want * sizeof *a), *b;
                if (!a)
                        return -ENOMEM;
                l->pids = a;
                b = realloc(l->parents, want * sizeof *b);
                if (!b)
                        return -ENOMEM;
                l->parents = b;
                l->alloc = want;
        }
        l->pids[l->n] = pid;
        l->parents[l->n++] = parent;
        return 0;
}

/* Appends the children of PID (every thread's) to L. */
static void add_children(PidList *l, pid_t pid) {
        _cleanup_(pid_array_done) PidArray children = {};

        /* Out of memory: what was read still counts (best effort). */
        (void) proc_children_append(pid, &children);
        for (size_t i = 0; i < children.n; i++)
                (void) list_push(l, children.pids[i], pid);
}

/* SIGKILLs PID, found as a child of PARENT, unless it is no longer that:
 * through a pidfd taken first, so a pid reused meanwhile is not hit (its
 * parent would be neither PARENT nor us, where orphans land). */
static void kill_found(pid_t pid, pid_t parent) {
        int pidfd = pidfd_open(pid, 0);
        pid_t ppid = ppid_of(pid);

        if (ppid == parent || ppid == getpid()) {
                if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
                        (void) kill(pid, SIGKILL);
        }
        if (pidfd >= 0)
                close(pidfd);
}

/* Kills every descendant of this process and reaps what comes back to us,
 * pass after pass, until we have no child left (or SWEEP_USEC ran out).
 * Whatever a descendant does, it stays one: orphans reparent to us (a
 * subreaper) or to a subreaper below us, never above. Returns how many
 * were killed. */
static unsigned sweep(void) {
        uint64_t end = now_usec() + SWEEP_USEC;
        unsigned killed = 0;

        for (;;) {
                PidList l = {};
                int status;
                pid_t w;

                add_children(&l, getpid());
                for (size_t i = 0; i < l.n; i++) /* breadth first: l grows as we go */
                        add_children(&l, l.pids[i]);
                for (size_t i = 0; i < l.n; i++)
                        if (l.pids[i] > 0) {
                                kill_found(l.pids[i], l.parents[i]);
                                killed++;
                        }
                size_t found = l.n;
                free(l.pids);
                free(l.parents);
                while ((w = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
                        ;
                if (w < 0 && errno == ECHILD)
                        break;
                if (now_usec() > end)
                        break;
                if (found == 0)
                        (void) usleep(1000); /* zombies on their way to us */
        }
        return killed;
}

static void sweep_at_exit(void) {
        if (kept_pid == getpid())
                (void) sweep();
}

/* Whether services of this process will land on the process-group
 * backend: CONTAINMENT (or $MIRAKURU_CONTAINMENT) says so, or AUTO finds
 * neither a systemd manager nor a writable cgroup v2 directory of ours. */
static bool process_group_expected(MkContainment containment) {
        const char *env = getenv("MIRAKURU_CONTAINMENT");
        _cleanup_free_ char *cg = NULL;
        const char *xdg;
        char path[4200];
        MkContainment c = containment;

        if (c == MK_CONTAINMENT_AUTO && env && mk_containment_from_string(env, &c) < 0)
                c = MK_CONTAINMENT_AUTO;
        if (c != MK_CONTAINMENT_AUTO)
                return c == MK_CONTAINMENT_PROCESS_GROUP;
        if (getenv("MIRAKURU_BUS_ADDRESS"))
                return false;
        if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0)
                return false;
        xdg = getenv("XDG_RUNTIME_DIR");
        if (geteuid() != 0 && xdg) {
                snprintf(path, sizeof path, "%s/systemd/private", xdg);
                if (access(path, F_OK) == 0)
                        return false;
        }
        if (cg_pid_path(0, &cg) >= 0 && faccessat(AT_FDCWD, cg, W_OK, AT_EACCESS) == 0)
                return false;
        return true;
}

static bool forwarded(int sig) {
        switch (sig) {
        case SIGTERM: case SIGINT: case SIGHUP: case SIGQUIT: case SIGUSR1: case SIGUSR2:
        case SIGALRM: case SIGWINCH: case SIGPIPE:
                return true;
        default:
                return false;
        }
}

static _Noreturn void keeper_main(pid_t child) {
        struct signalfd_siginfo si;
        sigset_t all;
        int sfd, status = 0;
        bool done = false;

        (void) prctl(PR_SET_NAME, "mirakuru-keeper", 0, 0, 0);
        (void) close_range(3, ~0U, 0);
        sigfillset(&all);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (sfd < 0) {
                /* Cannot watch: wait for the child plainly, then sweep. */
                while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                        ;
                done = true;
        }
        while (!done) {
                ssize_t n = read(sfd, &si, sizeof si);
                if (n != sizeof si)
                        continue;
                int sig = (int) si.ssi_signo;
                if (sig == SIGCHLD) {
                        pid_t w;
                        int st;
                        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                                if (w == child) {
                                        status = st;
                                        done = true;
                                }
                        continue;
                }
                /* Sent by a process (kill, sigqueue): it was meant for
                 * mirakuru-run, pass it on. The terminal's (SI_KERNEL) went to
                 * the whole foreground process group, the child included. */
                bool from_process = si.ssi_code <= 0;
                if (from_process && (pid_t) si.ssi_pid != child && (forwarded(sig) || sig == SIGTSTP || sig == SIGTTIN ||
                                                                    sig == SIGTTOU || sig == SIGCONT))
                        (void) kill(child, sig);
                if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                        (void) kill(getpid(), SIGSTOP); /* job control sees us stop with it */
                else if (sig == SIGCONT && !from_process)
                        (void) kill(child, SIGCONT);
        }
        (void) sweep();
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);
                sigset_t one;
                /* End as the child did, so the caller's shell sees the same. */
                (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core for a relayed SIGQUIT/SIGSEGV */
                signal(sig, SIG_DFL);
                sigemptyset(&one);
                sigaddset(&one, sig);
                (void) sigprocmask(SIG_UNBLOCK, &one, NULL);
                (void) kill(getpid(), sig);
                _exit(128 + sig);
        }
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int mk_fork_keeper(MkContainment containment) {
        sigset_t all, saved;
        pid_t keeper = getpid(), child;

        if (!process_group_expected(containment))
                return 0;
        if (kept_pid == getpid())
                return -EALREADY;
        /* Under a service manager that expects notifications from its main
         * process, a new main process would be ignored; and its cgroup holds
         * the tree anyway. */
        if (getenv("NOTIFY_SOCKET"))
                return 0;
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return -errno;
        sigfillset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, &saved);
        child = fork();
        if (child < 0) {
                int error = errno;
                (void) prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
                (void) sigprocmask(SIG_SETMASK, &saved, NULL);
                return -error;
        }
        if (child > 0)
                keeper_main(child);

        /* The continuing process. If the keeper is killed, we hear of it
         * (SIGTERM: mirakuru-run stops everything) and sweep at exit. */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        kept_pid = getpid();
        (void) atexit(sweep_at_exit);
        (void) sigprocmask(SIG_SETMASK, &saved, NULL);
        if (getppid() != keeper)
                (void) kill(getpid(), SIGTERM); /* it died before PDEATHSIG was set */
        return 1;
}
