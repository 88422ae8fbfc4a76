/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last-resort backend: the service's own session and process group,
 * with this process as child subreaper so orphaned descendants reparent to
 * us instead of init.
 *
 * A process belongs to the service when it is in the service's process
 * group or session (the main process calls setsid() at the start gate, so
 * both ids are the main pid), or when its parent belongs. Members are found
 * by walking /proc/PID/task/x/children down from the service (proc-children.h),
 * else from the ppid field of every /proc/PID/stat. Teardown signals the
 * group, then every member found, rescanning until none is left; orphans
 * that reparented to us are reaped.
 *
 * What it cannot promise (see docs/containment.md): a process that leaves
 * the session (setsid()) *and* whose parent has already exited cannot be
 * attributed: the classic double-forked daemon escapes, unless it is
 * named: a pid file's pid, or the process followed as the main one after
 * the launcher's exit, is adopted (pgroup_adopt()) when it came from the
 * service's tree (found below it, or an orphan of ours no other service
 * claims), and it and its descendants are members from then on. The kernel does
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
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup-util.h"
#include "containment.h"
#include "guard.h"
#include "proc-children.h"
#include "util/time-util.h"
#include "util/proc-stat.h"

#define RECHECK_FIRST_USEC 1000
#define RECHECK_MAX_USEC (50 * 1000)
#define KILL_PASSES_MAX 1000
/* More processes than this in one service: the whole-system scan instead. */
#define PGROUP_WALK_MAX ((size_t) 1 << 20)
/* A catchable stop signal need not chase a fork loop: the kill signal follows. */
#define SIGNAL_PASSES_CATCHABLE 8
/* Processes adopted by one service (a pid file's daemon, a followed main). */
#define ADOPTED_MAX 8

/* A process taken in by adoption, known by its start time too: once it is
 * gone, its pid may be another process's. */
typedef struct Adopted {
        pid_t pid;
        uint64_t start_time;
} Adopted;

typedef struct ProcessGroup {
        Containment c;
        sd_event_source *recheck;
        uint64_t recheck_usec;
        Guard guard;
        bool main_reaped; /* from now on the main pid may be reused: only group and session count */
        uint64_t fresh_after; /* a look at /proc must have begun after this (CLOCK_MONOTONIC usec) */
        Adopted adopted[ADOPTED_MAX];
        size_t n_adopted;
} ProcessGroup;

typedef struct ProcInfo {
        pid_t pid, ppid, pgrp, session;
        bool zombie;
        bool member;
} ProcInfo;

static int read_proc_info(pid_t pid, ProcInfo *ret) {
        ProcStat st;
        int r = proc_stat_read(pid, &st);
        if (r < 0)
                return r;
        *ret = (ProcInfo) { .pid = pid, .ppid = st.ppid, .pgrp = st.pgrp, .session = st.session,
                            .zombie = proc_state_exited(st.state) };
        return 0;
}

/* The last look at every process on the system, shared by all services of
 * this process: N services stopped together would otherwise read all of
 * /proc N times over (quadratic: 2,000 services took minutes). A look may
 * serve a service when it began after that service was placed and after
 * the last signal it sent: then any member missing from it was forked
 * after it by a member present in it (a zombie forks nothing), so the look
 * can wrongly show a member alive (the recheck comes again), never a
 * service empty that is not. */
static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static ProcInfo *snapshot;
static size_t snapshot_n;
static uint64_t snapshot_usec; /* when the look began */
static pid_t snapshot_pid;     /* whose look (a fork starts afresh) */

static int read_all_procs(ProcInfo **ret, size_t *ret_n) {
        _cleanup_free_ ProcInfo *all = NULL;
        size_t n = 0, alloc = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;
        pid_t self = getpid();

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                ProcInfo info = {};
                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                if (read_proc_info((pid_t) atoi(de->d_name), &info) < 0 || info.pid == self)
                        continue;
                if (n == alloc) {
                        size_t want = MAX(alloc * 2, (size_t) 256);
                        ProcInfo *a = realloc(all, want * sizeof *a);
                        if (!a) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        all = a;
                        alloc = want;
                }
                all[n++] = info;
        }
        closedir(d);
        *ret = TAKE_PTR(all);
        *ret_n = n;
        return 0;
}

/* Every process on the system as of a look begun after FRESH_AFTER (a
 * copy: the caller marks members in it). */
static int read_procs_since(uint64_t fresh_after, ProcInfo **ret, size_t *ret_n) {
        ProcInfo *all = NULL;
        size_t n = 0;
        int r = 0;

        pthread_mutex_lock(&snapshot_lock);
        if (!snapshot || snapshot_pid != getpid() || snapshot_usec <= fresh_after) {
                uint64_t began = now_usec();
                ProcInfo *fresh = NULL;
                size_t fresh_n = 0;
                r = read_all_procs(&fresh, &fresh_n);
                if (r >= 0) {
                        free(snapshot_pid == getpid() ? snapshot : NULL);
                        snapshot = fresh;
                        snapshot_n = fresh_n;
                        snapshot_usec = began;
                        snapshot_pid = getpid();
                }
        }
        if (r >= 0) {
                all = malloc(MAX(snapshot_n, (size_t) 1) * sizeof *all);
                if (!all)
                        r = -ENOMEM;
                else {
                        if (snapshot_n > 0)
                                memcpy(all, snapshot, snapshot_n * sizeof *all);
                        n = snapshot_n;
                }
        }
        pthread_mutex_unlock(&snapshot_lock);
        if (r < 0)
                return r;
        *ret = all;
        *ret_n = n;
        return 0;
}

static int cmp_pid(const void *a, const void *b) {
        pid_t x = ((const ProcInfo *) a)->pid, y = ((const ProcInfo *) b)->pid;
        return x < y ? -1 : x > y;
}

/* The unreaped main processes of this process's services on this
 * backend, sorted: they are our children, and a walk need not read their
 * /proc/PID/stat to know they are not orphans of another service (with N
 * services that made each stop read N files: quadratic, 500 services 10 s). */
static pthread_mutex_t mains_lock = PTHREAD_MUTEX_INITIALIZER;
static PidArray mains;

static size_t mains_find(pid_t pid) {
        size_t lo = 0, hi = mains.n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (mains.pids[mid] < pid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static void mains_add(pid_t pid) {
        pthread_mutex_lock(&mains_lock);
        size_t i = mains_find(pid);
        if ((i == mains.n || mains.pids[i] != pid) && pid_array_push(&mains, pid) >= 0) {
                memmove(mains.pids + i + 1, mains.pids + i, (mains.n - 1 - i) * sizeof(pid_t));
                mains.pids[i] = pid;
        }
        pthread_mutex_unlock(&mains_lock);
}

static void mains_remove(pid_t pid) {
        pthread_mutex_lock(&mains_lock);
        size_t i = mains_find(pid);
        if (i < mains.n && mains.pids[i] == pid) {
                memmove(mains.pids + i, mains.pids + i + 1, (mains.n - i - 1) * sizeof(pid_t));
                mains.n--;
        }
        pthread_mutex_unlock(&mains_lock);
}

static bool mains_has(pid_t pid) {
        pthread_mutex_lock(&mains_lock);
        size_t i = mains_find(pid);
        bool found = i < mains.n && mains.pids[i] == pid;
        pthread_mutex_unlock(&mains_lock);
        return found;
}

/* The index of PID among G's adopted processes, or G->n_adopted. */
static size_t adopted_find(const ProcessGroup *g, pid_t pid) {
        size_t i = 0;
        while (i < g->n_adopted && g->adopted[i].pid != pid)
                i++;
        return i;
}

/* Whether PID is one of G's adopted processes, still the same process. */
static bool adopted_alive(const ProcessGroup *g, pid_t pid) {
        size_t i = adopted_find(g, pid);
        ProcStat st;

        return i < g->n_adopted && proc_stat_read(pid, &st) >= 0 && st.start_time == g->adopted[i].start_time &&
               !proc_state_exited(st.state);
}

/* The members alone, found by walking down from the service's roots
 * (proc-children.h): the main process while it is not reaped, and those of
 * our own children in its group or session (orphans reparent to us: we are
 * the subreaper). Costs what the service has, where the scan below costs
 * what the machine runs (~100-200 processes here: 1-3 ms a look, several
 * looks a stop). Our own children are read again after the walk: one that
 * reparented to us while we walked (its parent died) is found then. A
 * children file read while a sibling is reaped may skip an entry; a pass
 * that misses a live member is followed by another, and a look that says
 * "empty" found every member a zombie or gone, whose children are all
 * ours (reparented), read by this thread, which alone reaps them. */
static int walk_members(const ProcessGroup *g, ProcInfo **ret, size_t *ret_n) {
        _cleanup_(pid_array_done) PidArray queue = {}, own = {};
        _cleanup_free_ ProcInfo *members = NULL;
        const pid_t main_pid = g->c.pid;
        size_t n = 0, next = 0;
        int r;

        if (!g->main_reaped && (r = pid_array_push(&queue, main_pid)) < 0)
                return r;
        for (size_t i = 0; i < g->n_adopted; i++)
                if (g->adopted[i].pid != main_pid && adopted_alive(g, g->adopted[i].pid) &&
                    (r = pid_array_push(&queue, g->adopted[i].pid)) < 0)
                        return r;
        for (int round = 0; round < 2; round++) {
                own.n = 0;
                r = proc_children_append(getpid(), &own);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < own.n; i++) {
                        ProcInfo info;
                        if ((own.pids[i] != main_pid && mains_has(own.pids[i])) ||
                            pid_in(queue.pids, queue.n, own.pids[i]) || read_proc_info(own.pids[i], &info) < 0)
                                continue;
                        if ((info.pgrp == main_pid || info.session == main_pid) &&
                            (r = pid_array_push(&queue, own.pids[i])) < 0)
                                return r;
                }
                /* Down from each root; a process is read once (a pid cannot
                 * appear twice in the tree at one moment, but the walk is not
                 * one moment: the bound keeps a reused pid from looping). */
                for (; next < queue.n && next < PGROUP_WALK_MAX; next++) {
                        ProcInfo info;
                        if (read_proc_info(queue.pids[next], &info) < 0)
                                continue; /* gone */
                        ProcInfo *m = realloc(members, (n + 1) * sizeof *m);
                        if (!m)
                                return -ENOMEM;
                        members = m;
                        info.member = true;
                        members[n++] = info;
                        size_t before = queue.n;
                        r = proc_children_append(queue.pids[next], &queue);
                        if (r < 0)
                                return r;
                        /* Drop children listed twice (a re-read root). */
                        for (size_t i = before; i < queue.n;)
                                if (pid_in(queue.pids, before, queue.pids[i]))
                                        queue.pids[i] = queue.pids[--queue.n];
                                else
                                        i++;
                }
        }
        if (next >= PGROUP_WALK_MAX)
                return -E2BIG;
        *ret = TAKE_PTR(members);
        *ret_n = n;
        return 0;
}

/* Whether members are found by walk_members(): the kernel lists children,
 * we are the subreaper, and MIRAKURU_PGROUP_SCAN=1 does not ask for the scan. */
static bool can_walk(void) {
        int subreaper = 0;
        return proc_children_supported() && prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) == 0 && subreaper &&
               !getenv("MIRAKURU_PGROUP_SCAN");
}

/* Every process on the system (a look begun after FRESH_AFTER), with
 * members of the service marked. */
static int scan_all(const ProcessGroup *g, uint64_t fresh_after, ProcInfo **ret, size_t *ret_n) {
        _cleanup_free_ ProcInfo *all = NULL;
        const pid_t main_pid = g->c.pid;
        size_t n = 0;
        int r;

        r = read_procs_since(fresh_after, &all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                all[i].member = (all[i].pid == main_pid && !g->main_reaped) || all[i].pgrp == main_pid ||
                                all[i].session == main_pid || adopted_alive(g, all[i].pid);
        /* A process whose parent belongs belongs: walk up each parent chain,
         * the array sorted by pid, remembering every answer (once quadratic
         * in the number of processes: ~10 s to stop 1,000 services). */
        if (n > 0)
                qsort(all, n, sizeof *all, cmp_pid);
        _cleanup_free_ size_t *chain = malloc(MAX(n, (size_t) 1) * sizeof *chain);
        _cleanup_free_ signed char *known = calloc(MAX(n, (size_t) 1), 1); /* 0 unknown, 1 member, -1 not */
        if (!chain || !known)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (all[i].member)
                        known[i] = 1;
        for (size_t i = 0; i < n; i++) {
                size_t len = 0, k = i;
                signed char answer = -1;
                while (known[k] == 0 && len < n) {
                        chain[len++] = k;
                        ProcInfo key = { .pid = all[k].ppid };
                        ProcInfo *parent = all[k].ppid > 0 ? bsearch(&key, all, n, sizeof *all, cmp_pid) : NULL;
                        if (!parent)
                                break;
                        k = (size_t) (parent - all);
                }
                if (known[k] != 0 && len < n)
                        answer = known[k];
                for (size_t j = 0; j < len; j++)
                        known[chain[j]] = answer;
        }
        for (size_t i = 0; i < n; i++)
                all[i].member = known[i] > 0;
        *ret = TAKE_PTR(all);
        *ret_n = n;
        return 0;
}

/* The members (flagged), where the kernel lists children and we are the
 * subreaper by walking down (walk_members()), else by scan_all(). */
static int scan_members(const ProcessGroup *g, uint64_t fresh_after, ProcInfo **ret, size_t *ret_n) {
        if (can_walk()) {
                int r = walk_members(g, ret, ret_n);
                if (r != -E2BIG)
                        return r;
        }
        return scan_all(g, fresh_after, ret, ret_n);
}

/* Signals the members not in *SEEN yet (SIGNO 0: none) and adds them there;
 * reaps member zombies that reparented to us (never the main process: the
 * executor reaps it through its pidfd). Returns the number of live members
 * found (with SIGNO: newly signalled). */
static int pass(Containment *c, int signo, pid_t **seen, size_t *n_seen, char **leftovers) {
        _cleanup_free_ ProcInfo *all = NULL;
        size_t n = 0;
        int alive = 0, r;

        r = scan_members((ProcessGroup *) c, ((ProcessGroup *) c)->fresh_after, &all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                ProcInfo *p = &all[i];
                if (!p->member)
                        continue;
                if (p->zombie) {
                        ProcInfo now = {};
                        /* The look may be shared and a little old: reap only what is,
                         * right now, a zombie child of ours in the service's group or
                         * session (never another service's main process). */
                        if (p->ppid == getpid() && p->pid != c->pid && read_proc_info(p->pid, &now) >= 0 &&
                            now.zombie && now.ppid == getpid() &&
                            (now.pgrp == c->pid || now.session == c->pid || adopted_find((ProcessGroup *) c, p->pid) < ((ProcessGroup *) c)->n_adopted))
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
                        ((ProcessGroup *) c)->fresh_after = now_usec();
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
        else if (can_walk())
                containment_set_reason(c, "process group of the service's own session, this process as subreaper "
                                          "(members found down /proc/PID/task/*/children)");
        else
                containment_set_reason(c, "process group of the service's own session, this process as subreaper "
                                          "(members found by a scan of /proc)");
        return 0;
}

static int pgroup_place(Containment *c, pid_t pid, int pidfd, bool in_cgroup _unused_) {
        ProcessGroup *g = (ProcessGroup *) c;

        /* The child calls setsid() itself at the gate; the guard kills that
         * process group if we die (best effort: this backend is the last
         * resort, and works without one). */
        if (guard_add_process_group(pid, pidfd, &g->guard) < 0)
                g->guard = (Guard) {};
        g->fresh_after = now_usec(); /* an older look does not know the child */
        mains_add(pid);
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
        ((ProcessGroup *) c)->fresh_after = now_usec();
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
        ((ProcessGroup *) c)->fresh_after = now_usec();
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
        /* The next look must be a newer one: a shared look shows what was
         * then, and a recheck that saw it once learns nothing from it again. */
        ((ProcessGroup *) c)->fresh_after = now_usec();
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
        mains_remove(c->pid);
        if (c->watching && g->recheck) {
                g->recheck_usec = RECHECK_FIRST_USEC;
                (void) sd_event_source_set_time_relative(g->recheck, 0);
                (void) sd_event_source_set_enabled(g->recheck, SD_EVENT_ONESHOT);
        }
}

/* Is ID (a session or group id, or a pid) another service's main process
 * (each calls setsid() at its start: its session and group ids are its pid)? */
static bool other_service(const Containment *c, pid_t id) {
        return id > 0 && id != c->pid && mains_has(id);
}

/* PID is named as the service's main process. It is taken in when it is
 * a member (below the service now: record it, so it stays one once its
 * parent exits), or when it is an orphan of ours (we are the subreaper: it
 * came from below us) that no other service claims. */
static int pgroup_adopt(Containment *c, pid_t pid) {
        ProcessGroup *g = (ProcessGroup *) c;
        _cleanup_free_ ProcInfo *all = NULL;
        bool member = false;
        ProcStat st;
        size_t n = 0;
        int r;

        if (pid <= 0 || pid == getpid() || proc_stat_read(pid, &st) < 0 || proc_state_exited(st.state))
                return 0;
        if (adopted_alive(g, pid))
                return 1;
        r = scan_members(g, now_usec(), &all, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && !member; i++)
                member = all[i].member && all[i].pid == pid;
        if (!member && (st.ppid != getpid() || other_service(c, pid) || other_service(c, st.session) ||
                        other_service(c, st.pgrp)))
                return 0;
        if (pid == c->pid && !g->main_reaped)
                return 1; /* the main process: a member as long as it lives */
        /* Drop what is gone, keep the newest: a pid file may name a new
         * daemon after a restart. */
        size_t k = 0;
        for (size_t i = 0; i < g->n_adopted; i++)
                if (adopted_alive(g, g->adopted[i].pid))
                        g->adopted[k++] = g->adopted[i];
                else
                        mains_remove(g->adopted[i].pid);
        g->n_adopted = k;
        if (g->n_adopted == ADOPTED_MAX) {
                mains_remove(g->adopted[0].pid);
                memmove(g->adopted, g->adopted + 1, (ADOPTED_MAX - 1) * sizeof g->adopted[0]);
                g->n_adopted--;
        }
        g->adopted[g->n_adopted++] = (Adopted) { .pid = pid, .start_time = st.start_time };
        mains_add(pid); /* no other service's walk takes it */
        return 1;
}

static void pgroup_destroy(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;
        g->recheck = sd_event_source_disable_unref(g->recheck);
        guard_remove(&g->guard);
        if (c->pid > 0)
                mains_remove(c->pid);
        for (size_t i = 0; i < g->n_adopted; i++)
                mains_remove(g->adopted[i].pid);
        g->n_adopted = 0;
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
        .adopt = pgroup_adopt,
        .destroy = pgroup_destroy,
};
