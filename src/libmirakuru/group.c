/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Several executors with dependencies: start each as soon as its
 * dependencies' conditions hold (independent ones in parallel on one loop),
 * fail fast, and stop in reverse dependency order. A client of the public
 * executor API only. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "mirakuru.h"
#include "util/event-wait.h"
#include "util/macro.h"

typedef struct Dependency {
        char *name;
        size_t index; /* resolved by check */
        MkCondition condition;
} Dependency;

typedef struct Member {
        MkGroup *group;
        char *name;
        MkExecutor *e;
        Dependency *deps;
        size_t n_deps;
        MkServiceStatus status;
        unsigned visit; /* cycle search: 0 new, 1 on the path, 2 done */
} Member;

typedef enum Phase {
        PHASE_IDLE,
        PHASE_STARTING,
        PHASE_RUNNING,
        PHASE_STOPPING,
} Phase;

struct MkGroup {
        unsigned n_ref;
        Member **members;
        size_t n_members;
        sd_event *event;
        int64_t priority;
        MkGroupServiceHandler service_handler;
        void *service_userdata;

        Phase phase;
        bool ever_started;
        bool start_pending;
        int start_result;
        MkGroupDoneHandler start_done;
        void *start_userdata;
        bool stop_pending;
        int stop_result;
        MkGroupDoneHandler stop_done;
        void *stop_userdata;
        bool in_advance;
        bool advance_again;

        char *error;
        char *failed;
};

_printf_(2, 3) static void group_set_error(MkGroup *g, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(g->error);
        g->error = s;
}

static Member *find_member(MkGroup *g, const char *name) {
        for (size_t i = 0; g && name && i < g->n_members; i++)
                if (strcmp(g->members[i]->name, name) == 0)
                        return g->members[i];
        return NULL;
}

static void member_free(Member *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_deps; i++)
                free(m->deps[i].name);
        free(m->deps);
        if (m->e)
                (void) mk_executor_set_exit_handler(m->e, NULL, NULL);
        mk_executor_unref(m->e);
        free(m->name);
        free(m);
}

static void set_status(Member *m, MkServiceStatus status) {
        MkGroup *g = m->group;

        if (m->status == status)
                return;
        m->status = status;
        if (g->service_handler)
                g->service_handler(g, m->name, m->e, status, g->service_userdata);
}

/* ---- configuration ---- */

int mk_group_new(MkGroup **ret) {
        MkGroup *g;

        if (!ret)
                return -EINVAL;
        g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->n_ref = 1;
        *ret = g;
        return 0;
}

MkGroup *mk_group_ref(MkGroup *g) {
        if (g)
                g->n_ref++;
        return g;
}

MkGroup *mk_group_unref(MkGroup *g) {
        if (!g || --g->n_ref > 0)
                return NULL;
        if (g->phase != PHASE_IDLE) {
                /* Keep it alive while the blocking stop runs the loop. */
                g->n_ref = 1;
                g->start_done = g->stop_done = NULL;
                (void) mk_group_stop(g);
                g->n_ref = 0;
        }
        for (size_t i = 0; i < g->n_members; i++)
                member_free(g->members[i]);
        free(g->members);
        sd_event_unref(g->event);
        free(g->error);
        free(g->failed);
        free(g);
        return NULL;
}

void mk_group_unrefp(MkGroup **g) {
        if (g)
                *g = mk_group_unref(*g);
}

static void on_member_exit(MkExecutor *e, const MkExit *x, void *userdata);

/* Moves E to EVENT (nothing to do if it is there already). */
static int attach(MkExecutor *e, sd_event *event, int64_t priority) {
        int r;

        if (mk_executor_get_event(e) == event)
                return 0;
        r = mk_executor_detach_event(e);
        if (r < 0)
                return r;
        return mk_executor_attach_event(e, event, priority);
}

int mk_group_add(MkGroup *g, const char *name, MkExecutor *e) {
        Member *m, **a;
        int r;

        if (!g || !name || !*name || strchr(name, '/') || !e)
                return -EINVAL;
        if (g->phase != PHASE_IDLE)
                return -EBUSY;
        if (find_member(g, name))
                return -EEXIST;
        if (mk_executor_get_state(e) != MK_STATE_IDLE)
                return -EBUSY;

        r = mk_executor_set_name(e, name);
        if (r < 0)
                return r;
        if (g->event) {
                r = attach(e, g->event, g->priority);
                if (r < 0)
                        return r;
        }

        a = reallocarray(g->members, g->n_members + 1, sizeof(Member *));
        if (!a)
                return -ENOMEM;
        g->members = a;
        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->name = strdup(name);
        if (!m->name) {
                free(m);
                return -ENOMEM;
        }
        m->group = g;
        m->e = mk_executor_ref(e);
        m->status = MK_SERVICE_WAITING;
        (void) mk_executor_set_exit_handler(e, on_member_exit, m);
        g->members[g->n_members++] = m;
        return 0;
}

int mk_group_add_dependency(MkGroup *g, const char *name, const char *dependency,
                            MkCondition condition) {
        Dependency *a;
        Member *m;
        char *copy;

        if (!g || !name || !dependency || !*dependency || condition < MK_CONDITION_STARTED ||
            condition > MK_CONDITION_LOG_READY)
                return -EINVAL;
        if (g->phase != PHASE_IDLE)
                return -EBUSY;
        m = find_member(g, name);
        if (!m)
                return -ENOENT;
        for (size_t i = 0; i < m->n_deps; i++)
                if (strcmp(m->deps[i].name, dependency) == 0) {
                        m->deps[i].condition = condition;
                        return 0;
                }
        copy = strdup(dependency);
        if (!copy)
                return -ENOMEM;
        a = reallocarray(m->deps, m->n_deps + 1, sizeof *a);
        if (!a) {
                free(copy);
                return -ENOMEM;
        }
        m->deps = a;
        m->deps[m->n_deps++] = (Dependency) { .name = copy, .condition = condition };
        return 0;
}

/* Depth-first search; on a cycle, writes "a -> b -> a" into the error. */
static int find_cycle(MkGroup *g, size_t i, size_t *path, size_t depth) {
        Member *m = g->members[i];

        if (m->visit == 2)
                return 0;
        if (m->visit == 1) {
                /* The cycle is the part of the path from i's first appearance. */
                size_t start = 0, len = 0;
                while (path[start] != i)
                        start++;
                for (size_t k = start; k < depth; k++)
                        len += strlen(g->members[path[k]]->name) + 4;
                len += strlen(m->name) + 1;
                _cleanup_free_ char *s = malloc(len);
                if (!s)
                        return -ENOMEM;
                char *p = s;
                for (size_t k = start; k < depth; k++)
                        p = stpcpy(stpcpy(p, g->members[path[k]]->name), " -> ");
                stpcpy(p, m->name);
                group_set_error(g, "dependency cycle: %s", s);
                return -ELOOP;
        }
        m->visit = 1;
        path[depth] = i;
        for (size_t k = 0; k < m->n_deps; k++) {
                int r = find_cycle(g, m->deps[k].index, path, depth + 1);
                if (r < 0)
                        return r;
        }
        m->visit = 2;
        return 0;
}

int mk_group_check(MkGroup *g) {
        _cleanup_free_ size_t *path = NULL;

        if (!g)
                return -EINVAL;
        for (size_t i = 0; i < g->n_members; i++) {
                Member *m = g->members[i];
                for (size_t k = 0; k < m->n_deps; k++) {
                        Member *d = find_member(g, m->deps[k].name);
                        if (!d) {
                                group_set_error(g, "service %s depends on unknown service %s", m->name,
                                                m->deps[k].name);
                                return -ENOENT;
                        }
                        if (d == m) {
                                group_set_error(g, "dependency cycle: %s -> %s", m->name, m->name);
                                return -ELOOP;
                        }
                        for (size_t j = 0; j < g->n_members; j++)
                                if (g->members[j] == d)
                                        m->deps[k].index = j;
                }
        }
        path = calloc(g->n_members + 1, sizeof *path);
        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_members; i++)
                g->members[i]->visit = 0;
        for (size_t i = 0; i < g->n_members; i++) {
                int r = find_cycle(g, i, path, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

int mk_group_attach_event(MkGroup *g, sd_event *event, int64_t priority) {
        int r;

        if (!g)
                return -EINVAL;
        if (g->phase != PHASE_IDLE)
                return -EBUSY;
        if (event)
                event = sd_event_ref(event);
        else {
                r = event_default(&event);
                if (r < 0)
                        return r;
        }
        sd_event_unref(g->event);
        g->event = event;
        g->priority = priority;
        for (size_t i = 0; i < g->n_members; i++) {
                r = attach(g->members[i]->e, event, priority);
                if (r < 0)
                        return r;
        }
        return 0;
}

sd_event *mk_group_get_event(MkGroup *g) {
        return g ? g->event : NULL;
}

int mk_group_set_service_handler(MkGroup *g, MkGroupServiceHandler handler, void *userdata) {
        if (!g)
                return -EINVAL;
        g->service_handler = handler;
        g->service_userdata = userdata;
        return 0;
}

/* ---- running ---- */

static void advance(MkGroup *g);

static bool condition_holds(const Member *d, MkCondition c) {
        switch (c) {
        case MK_CONDITION_STARTED:
                return d->status == MK_SERVICE_STARTING || d->status == MK_SERVICE_READY ||
                       d->status == MK_SERVICE_COMPLETED || d->status == MK_SERVICE_EXITED;
        case MK_CONDITION_READY:
        case MK_CONDITION_LOG_READY:
                return d->status == MK_SERVICE_READY || d->status == MK_SERVICE_COMPLETED;
        case MK_CONDITION_COMPLETED:
                return d->status == MK_SERVICE_COMPLETED;
        }
        return false;
}

/* Has processes (or may have) that a stop must collect. */
static bool member_active(const Member *m) {
        if (m->status == MK_SERVICE_FAILED)
                /* A start that failed at once may still be tearing down. */
                return mk_executor_get_state(m->e) != MK_STATE_IDLE;
        return m->status == MK_SERVICE_STARTING || m->status == MK_SERVICE_READY ||
               m->status == MK_SERVICE_COMPLETED || m->status == MK_SERVICE_EXITED ||
               m->status == MK_SERVICE_STOPPING;
}

/* The start failed because of M (NULL: cancelled): tear everything down. */
static void fail_group(MkGroup *g, Member *m, int result) {
        if (g->phase != PHASE_STARTING)
                return;
        g->start_result = result;
        if (m) {
                free(g->failed);
                g->failed = strdup(m->name);
        }
        g->phase = PHASE_STOPPING;
        g->advance_again = true;
}

static void on_member_started(MkExecutor *e, int result, void *userdata) {
        Member *m = userdata;
        MkGroup *g = m->group;

        if (m->status != MK_SERVICE_STARTING) {
                /* Cancelled by the group's stop: its stop reports. */
                advance(g);
                return;
        }
        if (result < 0) {
                set_status(m, MK_SERVICE_FAILED);
                if (g->phase == PHASE_STARTING) {
                        group_set_error(g, "service %s failed to start: %s", m->name,
                                        mk_executor_get_error(e) ?: strerror(-result));
                        fail_group(g, m, result);
                }
        } else if (mk_executor_get_state(e) == MK_STATE_EXITED) {
                /* Ready and already gone: a one-shot job that exited 0 (or a daemon). */
                MkExit x;
                set_status(m, mk_executor_get_exit(e, &x) >= 0 && x.code == CLD_EXITED && x.clean
                                      ? MK_SERVICE_COMPLETED : MK_SERVICE_READY);
        } else
                set_status(m, MK_SERVICE_READY);
        advance(g);
}

static void on_member_exit(MkExecutor *e, const MkExit *x, void *userdata) {
        Member *m = userdata;
        MkGroup *g = m->group;

        /* Exits during a member's start are its start's result; exits while
         * stopping are expected. */
        if (m->status != MK_SERVICE_READY || g->phase == PHASE_STOPPING)
                return;
        if (x->code == CLD_EXITED && x->clean) {
                /* Exit 0 (or the expected exit code): a one-shot job is done. */
                set_status(m, MK_SERVICE_COMPLETED);
                advance(g);
                return;
        }
        set_status(m, MK_SERVICE_EXITED);
        if (g->phase == PHASE_STARTING) {
                _cleanup_free_ char *lines = NULL;
                int status = mk_exit_to_status(x);
                (void) mk_executor_get_last_lines(e, 10, &lines);
                group_set_error(g, "service %s %s %d before the group was ready%s%s", m->name,
                                x->code == CLD_EXITED ? "exited with status" : "was killed by signal",
                                x->code == CLD_EXITED ? status : x->status,
                                lines && *lines ? "; last output:\n" : "", lines ?: "");
                fail_group(g, m, -ECHILD);
        }
        advance(g);
}

static void on_member_stopped(MkExecutor *e, int result, void *userdata) {
        Member *m = userdata;
        MkGroup *g = m->group;

        if (result == 1 && g->stop_result >= 0)
                g->stop_result = 1;
        else if (result < 0 && result != -ESRCH && g->stop_result == 0)
                g->stop_result = result;
        set_status(m, MK_SERVICE_STOPPED);
        advance(g);
}

static void advance_start(MkGroup *g) {
        bool all_up = true;

        for (size_t i = 0; i < g->n_members && g->phase == PHASE_STARTING; i++) {
                Member *m = g->members[i];
                bool can = true;
                int r;

                if (m->status != MK_SERVICE_WAITING)
                        continue;
                for (size_t k = 0; k < m->n_deps && can; k++)
                        can = condition_holds(g->members[m->deps[k].index], m->deps[k].condition);
                if (!can)
                        continue;
                set_status(m, MK_SERVICE_STARTING);
                r = mk_executor_start_async(m->e, on_member_started, m);
                if (r < 0) {
                        set_status(m, MK_SERVICE_FAILED);
                        group_set_error(g, "service %s failed to start: %s", m->name,
                                        mk_executor_get_error(m->e) ?: strerror(-r));
                        fail_group(g, m, r);
                        return;
                }
                /* Dependents waiting for "started" may go now. */
                g->advance_again = true;
        }
        if (g->phase != PHASE_STARTING)
                return;
        for (size_t i = 0; i < g->n_members; i++)
                if (g->members[i]->status != MK_SERVICE_READY && g->members[i]->status != MK_SERVICE_COMPLETED)
                        all_up = false;
        if (all_up) {
                g->phase = PHASE_RUNNING;
                g->start_result = 0;
        }
}

/* Stops each active member none of whose dependents is still active. One
 * pass over the dependencies marks who is still needed (O(members +
 * dependencies) per call, not members^2). */
static void advance_stop(MkGroup *g) {
        _cleanup_free_ bool *needed = calloc(g->n_members ?: 1, sizeof(bool));
        bool any_active = false;

        if (!needed) {
                if (g->stop_result == 0)
                        g->stop_result = -ENOMEM;
                return;
        }
        for (size_t j = 0; j < g->n_members; j++) {
                Member *d = g->members[j];
                if (!member_active(d))
                        continue;
                for (size_t k = 0; k < d->n_deps; k++)
                        if (d->deps[k].index < g->n_members)
                                needed[d->deps[k].index] = true;
        }
        for (size_t i = 0; i < g->n_members; i++) {
                Member *m = g->members[i];
                int r;

                if (!member_active(m))
                        continue;
                any_active = true;
                if (m->status == MK_SERVICE_STOPPING || needed[i])
                        continue;
                set_status(m, MK_SERVICE_STOPPING);
                r = mk_executor_stop_async(m->e, on_member_stopped, m);
                if (r < 0 && r != -ESRCH && r != -EALREADY && g->stop_result == 0)
                        g->stop_result = r;
                if (r < 0 || mk_executor_get_state(m->e) == MK_STATE_IDLE) {
                        /* Nothing to wait for: already collected. */
                        set_status(m, MK_SERVICE_STOPPED);
                        g->advance_again = true;
                }
        }
        if (!any_active)
                g->phase = PHASE_IDLE;
}

static void report(MkGroup *g) {
        if (g->start_pending && g->phase != PHASE_STARTING) {
                MkGroupDoneHandler done = g->start_done;
                bool idle_or_running = g->phase == PHASE_IDLE || g->phase == PHASE_RUNNING;

                /* A failed start reports once the teardown has ended. */
                if (idle_or_running) {
                        g->start_pending = false;
                        g->start_done = NULL;
                        if (done)
                                done(g, g->start_result, g->start_userdata);
                }
        }
        if (g->stop_pending && g->phase == PHASE_IDLE && !g->start_pending) {
                MkGroupDoneHandler done = g->stop_done;

                g->stop_pending = false;
                g->stop_done = NULL;
                if (done)
                        done(g, g->stop_result, g->stop_userdata);
        }
}

static void advance(MkGroup *g) {
        if (g->in_advance) {
                g->advance_again = true;
                return;
        }
        mk_group_ref(g);
        g->in_advance = true;
        do {
                g->advance_again = false;
                if (g->phase == PHASE_STARTING)
                        advance_start(g);
                if (g->phase == PHASE_STOPPING)
                        advance_stop(g);
        } while (g->advance_again);
        g->in_advance = false;
        report(g);
        mk_group_unref(g);
}

int mk_group_start_async(MkGroup *g, MkGroupDoneHandler done, void *userdata) {
        int r;

        if (!g || g->n_members == 0)
                return -EINVAL;
        if (g->phase != PHASE_IDLE || g->start_pending || g->stop_pending)
                return -EBUSY;
        free(g->error);
        g->error = NULL;
        free(g->failed);
        g->failed = NULL;
        r = mk_group_check(g);
        if (r < 0)
                return r;
        if (!g->event) {
                /* The loop the executors were attached to, else the default one. */
                r = mk_group_attach_event(g, mk_executor_get_event(g->members[0]->e), 0);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < g->n_members; i++)
                g->members[i]->status = MK_SERVICE_WAITING;
        g->ever_started = true;
        g->phase = PHASE_STARTING;
        g->start_pending = true;
        g->start_result = 0;
        g->stop_result = 0;
        g->start_done = done;
        g->start_userdata = userdata;
        advance(g);
        return 0;
}

static void waiter_done(MkGroup *g _unused_, int result, void *userdata) {
        Waiter *w = userdata;
        w->done = true;
        w->result = result;
}

static int run_until_done(MkGroup *g, Waiter *w) {
        int r;

        mk_group_ref(g);
        r = event_run_until(g->event, &w->done, MK_USEC_INFINITY);
        mk_group_unref(g);
        if (r < 0) {
                /* The operation goes on; it must not report to this stack frame. */
                if (g->start_done == waiter_done && g->start_userdata == w)
                        g->start_done = NULL;
                if (g->stop_done == waiter_done && g->stop_userdata == w)
                        g->stop_done = NULL;
                return r;
        }
        return w->result;
}

int mk_group_start(MkGroup *g) {
        Waiter w = {};
        int r;

        if (g && !event_can_block(g->event))
                return -EBUSY;
        r = mk_group_start_async(g, waiter_done, &w);
        if (r < 0)
                return r;
        return run_until_done(g, &w);
}

int mk_group_stop_async(MkGroup *g, MkGroupDoneHandler done, void *userdata) {
        if (!g)
                return -EINVAL;
        if (g->stop_pending)
                return -EALREADY;
        if (g->phase == PHASE_IDLE)
                return g->ever_started ? 0 : -ESRCH;

        g->stop_pending = true;
        g->stop_done = done;
        g->stop_userdata = userdata;
        if (g->phase == PHASE_STARTING) {
                group_set_error(g, "start cancelled by stop");
                g->start_result = -ECANCELED;
        }
        if (g->phase != PHASE_STOPPING)
                g->phase = PHASE_STOPPING;
        advance(g);
        return 0;
}

int mk_group_stop(MkGroup *g) {
        Waiter w = {};
        int r;

        if (g && g->phase != PHASE_IDLE && !event_can_block(g->event))
                return -EBUSY;
        r = mk_group_stop_async(g, waiter_done, &w);
        if (r < 0)
                return r;
        if (!w.done && !g->stop_pending)
                return r;
        return run_until_done(g, &w);
}

/* ---- inspection ---- */

bool mk_group_is_running(MkGroup *g) {
        return g && g->phase != PHASE_IDLE;
}

size_t mk_group_get_n_services(MkGroup *g) {
        return g ? g->n_members : 0;
}

const char *mk_group_get_service_name(MkGroup *g, size_t index) {
        return g && index < g->n_members ? g->members[index]->name : NULL;
}

MkExecutor *mk_group_get_executor(MkGroup *g, const char *name) {
        Member *m = find_member(g, name);
        return m ? m->e : NULL;
}

int mk_group_get_service_status(MkGroup *g, const char *name, MkServiceStatus *ret) {
        Member *m = find_member(g, name);

        if (!m)
                return -ENOENT;
        if (ret)
                *ret = m->status;
        return 0;
}

const char *mk_service_status_to_string(MkServiceStatus status) {
        static const char *const table[] = {
                [MK_SERVICE_WAITING] = "waiting",     [MK_SERVICE_STARTING] = "starting",
                [MK_SERVICE_READY] = "ready",         [MK_SERVICE_COMPLETED] = "completed",
                [MK_SERVICE_EXITED] = "exited",       [MK_SERVICE_FAILED] = "failed",
                [MK_SERVICE_STOPPING] = "stopping",   [MK_SERVICE_STOPPED] = "stopped",
        };
        if ((unsigned) status >= ELEMENTSOF(table))
                return NULL;
        return table[status];
}

int mk_condition_from_string(const char *s, MkCondition *ret) {
        static const struct {
                const char *name;
                MkCondition c;
        } table[] = {
                { "process_started", MK_CONDITION_STARTED },
                { "started", MK_CONDITION_STARTED },
                { "process_healthy", MK_CONDITION_READY },
                { "healthy", MK_CONDITION_READY },
                { "ready", MK_CONDITION_READY },
                { "process_completed_successfully", MK_CONDITION_COMPLETED },
                { "completed", MK_CONDITION_COMPLETED },
                { "process_log_ready", MK_CONDITION_LOG_READY },
                { "log_ready", MK_CONDITION_LOG_READY },
        };
        for (size_t i = 0; s && i < ELEMENTSOF(table); i++)
                if (strcmp(s, table[i].name) == 0) {
                        if (ret)
                                *ret = table[i].c;
                        return 0;
                }
        return -EINVAL;
}

const char *mk_group_get_error(MkGroup *g) {
        return g ? g->error : NULL;
}

const char *mk_group_get_failed(MkGroup *g) {
        return g ? g->failed : NULL;
}
