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

int probe_adopt(Probe *p, pid_t pid) {
        return containment_adopt(p->executor->containment, pid);
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

int probe_child_fd_at(Probe *p, int fd, int number) {
        MkExecutor *e = p->executor;
        size_t slot;

        if (fd < 0 || number < 3 || number >= PROBE_CHILD_FD_MAX)
                return -EINVAL;
        slot = (size_t) number - 3;
        if (slot < e->n_child_fds) {
                if (e->child_fds[slot] >= 0)
                        return -EBUSY;
                e->child_fds[slot] = fd;
                return number;
        }
        int *l = realloc(e->child_fds, (slot + 1) * sizeof(int));
        if (!l)
                return -ENOMEM;
        e->child_fds = l;
        /* Holes become /dev/null in the child (spawn opens it for a negative fd). */
        while (e->n_child_fds < slot)
                e->child_fds[e->n_child_fds++] = -EBADF;
        e->child_fds[e->n_child_fds++] = fd;
        return number;
}

Probe *executor_find_probe(MkExecutor *e, const ProbeOps *ops, unsigned index) {
        for (size_t i = 0; e && i < e->n_probes; i++)
                if (e->probes[i]->ops == ops && index-- == 0)
                        return e->probes[i];
        return NULL;
}

unsigned probe_index(Probe *p, unsigned *ret_count) {
        MkExecutor *e = p->executor;
        unsigned index = 0, count = 0;

        for (size_t i = 0; i < e->n_probes; i++) {
                if (e->probes[i] == p)
                        index = count;
                if (e->probes[i]->ops == p->ops)
                        count++;
        }
        if (ret_count)
                *ret_count = count;
        return index;
}

void probe_passed(Probe *p) {
        MkExecutor *e = p->executor;

        if (p->passed)
                return;
        p->passed = true;
        if (!p->ops->keep_listening) {
                if (p->started && p->ops->cancel)
                        p->ops->cancel(p);
                p->started = false;
        }
        executor_probe_passed(e);
}

void probe_main_pid(Probe *p, pid_t pid) {
        executor_main_pid_hint(p->executor, pid);
}

void probe_notify(Probe *p, const char *status, unsigned flags) {
        executor_notify(p->executor, status, flags);
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

int mk_executor_set_probe_retry(MkExecutor *e, uint64_t first_usec, uint64_t max_usec) {
        if (!e || first_usec == 0 || max_usec < first_usec)
                return -EINVAL;
        e->probe_retry_first_usec = first_usec;
        e->probe_retry_max_usec = max_usec;
        return 0;
}

int mk_executor_set_listen_poll(MkExecutor *e, uint64_t interval_usec) {
        if (!e || (interval_usec > 0 && interval_usec < 100))
                return -EINVAL;
        e->listen_poll_usec = interval_usec;
        return 0;
}

uint64_t probe_listen_poll(Probe *p) {
        return p->executor->listen_poll_usec;
}

int mk_executor_set_listen_event(MkExecutor *e, bool enabled) {
        if (!e)
                return -EINVAL;
        e->listen_event = enabled;
        return 0;
}

MkListenWatch mk_executor_get_listen_watch(MkExecutor *e) {
        return e ? e->listen_watch : MK_LISTEN_WATCH_NONE;
}

const char *mk_executor_get_listen_watch_reason(MkExecutor *e) {
        return e ? e->listen_watch_reason : NULL;
}

uint64_t mk_executor_get_listen_events(MkExecutor *e) {
        return e ? e->listen_events : 0;
}

bool probe_listen_event(Probe *p) {
        return p->executor->listen_event;
}

void probe_set_listen_watch(Probe *p, MkListenWatch how, const char *reason) {
        MkExecutor *e = p->executor;

        e->listen_watch = how;
        free(e->listen_watch_reason);
        e->listen_watch_reason = reason ? strdup(reason) : NULL;
}

void probe_count_listen_event(Probe *p) {
        p->executor->listen_events++;
}

uint64_t probe_retry_delay(Probe *p, unsigned attempt) {
        MkExecutor *e = p->executor;
        uint64_t d = e->probe_retry_first_usec ?: PROBE_RETRY_FIRST_USEC;
        uint64_t max = e->probe_retry_max_usec ?: MAX(PROBE_RETRY_MAX_USEC, d);

        for (unsigned i = 0; i < attempt && d < max; i++)
                d = d > max / 2 ? max : d * 2;
        return MIN(d, max);
}

int probe_arm_timer(Probe *p, sd_event_source **s, uint64_t usec, sd_event_time_handler_t cb) {
        int r;

        if (*s) {
                r = sd_event_source_set_time_relative(*s, usec);
                if (r < 0)
                        return r;
                return sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        }
        /* Accuracy 1 us: 0 would mean sd-event's default of 250 ms, which
         * turns a 1 ms retry into up to a quarter second. */
        r = sd_event_add_time_relative(probe_event(p), s, CLOCK_MONOTONIC, usec, 1, cb, p);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(*s, probe_priority(p));
}

int probe_add_io(Probe *p, sd_event_source **s, int fd, uint32_t events, sd_event_io_handler_t cb) {
        int r = sd_event_add_io(probe_event(p), s, fd, events, cb, p);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(*s, probe_priority(p));
}
