/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where a service's processes live, and how all of them are signalled,
 * watched and torn down. One backend per file behind ContainmentOps. The
 * containment layer knows nothing of executors: it reports through the
 * callbacks given to containment_new(). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "util/macro.h"

typedef struct Containment Containment;

typedef struct ContainmentCallbacks {
        /* The child held at the gate is where it belongs (result 0) or could
         * not be placed (negative errno). May be called from within place(). */
        void (*placed)(Containment *c, int result, void *userdata);
        /* Every process of the service is gone. */
        void (*empty)(Containment *c, void *userdata);
} ContainmentCallbacks;

typedef struct ContainmentParams {
        const char *name;        /* the service's name, for scope/cgroup names */
        const char *description; /* the command line */
        const char *bus_address; /* systemd: an explicit bus address, or NULL */
        int kill_signal;
} ContainmentParams;

typedef struct ContainmentOps {
        MkContainment kind;
        /* place() needs the child's pid before the child may run (a scope is
         * created for it): spawn holds it at the gate. Otherwise the child is
         * placed by spawn itself (cgroup fd) and created vfork-style. */
        bool needs_gate;
        size_t size; /* of the backend's struct, which starts with Containment */

        /* Before spawning: make the home (cgroup directory, bus connection).
         * Negative errno with c->reason set when this backend cannot work here. */
        int (*setup)(Containment *c);
        /* An fd of the cgroup v2 directory to spawn into (CLONE_INTO_CGROUP),
         * or -EBADF to spawn in place. Owned by the backend. */
        int (*cgroup_fd)(Containment *c);
        /* The child PID is held at the gate; IN_CGROUP tells whether
         * CLONE_INTO_CGROUP already placed it. Completes through
         * containment_placed(), possibly later (scope job). */
        int (*place)(Containment *c, pid_t pid, int pidfd, bool in_cgroup);
        /* SIGNO to every process of the service. */
        int (*signal)(Containment *c, int signo);
        /* Kill every process now (cgroup.kill or the kill signal to each). */
        int (*kill_all)(Containment *c);
        /* > 0 when no process is left, 0 when some are, negative errno. */
        int (*is_empty)(Containment *c);
        /* From now on, call containment_emptied() once the service is empty. */
        int (*watch_empty)(Containment *c);
        /* The main process was reaped (backends without kernel notification
         * use this as a hint to look again). May be NULL. */
        void (*main_exited)(Containment *c);
        /* PID is named the service's main process (its pid file, the
         * process followed after the launcher's exit): keep it, and what it
         * starts, in the service even where nothing else would (a daemon
         * that left the service's session). 1 if PID belongs to the service
         * (now), 0 if not, negative errno. NULL: membership of the cgroup. */
        int (*adopt)(Containment *c, pid_t pid);
        /* Remove what setup() made (cgroup directory; the scope is collected). */
        void (*destroy)(Containment *c);
} ContainmentOps;

struct Containment {
        const ContainmentOps *ops;
        MkContainment kind; /* ops->kind, unless the backend fell back at place() time */
        sd_event *event;
        int64_t priority;
        ContainmentParams params; /* strings are owned copies */
        ContainmentCallbacks cb;
        void *userdata;
        pid_t pid;         /* the main process */
        int pidfd;         /* ours (a dup), of the main process; -EBADF before place() */
        bool main_reaped;  /* from now on PID may be another process's */
        char *cgroup_path; /* absolute, in our mount namespace; NULL without a cgroup */
        char *reason;      /* why this backend was chosen (and what was refused before it) */
        char *leftovers;   /* "PID CMDLINE\n" of each process the kill had to reach */
        bool watching;
        bool empty_reported;
};

/* Chooses a backend (WANTED, or in order systemd, cgroup, process-group for
 * MK_CONTAINMENT_AUTO) and sets it up; c->reason says why it was chosen and
 * what was refused before it. On failure *RET_REFUSAL (may be NULL; free()
 * it) says what each backend tried answered. */
int containment_new(MkContainment wanted, const ContainmentParams *params, sd_event *event,
                    int64_t priority, const ContainmentCallbacks *cb, void *userdata,
                    Containment **ret, char **ret_refusal);
/* Destroys (removes the cgroup) and frees. */
Containment *containment_free(Containment *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Containment *, containment_free);

int containment_cgroup_fd(Containment *c);
bool containment_needs_gate(Containment *c);
int containment_place(Containment *c, pid_t pid, int pidfd, bool in_cgroup);
int containment_signal(Containment *c, int signo);
int containment_kill_all(Containment *c);
int containment_is_empty(Containment *c);
int containment_watch_empty(Containment *c);
void containment_main_exited(Containment *c);
/* Whether PID belongs to the service, taking it in where the backend can
 * (ops->adopt); 1, 0 or negative errno. */
int containment_adopt(Containment *c, pid_t pid);

/* For backends: report the outcome of place(), and emptiness (once). */
void containment_placed(Containment *c, int result);
void containment_emptied(Containment *c);
/* For backends: replace c->reason (printf-style). */
void containment_set_reason(Containment *c, const char *fmt, ...) _printf_(2, 3);

/* containment_free(), handing over the leak record (see below) to
 * *LEFTOVERS (replacing what it held; NULL if nothing had to be killed). */
Containment *containment_free_with_leftovers(Containment *c, char **leftovers);
/* Steals the leak record ("PID CMDLINE\n" lines), NULL if nothing had to be killed. */
char *containment_steal_leftovers(Containment *c);

extern const ContainmentOps containment_systemd_ops;
extern const ContainmentOps containment_cgroup_ops;
extern const ContainmentOps containment_process_group_ops;
