/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The probe table's common part, and the executor's view given to probes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor-private.h"
#include "probe.h"
#include "util/strv.h"
#include "util/time-util.h"

Probe *probe_alloc(const ProbeOps *ops) {
        Probe *p = calloc(1, ops->size);
        if (p)
                p->ops = ops;
        return p;
}

Probe *probe_free(Probe *p) {
        if (!p)
                return NULL;
        if (p->started && p->ops->cancel)
                p->ops->cancel(p);
        if (p->ops->done)
                p->ops->done(p);
        free(p->status);
        free(p);
        return NULL;
}

int executor_add_probe(MkExecutor *e, Probe *p) {
        Probe **l;

        if (!e || !p)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        l = realloc(e->probes, (e->n_probes + 1) * sizeof(Probe *));
        if (!l)
                return -ENOMEM;
        e->probes = l;
        e->probes[e->n_probes++] = p;
        p->executor = e;
        return 0;
}

sd_event *probe_event(Probe *p) {
        return p->executor->event;
}

int64_t probe_priority(Probe *p) {
        return p->executor->priority;
}

pid_t probe_pid(Probe *p) {
        return p->executor->child.pid;
}

const char *probe_cgroup(Probe *p) {
        return p->executor->containment ? p->executor->containment->cgroup_path : NULL;
}

uint64_t probe_deadline(Probe *p) {
        return p->executor->deadline;
}

void probe_extend_deadline(Probe *p, uint64_t usec) {
        MkExecutor *e = p->executor;
        uint64_t d = usec_add(now_usec(), usec);

        if (d <= e->deadline)
                return;
        e->deadline = d;
        if (e->deadline_source) {
                (void) sd_event_source_set_time(e->deadline_source, d);
                (void) sd_event_source_set_enabled(e->deadline_source, SD_EVENT_ONESHOT);
        }
}

int probe_child_env(Probe *p, const char *name, const char *value) {
        return env_set(&p->executor->child_env, name, value);
}

int probe_child_fd(Probe *p, int fd) {
        MkExecutor *e = p->executor;
        int *l = realloc(e->child_fds, (e->n_child_fds + 1) * sizeof(int));

        if (!l)
                return -ENOMEM;
        e->child_fds = l;
        e->child_fds[e->n_child_fds] = fd;
        return 3 + (int) e->n_child_fds++;
}

void probe_child_listen_pid(Probe *p) {
        p->executor->child_listen_pid = true;
}

void probe_passed(Probe *p) {
        MkExecutor *e = p->executor;

        if (p->passed)
                return;
        p->passed = true;
        if (p->started && p->ops->cancel)
                p->ops->cancel(p);
        p->started = false;
        executor_probe_passed(e);
}

void probe_failed(Probe *p, int error, const char *fmt, ...) {
        MkExecutor *e = p->executor;
        _cleanup_free_ char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        executor_set_error(e, "%s: %s probe failed: %s", e->name, p->ops->name, s ?: strerror(-error));
        executor_probe_failed(e, error);
}

void probe_set_status(Probe *p, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(p->status);
        p->status = s;
}
