/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libmirakuru's groups: several executors started on one loop in dependency
 * order, and stopped in reverse. Part of <mirakuru.h>, which includes it;
 * the conventions there hold here too.
 */

#include "mirakuru.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* ------------------------------------------------------------------------ */
/* Groups: several services with dependencies                               */
/* ------------------------------------------------------------------------ */

/* A group starts several executors on one loop: each as soon as the
 * conditions on its dependencies hold, independent ones in parallel. If
 * one fails, the others are torn down and mk_group_get_error() names the
 * service, what it waited for (the unmet probe) and its last lines of
 * output. Stopping goes in reverse dependency order: a service is stopped
 * only once every service depending on it is gone.
 *
 *     __attribute__((cleanup(mk_group_unrefp))) MkGroup *g = NULL;
 *     r = mk_group_new(&g);
 *     r = mk_group_add(g, "db", db);        // executors, configured as usual
 *     r = mk_group_add(g, "app", app);
 *     r = mk_group_add_dependency(g, "app", "db", MK_CONDITION_READY);
 *     r = mk_group_start(g);                // db, then app; returns once both are ready
 *     ...
 *     r = mk_group_stop(g);                 // app, then db
 */

typedef struct MkGroup MkGroup;

/* What a dependency waits for (process-compose's depends_on conditions). */
typedef enum MkCondition {
        MK_CONDITION_STARTED,   /* process_started: spawned */
        MK_CONDITION_READY,     /* process_healthy: every probe passed */
        MK_CONDITION_COMPLETED, /* process_completed_successfully: ready, then exited 0
                                 * (or with the expected exit code) */
        MK_CONDITION_LOG_READY, /* process_log_ready: as READY (give the service an output probe) */
} MkCondition;

/* Where a service of a group is. */
typedef enum MkServiceStatus {
        MK_SERVICE_WAITING,   /* not started: waiting for its dependencies */
        MK_SERVICE_STARTING,  /* started, probes not all passed yet */
        MK_SERVICE_READY,     /* every probe passed */
        MK_SERVICE_COMPLETED, /* was ready, then exited 0 or the expected code (a one-shot job) */
        MK_SERVICE_EXITED,    /* was ready, then exited uncleanly */
        MK_SERVICE_FAILED,    /* its start failed (it is torn down already) */
        MK_SERVICE_STOPPING,  /* stop under way */
        MK_SERVICE_STOPPED,   /* stopped, every process gone */
} MkServiceStatus;

/* Called when a group's start or stop has finished; RESULT as the blocking
 * call would have returned it. */
typedef void (*MkGroupDoneHandler)(MkGroup *g, int result, void *userdata);
/* Called on every change of a service's status (for progress displays and
 * logs). Must not start, stop or free the group. */
typedef void (*MkGroupServiceHandler)(MkGroup *g, const char *name, MkExecutor *e,
                                      MkServiceStatus status, void *userdata);

/* Creates an empty group. -ENOMEM. */
int mk_group_new(MkGroup **ret);
MkGroup *mk_group_ref(MkGroup *g);
/* Drops a reference; the last one stops whatever runs (blocking, in
 * reverse dependency order) and drops the group's executor references. */
MkGroup *mk_group_unref(MkGroup *g);
void mk_group_unrefp(MkGroup **g);

/* Adds the idle executor E as service NAME (the executor's name becomes
 * NAME; the group takes a reference and its exit handler). Attaches E to
 * the group's loop if one was given. -EEXIST for a name already in the
 * group, -EINVAL for an empty name or one holding '/', -EBUSY while the
 * group runs. */
int mk_group_add(MkGroup *g, const char *name, MkExecutor *e);
/* NAME starts only once DEPENDENCY satisfies CONDITION. NAME must have
 * been added (-ENOENT); DEPENDENCY is resolved when the group starts (or by
 * mk_group_check()), so it may be added later. Adding the same dependency
 * again changes its condition. -EINVAL, -EBUSY, -ENOMEM. */
int mk_group_add_dependency(MkGroup *g, const char *name, const char *dependency,
                            MkCondition condition);
/* Checks the dependency graph: -ENOENT for a dependency on an unknown
 * service, -ELOOP for a cycle; mk_group_get_error() names the service or
 * the cycle ("a -> b -> a"). Start does the same check. */
int mk_group_check(MkGroup *g);

/* Runs every executor of the group on EVENT (NULL: the thread's default
 * loop) at PRIORITY. -EBUSY while running. */
int mk_group_attach_event(MkGroup *g, sd_event *event, int64_t priority);
sd_event *mk_group_get_event(MkGroup *g);
/* Calls HANDLER (NULL: none) on every change of a service's status. */
int mk_group_set_service_handler(MkGroup *g, MkGroupServiceHandler handler, void *userdata);

/* Starts every service and returns once all are ready (or completed), or
 * one failed and the rest are torn down. Runs the loop until then (not
 * from a callback of that loop). Each service's own start deadline bounds
 * its start; a service waiting for MK_CONDITION_COMPLETED of one that never
 * exits waits until the group is stopped.
 *   0            all ready
 *   the failing service's start error (-ECHILD, -ETIMEDOUT, -ENOENT, ...),
 *                or -ECHILD when a ready service exited uncleanly before
 *                the others were ready; mk_group_get_failed() names it
 *   -ENOENT, -ELOOP  (with mk_group_get_failed() NULL) see mk_group_check()
 *   -ECANCELED   mk_group_stop() was called during the start
 *   -EBUSY       already started, or called from a callback of the loop
 *   -EINVAL      empty group */
int mk_group_start(MkGroup *g);
int mk_group_start_async(MkGroup *g, MkGroupDoneHandler done, void *userdata);
/* Stops every service, dependents before their dependencies, and returns
 * once every process of every service is gone.
 *   0        all gone cleanly
 *   1        gone, but some service had to be killed after its stop timeout
 *   -ECHILD  gone; some service's main process exited uncleanly
 *   -ESRCH   never started
 *   -EBUSY   called from a callback of the loop (use mk_group_stop_async()) */
int mk_group_stop(MkGroup *g);
int mk_group_stop_async(MkGroup *g, MkGroupDoneHandler done, void *userdata);
/* True while a start or stop is under way or services run (until a stop
 * or a failed start has torn everything down). */
bool mk_group_is_running(MkGroup *g);

/* Services, in the order they were added. */
size_t mk_group_get_n_services(MkGroup *g);
const char *mk_group_get_service_name(MkGroup *g, size_t index);
/* The executor of service NAME (the group keeps its reference), or NULL. */
MkExecutor *mk_group_get_executor(MkGroup *g, const char *name);
/* -ENOENT for an unknown NAME. */
int mk_group_get_service_status(MkGroup *g, const char *name, MkServiceStatus *ret);
const char *mk_service_status_to_string(MkServiceStatus status);
/* Parses "process_started", "process_healthy", "process_completed_successfully",
 * "process_log_ready" (and "started", "ready", "healthy", "completed",
 * "log_ready"); -EINVAL otherwise. */
int mk_condition_from_string(const char *s, MkCondition *ret);

/* Why the last start or stop failed, for people; NULL if it did not. */
const char *mk_group_get_error(MkGroup *g);
/* The service whose failure ended the last start, or NULL. */
const char *mk_group_get_failed(MkGroup *g);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
