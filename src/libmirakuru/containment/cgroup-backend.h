/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup backend's state and operations, shared with the systemd
 * backend, which after the scope is set up tears down the same way in the
 * delegated cgroup (and falls back to a cgroup of our own). */
#pragma once

#include "containment.h"
#include "guard.h"

typedef struct CgroupContainment {
        Containment c;
        int dir_fd;              /* of c->cgroup_path, for CLONE_INTO_CGROUP */
        bool remove;             /* we made the directory: remove it on destroy */
        sd_event_source *watch;  /* poll (EPOLLPRI) on cgroup.events, see cgroup_backend_watch_empty() */
        int events_fd;           /* cgroup.events, open for that */
        sd_event_source *defer;  /* reports an emptiness found when the watch started */
        Guard guard;
        pid_t *recorded; /* processes outside the cgroup already in the leak record */
        size_t n_recorded;
} CgroupContainment;

/* Makes <our cgroup>/mirakuru-<pid>-<starttime>-<n> after cleaning stale
 * siblings, opens it and registers it with the guard (which removes it
 * too if we die). Sets c->cgroup_path and c->reason. */
int cgroup_backend_make(CgroupContainment *g);
/* Adopts an existing cgroup PATH (the scope's); registers it with the guard, which kills
 * it (does not remove it) if we die. */
int cgroup_backend_adopt(CgroupContainment *g, const char *path);
/* Moves PID into the cgroup (it waits at the start gate). */
int cgroup_backend_attach(CgroupContainment *g, pid_t pid);
void cgroup_backend_release(CgroupContainment *g);

int cgroup_backend_cgroup_fd(Containment *c);
int cgroup_backend_signal(Containment *c, int signo);
int cgroup_backend_kill_all(Containment *c);
int cgroup_backend_is_empty(Containment *c);
int cgroup_backend_watch_empty(Containment *c);
/* Looks at cgroup.events again from the loop (its notifications lag, and are
 * lost if the cgroup is removed first): the main process was reaped, or
 * systemd says the scope changed. */
void cgroup_backend_main_exited(Containment *c);
