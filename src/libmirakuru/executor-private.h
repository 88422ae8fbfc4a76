/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The executor's insides, shared by executor*.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "containment/containment.h"
#include "mirakuru.h"
#include "probe/probe.h"
#include "spawn.h"

#define RECENT_LINES 20
#define RECENT_LINE_MAX 1000
/* How late the deadline and the stop timeout may fire (sd-event's default
 * for an accuracy of 0 is 250 ms). */
#define TIMER_ACCURACY_USEC ((uint64_t) 1000)

struct MkExecutor {
        unsigned n_ref;

        /* Configuration, kept across runs. */
        char **argv;
        char *name;
        char **env_overrides; /* "NAME=VALUE" */
        char **env_removals;  /* "NAME" */
        bool clean_env;
        char *cwd;
        int stdin_fd;
        uint64_t timeout_usec;
        uint64_t stop_timeout_usec;
        int stop_signal;
        int kill_signal;
        int expected_exit;
        size_t capture_size;
        int tee_fd[2]; /* [0] stdout, [1] stderr; owned duplicates, -EBADF for none */
        MkLineHandler line_handler;
        void *line_userdata;
        MkExitHandler exit_handler;
        void *exit_userdata;
        MkContainment containment_wanted;
        char *bus_address;
        bool pre_check;
        uint64_t probe_retry_first_usec; /* 0: PROBE_RETRY_FIRST_USEC */
        uint64_t probe_retry_max_usec;   /* 0: PROBE_RETRY_MAX_USEC */
        Probe **probes;
        size_t n_probes;

        sd_event *event;
        int64_t priority;

        /* One run, reset by each start. */
        MkState state;
        bool ever_started;
        SpawnedChild child;
        sd_event_source *exit_source;
        sd_event_source *exec_source;
        sd_event_source *deadline_source;
        sd_event_source *stop_timer;
        Capture *capture[2];
        Containment *containment;
        MkContainment containment_used;
        char *containment_reason;
        char *leftovers;      /* "PID CMDLINE\n" of what the last kill had to reach */
        char **child_env; /* probes' additions */
        int *child_fds;
        size_t n_child_fds;
        bool child_listen_pid;
        uint64_t deadline;
        bool exec_confirmed;
        bool main_reaped;
        bool service_empty;
        bool killed;          /* the kill signal had to follow the stop signal */
        bool have_exit;
        MkExit exit;
        char *recent[RECENT_LINES];
        unsigned recent_next;

        /* What is under way and who waits for it. */
        bool start_pending;
        int start_result;     /* the start's result once the teardown after a failure ends */
        bool in_start_call;   /* inside mk_executor_start_async(): report by return value */
        MkDoneHandler start_done;
        void *start_userdata;
        bool stop_pending;
        MkDoneHandler stop_done;
        void *stop_userdata;
        bool tearing_down;

        char *error;
};

/* executor.c */
void executor_set_error(MkExecutor *e, const char *fmt, ...) _printf_(2, 3);
void executor_free_run(MkExecutor *e);
/* For probe.c: a probe passed (maybe the service is ready now), or failed fatally. */
void executor_probe_passed(MkExecutor *e);
void executor_probe_failed(MkExecutor *e, int error);
