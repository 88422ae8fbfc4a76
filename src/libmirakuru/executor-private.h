/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The executor's insides, shared by executor*.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "main-pid.h"
#include "containment/containment.h"
#include "mirakuru.h"
/* The library defines mk_executor_set_argv() itself: not through the
 * header's argv macro. */
#undef mk_executor_set_argv
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
        bool tee_handed[2]; /* the next run takes tee_fd[i] (mk_executor_hand_output_fd()) */
        int direct_fd[2]; /* the service's own stdout/stderr instead of a pipe; -EBADF for none */
        MkKillMode kill_mode;
        bool no_follow_daemon; /* mk_executor_set_follow_daemon(false) */
        MkNotifyHandler notify_handler;
        void *notify_userdata;
        MkLineHandler line_handler;
        void *line_userdata;
        MkExitHandler exit_handler;
        void *exit_userdata;
        bool callbacks_during_stop;
        MkContainment containment_wanted;
        bool cgroup_namespace;
        char *bus_address;
        bool pre_check;
        MkCheckHandler pre_start_check;
        void *pre_start_userdata;
        uint64_t probe_retry_first_usec; /* 0: PROBE_RETRY_FIRST_USEC */
        uint64_t probe_retry_max_usec;   /* 0: PROBE_RETRY_MAX_USEC */
        uint64_t listen_poll_usec;       /* 0: off */
        bool listen_event;               /* try the tracepoint first */
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
        MkListenWatch listen_watch;
        char *listen_watch_reason;
        uint64_t listen_events;
        char *leftovers;      /* "PID CMDLINE\n" of what the last kill had to reach */
        char **child_env; /* probes' additions */
        int *child_fds;
        size_t n_child_fds;
        bool child_listen_pid;
        uint64_t deadline;
        bool exec_confirmed;
        bool main_reaped;
        bool service_exited;  /* executor_service_exited() was called */
        bool service_empty;
        bool killed;          /* the kill signal had to follow the stop signal */
        bool have_exit;
        MkExit exit;
        sd_event_source *exit_report_source; /* the exit handler, after a refresh found the exit */
        bool exit_reported;   /* exit_report_source has run */
        uint64_t output_cursor[2];           /* mk_executor_read_output() */
        bool quiet;           /* a stop, kill or unref began: no more callbacks of the caller */
        bool stop_override;   /* mk_executor_stop_with() for this stop */
        int override_stop_signal;
        int override_expected_exit;
        struct WaitFor *wait_for; /* a mk_executor_wait_for() under way */
        MainPid main;         /* after a launcher handed over (main-pid.c) */
        bool notify_stopping; /* the service sent STOPPING=1 */
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
        bool stop_requested;  /* a stop (not a kill or a failed start): the kill mode applies */

        char *error;
};

/* executor.c */
void executor_set_error(MkExecutor *e, const char *fmt, ...) _printf_(2, 3);
void executor_error_add_last_lines(MkExecutor *e);
/* Signals every process of the service and waits (on the loop) until all
 * are gone and the main process is reaped; GRACEFUL arms the stop timeout,
 * after which the kill signal follows. */
void executor_teardown(MkExecutor *e, int first_signal, bool graceful);
/* executor-error.c */
const char *executor_signal_name(int signo);
/* "exited with status 3", "was killed by signal 9 (KILL)"; malloc'd, or NULL. */
char *executor_describe_exit(const MkExit *x);
/* executor-env.c: the caller's environment (unless clean), less removals,
 * plus overrides, plus what the probes add. */
int executor_build_env(MkExecutor *e, char ***ret);
/* Brings the state up to date without the loop: a main process that
 * exited since the loop last ran is reaped now (its exit handler follows
 * from the loop). */
void executor_refresh(MkExecutor *e);
/* Reads what the pipes hold and delivers the lines waiting, now. */
void executor_drain_output(MkExecutor *e);
/* A blocking call runs the loop until an exit handler call that a refresh
 * left for it is delivered. */
int executor_flush_exit_report(MkExecutor *e);
/* The stop signal and expected exit code in force (mk_executor_stop_with()). */
int executor_stop_signal(MkExecutor *e);
int executor_expected_exit(MkExecutor *e);
/* Whether X is a clean end for E (executor-exit.c). */
bool executor_exit_is_clean(MkExecutor *e, const MkExit *x);
/* Sets E's error to why its exit was not a clean stop, with the last lines. */
void executor_explain_unclean_exit(MkExecutor *e);
/* executor-wait.c: output arrived while mk_executor_wait_for() waits. */
void executor_wait_for_output(MkExecutor *e);
void executor_free_run(MkExecutor *e);
/* For probe.c: a probe passed (maybe the service is ready now), or failed fatally. */
void executor_probe_passed(MkExecutor *e);
void executor_probe_failed(MkExecutor *e, int error);
/* For main-pid.c: the service's main process ended (E->exit holds how). */
void executor_service_exited(MkExecutor *e);
/* For notify.c: a datagram from the service (see MkNotifyHandler). */
void executor_notify(MkExecutor *e, const char *status, unsigned flags);

/* executor-checks.c, before a start: the pre-start check and the probes'
 * pre-checks (-EADDRINUSE: something already answers), then each probe
 * reset and prepared. Both set the error when they fail. */
int executor_run_pre_checks(MkExecutor *e);
int executor_prepare_probes(MkExecutor *e);

/* mk_executor_set_cgroup_namespace() at spawn: checks that the service has a
 * cgroup of its own and gives the cgroup2 mount point the child covers;
 * sets the error and returns a negative errno if not. */
int executor_cgroup_namespace_mount(MkExecutor *e, char **ret);
