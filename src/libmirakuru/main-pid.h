/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service is its cgroup, not its first process: following the main
 * process after a launcher that exited 0 left the service running (a
 * daemonizing server), and the kill mode's "main process only" stop.
 * See "A service is its cgroup" in mirakuru.h. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"

typedef struct MkExecutor MkExecutor;

typedef struct MainPid {
        bool following;   /* the launcher exited 0 and left processes: the service goes on */
        bool ended;       /* following: the main process (none known: every process) is gone */
        pid_t pid;        /* the followed main process, 0 while unknown */
        int pidfd;
        sd_event_source *source;
        pid_t hint;       /* the last MAINPID= */
        bool guessed;     /* pid is the single process that was left (no MAINPID=, no pid file) */
        bool watch_empty_pending; /* nothing was left at the launcher's exit (no cgroup): the pid
                                   * file will name the daemon; emptiness counts from then on */
        MkExit launcher_exit;
} MainPid;

/* Hooks for executor.c. */
/* The launcher was reaped (e->exit holds how): true when the service goes
 * on without it, and the exit must not be reported. */
bool main_pid_launcher_exited(MkExecutor *e);
/* Look for the main process again (ready, a probe passed). */
void main_pid_update(MkExecutor *e);
/* The containment reported every process gone: true when that ended a
 * followed service (and was reported). */
bool main_pid_service_empty(MkExecutor *e);
/* The stop signal, honouring the kill mode; returns like containment_signal(). */
int main_pid_stop_signal(MkExecutor *e, int signo, bool graceful);
/* The main process: after a hand-over the followed one (0 while unknown);
 * before, the pid file's process when the first pid file probe names a
 * live process of the service (systemd's PIDFile=), else the launcher. */
pid_t main_pid_current(MkExecutor *e);
/* Releases what one run holds. */
void main_pid_reset(MkExecutor *e);

/* For probes: MAINPID= from the notify socket. */
void executor_main_pid_hint(MkExecutor *e, pid_t pid);
/* The pid in the first pid file probe's file when it names a live process
 * of the service, else 0 (pidfile.c). */
pid_t executor_pid_file_pid(MkExecutor *e);
/* Whether the service has a pid file probe that checks the pid (pidfile.c). */
bool executor_has_pid_file(MkExecutor *e);
