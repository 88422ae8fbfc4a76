/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last-resort backend: the service's own session and process group.
 *
 * What it cannot promise: a process that leaves the process group (setsid()
 * or setpgid() in a daemon) is not reached by group signals, and the kernel
 * does not tell us when a process group becomes empty, so emptiness is
 * re-checked on a short backing-off timer. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "containment.h"
#include "util/time-util.h"

#define RECHECK_FIRST_USEC 1000
#define RECHECK_MAX_USEC (50 * 1000)

typedef struct ProcessGroup {
        Containment c;
        sd_event_source *recheck;
        uint64_t recheck_usec;
} ProcessGroup;

static int pgroup_setup(Containment *c) {
        containment_set_reason(c, "process group %s", "of the service's own session");
        return 0;
}

static int pgroup_place(Containment *c, pid_t pid _unused_, int pidfd _unused_, bool in_cgroup _unused_) {
        /* The child calls setsid() itself at the gate: nothing to do here. */
        containment_placed(c, 0);
        return 0;
}

static int pgroup_signal(Containment *c, int signo) {
        if (c->pid <= 0)
                return 0;
        if (kill(-c->pid, signo) < 0 && errno != ESRCH) {
                /* Not yet a group leader (still at the gate): signal the process. */
                if (kill(c->pid, signo) < 0 && errno != ESRCH)
                        return -errno;
        }
        return 0;
}

static int pgroup_kill_all(Containment *c) {
        return pgroup_signal(c, c->params.kill_signal > 0 ? c->params.kill_signal : SIGKILL);
}

static int pgroup_is_empty(Containment *c) {
        if (c->pid <= 0)
                return 1;
        if (kill(-c->pid, 0) < 0)
                return errno == ESRCH ? 1 : -errno;
        return 0;
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
        r = sd_event_add_time_relative(c->event, &g->recheck, CLOCK_MONOTONIC, 0, 0, pgroup_recheck, g);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(g->recheck, c->priority);
}

static void pgroup_main_exited(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;
        if (c->watching && g->recheck) {
                g->recheck_usec = RECHECK_FIRST_USEC;
                (void) sd_event_source_set_time_relative(g->recheck, 0);
                (void) sd_event_source_set_enabled(g->recheck, SD_EVENT_ONESHOT);
        }
}

static void pgroup_destroy(Containment *c) {
        ProcessGroup *g = (ProcessGroup *) c;
        g->recheck = sd_event_source_disable_unref(g->recheck);
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
