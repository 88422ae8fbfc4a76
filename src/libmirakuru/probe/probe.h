/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readiness probes: one file per probe behind ProbeOps. A probe sees the
 * executor only through the probe_* functions below (the loop, the pid, the
 * cgroup, output lines); never another probe, never a containment backend. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "util/macro.h"

typedef struct Probe Probe;

typedef struct ProbeOps {
        const char *name; /* "tcp", "http", ... for messages */
        size_t size;      /* of the probe's struct, which starts with Probe */
        /* Keeps its event sources after passing, until the service is gone
         * (the notify socket); cancel() is then called when the run ends. */
        bool keep_listening;

        /* Before spawning: > 0 if something already answers where this probe
         * looks (set the status to say what), 0 if not. May be NULL. */
        int (*pre_check)(Probe *p);
        /* Before spawning: add environment and fds for the child
         * (probe_child_env(), probe_child_fd()). May be NULL. */
        int (*prepare)(Probe *p);
        /* The service was exec'd: start checking. Call probe_passed() when
         * ready (maybe from within start), probe_failed() for a fatal error. */
        int (*start)(Probe *p);
        /* Every line the service prints (NUL terminated at LENGTH, which
         * counts NULs within it). May be NULL. */
        void (*line)(Probe *p, MkStream stream, const char *line, size_t length);
        /* Stop every event source and request (after passing, on failure, on stop). */
        void (*cancel)(Probe *p);
        /* Free the probe's own fields (not p itself). May be NULL. */
        void (*done)(Probe *p);
} ProbeOps;

struct Probe {
        const ProbeOps *ops;
        MkExecutor *executor; /* only for the probe_* functions */
        bool started;
        bool passed;
        char *status;         /* what it last saw, for messages */
};

/* Allocates OPS->size bytes, zeroed, with ops set. */
Probe *probe_alloc(const ProbeOps *ops);
/* Cancels and frees. */
Probe *probe_free(Probe *p);
/* Registers P with executor E (which then owns it). -EBUSY while running. */
int executor_add_probe(MkExecutor *e, Probe *p);

/* The executor's view, for probes. */
sd_event *probe_event(Probe *p);
int64_t probe_priority(Probe *p);
pid_t probe_pid(Probe *p);
const char *probe_cgroup(Probe *p);       /* NULL without a cgroup */
/* Whether PID, named as the service's main process, belongs to the
 * service; taken in where the containment can (containment_adopt()). */
int probe_adopt(Probe *p, pid_t pid);
uint64_t probe_deadline(Probe *p);        /* CLOCK_MONOTONIC usec, or MK_USEC_INFINITY */
void probe_extend_deadline(Probe *p, uint64_t usec); /* deadline = now + usec, if later */
/* Environment and fds for the child (in prepare()). probe_child_fd returns
 * the fd number the child will see it as (3, 4, ...); FD stays the probe's. */
int probe_child_env(Probe *p, const char *name, const char *value);
int probe_child_fd(Probe *p, int fd);
void probe_child_listen_pid(Probe *p); /* the child gets LISTEN_PID=<its pid> */
/* FD becomes fd NUMBER (3 <= NUMBER < PROBE_CHILD_FD_MAX) in the child;
 * lower numbers nobody claimed are /dev/null there. Returns NUMBER, -EBUSY
 * if another probe has it. */
#define PROBE_CHILD_FD_MAX 1024
int probe_child_fd_at(Probe *p, int fd, int number);

/* The INDEX-th (from 0) probe of E with OPS, or NULL (for getters). */
Probe *executor_find_probe(MkExecutor *e, const ProbeOps *ops, unsigned index);
/* How many probes of P's kind come before P; *RET_COUNT: how many there are. */
unsigned probe_index(Probe *p, unsigned *ret_count);

/* Retrying (tcp, unix, exec): the delay before retry number ATTEMPT (0 for
 * the first), doubling from the first delay up to the cap set with
 * mk_executor_set_probe_retry(). */
#define PROBE_RETRY_FIRST_USEC ((uint64_t) 1000)
#define PROBE_RETRY_MAX_USEC ((uint64_t) 100 * 1000)
uint64_t probe_retry_delay(Probe *p, unsigned attempt);
/* The listen watch's interval (mk_executor_set_listen_poll()); 0: off. */
uint64_t probe_listen_poll(Probe *p);
/* mk_executor_set_listen_event(): may the watch try the tracepoint? */
bool probe_listen_event(Probe *p);
/* What the watch does, for mk_executor_get_listen_watch() (REASON: why not events). */
void probe_set_listen_watch(Probe *p, MkListenWatch how, const char *reason);
void probe_count_listen_event(Probe *p);
/* Arms *S (creating it if needed) as a one-shot CLOCK_MONOTONIC timer USEC
 * from now at the executor's priority, calling CB with P. */
int probe_arm_timer(Probe *p, sd_event_source **s, uint64_t usec, sd_event_time_handler_t cb);
/* Watches FD for EVENTS at the executor's priority, calling CB with P. */
int probe_add_io(Probe *p, sd_event_source **s, int fd, uint32_t events, sd_event_io_handler_t cb);

void probe_passed(Probe *p);
/* For keep_listening probes: the service named its main process (MAINPID=),
 * or said something on the notify socket (see MkNotifyHandler). */
void probe_main_pid(Probe *p, pid_t pid);
void probe_notify(Probe *p, const char *status, unsigned flags);
/* A fatal problem: the start fails with ERROR (negative errno). */
void probe_failed(Probe *p, int error, const char *fmt, ...) _printf_(3, 4);
/* What it last saw ("connection refused", "HTTP 503"). */
void probe_set_status(Probe *p, const char *fmt, ...) _printf_(2, 3);
