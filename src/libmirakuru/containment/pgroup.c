/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last-resort backend: the service's own session and process group,
 * with this process as child subreaper so orphaned descendants reparent to
 * us instead of init.
 *
 * A process belongs to the service when it is in the service's process
 * group or session (the main process calls setsid() at the start gate, so
 * both ids are the main pid), or when its parent belongs (found from the
 * ppid field of /proc/PID/stat, which covers /proc/PID/task/x/children of
 * every member). Teardown signals the group, then every member found,
 * rescanning until none is left; orphans that reparented to us are reaped.
 *
 * What it cannot promise (see docs/containment.md): a process that leaves
 * the session (setsid()) *and* whose parent has already exited cannot be
 * attributed: the classic double-forked daemon escapes. The kernel does
 * not tell us when a process group becomes empty, so emptiness is
 * re-checked on a short backing-off timer. If the supervisor dies, its
 * guard kills the process group only. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-util.h"
#include "containment.h"
#include "guard.h"

#define RECHECK_FIRST_USEC 1000
#define RECHECK_MAX_USEC (50 * 1000)
#define KILL_PASSES_MAX 1000
/* A catchable stop signal need not chase a fork loop: the kill signal follows. */
#define SIGNAL_PASSES_CATCHABLE 8

typedef struct ProcessGroup {
        Containment c;
        sd_event_source *recheck;
        uint64_t recheck_usec;
        Guard guard;
        bool main_reaped; /* from now on the main pid may be reused: only group and session count */
} ProcessGroup;

typedef struct ProcInfo {
        pid_t pid, ppid, pgrp, session;
        bool zombie;
        bool member;
} ProcInfo;

static int read_proc_info(pid_t pid, ProcInfo *ret) {
        char path[64], buf[1024];
        int fd, ppid, pgrp, session;
        char state;
        ssize_t l;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        l = read(fd, buf, sizeof buf - 1);
        safe_close(fd);
        if (l <= 0)
                return -ESRCH;
        buf[l] = '\0';
        const char *p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%c %d %d %d", &state, &ppid, &pgrp, &session) != 4)
                return -EBADMSG;
        *ret = (ProcInfo) { .pid = pid, .ppid = ppid, .pgrp = pgrp, .session = session,
                            .zombie = state == 'Z' || state == 'X' };
        return 0;
}

/* Every process on the system, with members of the service marked. */
static int scan_members(pid_t main_pid, bool main_reaped, ProcInfo **ret, size_t *ret_n) {
        _cleanup_free_ ProcInfo *all = NULL;
        size_t n = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t self = getpid();
        bool changed;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                ProcInfo info = {};
                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                if (read_proc_info((pid_t) atoi(de->d_name), &info) < 0 || info.pid == self)
                        continue;
                ProcInfo *a = realloc(all, (n + 1) * sizeof *a);
                if (!a) {
                        closedir(d);
                        return -ENOMEM;
                }
                all = a;
                info.member = (info.pid == main_pid && !main_reaped) || info.pgrp == main_pid || info.session == main_pid;
                all[n++] = info;
        }
        closedir(d);
        do {
                changed = false;
                for (size_t i = 0; i < n; i++) {
                        if (all[i].member)
                                continue;
                        for (size_t j = 0; j < n; j++)
                                if (all[j].member && all[j].pid == all[i].ppid) {
                                        all[i].member = changed = true;
                                        break;
                                }
                }
        } while (changed);
        *ret = TAKE_PTR(all);
        *ret_n = n;
        return 0;
}

static bool pid_in(const pid_t *a, size_t n, pid_t p) {
        for (size_t i = 0; i < n; i++)
                if (a[i] == p)
                        return true;
        return false;
}

/* Signals the members not in *SEEN yet (SIGNO 0: none) and adds them there;
 * reaps member zombies that reparented to us (never the main process: the
 * executor reaps it through its pidfd). Returns the number of live members
 * found (with SIGNO: newly signalled). */
static int pass(Containment *c, int signo, pid_t **seen, size_t *n_seen, char **leftovers) {
        _cleanup_free_ ProcInfo *all = NULL;
        size_t n = 0;
        int alive = 0, r;

        r = scan_members(c->pid, ((ProcessGroup *) c)->main_reaped, &all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                ProcInfo *p = &all[i];
                if (!p->member)
                        continue;
                if (p->zombie) {
                        if (p->ppid == getpid() && p->pid != c->pid)
                                (void) waitid(P_PID, (id_t) p->pid, &(siginfo_t) {}, WEXITED | WNOHANG);
                        continue;
                }
                if (signo <= 0) {
                        alive++;
                        continue;
                }
                if (pid_in(*seen, *n_seen, p->pid))
                        continue;
                pid_t *a = realloc(*seen, (*n_seen + 1) * sizeof(pid_t));
                if (!a)
                        return -ENOMEM;
                *seen = a;
                a[(*n_seen)++] = p->pid;
                alive++;
                {
                        bool refused = kill(p->pid, signo) < 0 && errno == EPERM;
                        if (leftovers)
                                (void) leftovers_add_note(leftovers, p->pid,
                                                          refused ? "may not be signalled: EPERM, it survives" : NULL);
                }
        }
        return alive;
}

static int pgroup_setup(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;

        g->guard = (Guard) {};
        /* Orphans of the service reparent to us, so we can find and reap them. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                containment_set_reason(c, "process group of the service's own session (not a subreaper: %m)");
        else
                containment_set_reason(c, "process group of the service's own session, this process as subreaper");
        return 0;
}

static int pgroup_place(Containment *c, pid_t pid, int pidfd, bool in_cgroup _unused_) {
        ProcessGroup *g = (ProcessGroup *) c;

        /* The child calls setsid() itself at the gate; the guard kills that
         * process group if we die (best effort: this backend is the last
         * resort, and works without one). */
        if (guard_add_process_group(pid, pidfd, &g->guard) < 0)
                g->guard = (Guard) {};
        containment_placed(c, 0);
        return 0;
}

static int pgroup_signal(Containment *c, int signo) {
        if (c->pid <= 0)
                return 0;
        if (kill(-c->pid, signo) < 0 && errno != ESRCH) {
                /* Not yet a group leader (still at the gate): signal the process.
                 * EPERM (a setuid program that changed all its ids): nothing
                 * to do but wait for the stop timeout. */
                if (kill(c->pid, signo) < 0 && errno != ESRCH && errno != EPERM)
                        return -errno;
        }
        /* Then everyone else who belongs, until a pass finds nobody new. */
        _cleanup_free_ pid_t *seen = NULL;
        size_t n_seen = 0;
        unsigned max = signo == SIGKILL ? KILL_PASSES_MAX : SIGNAL_PASSES_CATCHABLE;
        for (unsigned i = 0; i < max; i++) {
                int r = pass(c, signo, &seen, &n_seen, NULL);
                if (r <= 0)
                        return r;
        }
        return signo == SIGKILL ? -EBUSY : 0;
}

static int pgroup_kill_all(Containment *c) {
        int signo = c->params.kill_signal > 0 ? c->params.kill_signal : SIGKILL;

        if (c->pid <= 0)
                return 0;
        _cleanup_free_ pid_t *seen = NULL;
        size_t n_seen = 0;
        int r = -EBUSY;

        (void) kill(-c->pid, SIGSTOP); /* hold the group still while we look */
        for (unsigned i = 0; i < KILL_PASSES_MAX; i++) {
                r = pass(c, signo, &seen, &n_seen, &c->leftovers);
                if (r <= 0)
                        break;
        }
        if (signo != SIGKILL)
                (void) kill(-c->pid, SIGCONT);
        return r;
}

static int pgroup_is_empty(Containment *c) {
        int r;

        if (c->pid <= 0)
                return 1;
        r = pass(c, 0, NULL, NULL, NULL);
        return r < 0 ? r : r == 0;
}

static int pgroup_recheck(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        ProcessGroup *g = userdata;

        if (pgroup_is_empty(&g->c) > 0) {
                g->recheck = sd_event_source_disable_unref(g->recheck);
                containment_emptied(&g->c);
                return 0;
        }
        g->recheck_usec = MIN(g->recheck_usec * 2, (uint64_t) RECHECK_MAX_USEC);
        (void) sd_event_source_set_time_relative(g->recheck, g->recheck_usec);
        (void) sd_event_source_set_enabled(g->recheck, SD_EVENT_ONESHOT);
        return 0;
}

static int pgroup_watch_empty(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;
        int r;

        g->recheck_usec = RECHECK_FIRST_USEC;
        if (g->recheck) {
                (void) sd_event_source_set_time_relative(g->recheck, 0);
                return sd_event_source_set_enabled(g->recheck, SD_EVENT_ONESHOT);
        }
        /* Accuracy 1 us (0 means sd-event's default of 250 ms). */
        r = sd_event_add_time_relative(c->event, &g->recheck, CLOCK_MONOTONIC, 0, 1, pgroup_recheck, g);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(g->recheck, c->priority);
}

static void pgroup_main_exited(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;

        g->main_reaped = true;
        if (c->watching && g->recheck) {
                g->recheck_usec = RECHECK_FIRST_USEC;
                (void) sd_event_source_set_time_relative(g->recheck, 0);
                (void) sd_event_source_set_enabled(g->recheck, SD_EVENT_ONESHOT);
        }
}

static void pgroup_destroy(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;
        g->recheck = sd_event_source_disable_unref(g->recheck);
        guard_remove(&g->guard);
}

const ContainmentOps containment_process_group_ops = {
        .kind = MK_CONTAINMENT_PROCESS_GROUP,
        .size = sizeof(ProcessGroup),
        .setup = pgroup_setup,
        .place = pgroup_place,
        .signal = pgroup_signal,
        .kill_all = pgroup_kill_all,
        .is_empty = pgroup_is_empty,
        .watch_empty = pgroup_watch_empty,
        .main_exited = pgroup_main_exited,
        .destroy = pgroup_destroy,
};
