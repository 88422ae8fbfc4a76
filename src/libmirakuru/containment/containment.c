/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containment.h"
#include "escapees.h"

/* Tried in this order for MK_CONTAINMENT_AUTO. */
static const ContainmentOps *const backends[] = {
        &containment_systemd_ops,
        &containment_cgroup_ops,
        &containment_process_group_ops,
};

/* Frees the copies and resets them: a failed params_copy() cleans up after
 * itself, and containment_free() calls this again. */
static void params_done(ContainmentParams *p) {
        free((char *) p->name);
        free((char *) p->description);
        free((char *) p->bus_address);
        p->name = p->description = p->bus_address = NULL;
}

static int params_copy(const ContainmentParams *from, ContainmentParams *to) {
        *to = (ContainmentParams) { .kill_signal = from->kill_signal };
        if ((from->name && !(to->name = strdup(from->name))) ||
            (from->description && !(to->description = strdup(from->description))) ||
            (from->bus_address && !(to->bus_address = strdup(from->bus_address)))) {
                params_done(to);
                return -ENOMEM;
        }
        return 0;
}

/* Sets up one backend. On failure *RET_REFUSAL says why (owned by caller). */
static int try_backend(const ContainmentOps *ops, const ContainmentParams *params, sd_event *event,
                       int64_t priority, const ContainmentCallbacks *cb, void *userdata,
                       Containment **ret, char **ret_refusal) {
        Containment *c = calloc(1, ops->size);
        int r;

        if (!c)
                return -ENOMEM;
        c->ops = ops;
        c->kind = ops->kind;
        c->pidfd = -EBADF;
        c->event = sd_event_ref(event);
        c->priority = priority;
        c->cb = *cb;
        c->userdata = userdata;
        r = params_copy(params, &c->params);
        if (r >= 0)
                r = ops->setup(c);
        if (r < 0) {
                (void) asprintf_safe(ret_refusal, "%s: %s", mk_containment_to_string(ops->kind),
                                     c->reason ?: strerror(-r));
                containment_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int containment_new(MkContainment wanted, const ContainmentParams *params, sd_event *event,
                    int64_t priority, const ContainmentCallbacks *cb, void *userdata,
                    Containment **ret, char **ret_refusal) {
        _cleanup_free_ char *refused = NULL;
        int r = -EOPNOTSUPP;

        for (size_t i = 0; i < ELEMENTSOF(backends); i++) {
                const ContainmentOps *ops = backends[i];
                Containment *c = NULL;

                if (wanted != MK_CONTAINMENT_AUTO && ops->kind != wanted)
                        continue;
                _cleanup_free_ char *refusal = NULL;
                r = try_backend(ops, params, event, priority, cb, userdata, &c, &refusal);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        char *n;
                        if (asprintf_safe(&n, "%s%s%s", refused ?: "", refused ? "; " : "",
                                     refusal ?: "refused") < 0)
                                return -ENOMEM;
                        free(refused);
                        refused = n;
                        if (wanted != MK_CONTAINMENT_AUTO)
                                break;
                        continue;
                }
                if (refused)
                        containment_set_reason(c, "%s (not available: %s)", c->reason ?: "chosen", refused);
                else if (!c->reason)
                        containment_set_reason(c, "%s", wanted == MK_CONTAINMENT_AUTO ? "first backend that works here" : "requested");
                *ret = c;
                return 0;
        }
        if (ret_refusal)
                *ret_refusal = TAKE_PTR(refused);
        return r;
}

Containment *containment_free(Containment *c) {
        if (!c)
                return NULL;
        if (c->ops->destroy)
                c->ops->destroy(c);
        params_done(&c->params);
        safe_close(c->pidfd);
        free(c->cgroup_path);
        free(c->reason);
        free(c->leftovers);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

int containment_cgroup_fd(Containment *c) {
        return c->ops->cgroup_fd ? c->ops->cgroup_fd(c) : -EBADF;
}

bool containment_needs_gate(Containment *c) {
        return c->ops->needs_gate;
}

int containment_place(Containment *c, pid_t pid, int pidfd, bool in_cgroup) {
        c->pid = pid;
        c->main_reaped = false;
        c->pidfd = safe_close(c->pidfd);
        if (pidfd >= 0)
                c->pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3); /* -1: the kill falls back to kill() */
        c->empty_reported = false;
        return c->ops->place(c, pid, pidfd, in_cgroup);
}

int containment_signal(Containment *c, int signo) {
        return c->ops->signal(c, signo);
}

int containment_kill_all(Containment *c) {
        return c->ops->kill_all(c);
}

int containment_is_empty(Containment *c) {
        return c->ops->is_empty(c);
}

int containment_watch_empty(Containment *c) {
        int r;

        if (c->watching)
                return 0;
        c->watching = true;
        r = c->ops->watch_empty(c);
        if (r < 0)
                c->watching = false;
        return r;
}

void containment_main_exited(Containment *c) {
        c->main_reaped = true;
        if (c->ops->main_exited)
                c->ops->main_exited(c);
}

int containment_adopt(Containment *c, pid_t pid) {
        if (!c || pid <= 0)
                return 0;
        if (c->ops->adopt)
                return c->ops->adopt(c, pid);
        if (c->cgroup_path)
                return pid_in_cgroup(pid, c->cgroup_path) > 0;
        return 0;
}

Containment *containment_free_with_leftovers(Containment *c, char **leftovers) {
        static const ContainmentOps destroyed = {};

        if (!c)
                return NULL;
        if (c->ops->destroy)
                c->ops->destroy(c); /* may still kill (freed without a stop) */
        c->ops = &destroyed;
        if (c->leftovers) {
                free(*leftovers);
                *leftovers = TAKE_PTR(c->leftovers);
        }
        return containment_free(c);
}

char *containment_steal_leftovers(Containment *c) {
        return c ? TAKE_PTR(c->leftovers) : NULL;
}

void containment_placed(Containment *c, int result) {
        if (c->cb.placed)
                c->cb.placed(c, result, c->userdata);
}

void containment_emptied(Containment *c) {
        if (c->empty_reported || !c->watching)
                return;
        c->empty_reported = true;
        c->watching = false;
        if (c->cb.empty)
                c->cb.empty(c, c->userdata);
}

void containment_set_reason(Containment *c, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(c->reason);
        c->reason = s;
}

static const char *const containment_names[] = {
        [MK_CONTAINMENT_AUTO] = "auto",
        [MK_CONTAINMENT_SYSTEMD] = "systemd",
        [MK_CONTAINMENT_CGROUP] = "cgroup",
        [MK_CONTAINMENT_PROCESS_GROUP] = "process-group",
};

const char *mk_containment_to_string(MkContainment c) {
        return (unsigned) c < ELEMENTSOF(containment_names) ? containment_names[c] : NULL;
}

int mk_containment_from_string(const char *s, MkContainment *ret) {
        for (size_t i = 0; s && i < ELEMENTSOF(containment_names); i++)
                if (strcmp(s, containment_names[i]) == 0) {
                        *ret = (MkContainment) i;
                        return 0;
                }
        return -EINVAL;
}
