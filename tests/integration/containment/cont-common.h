/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the containment tests share: the backend under test and a cgroup
 * of the test's own to work in, cont-tree services and the pids they
 * recorded, and the report a forked supervisor writes about its guards. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mirakuru.h"

/* What cont_tree_service() gives a service: upper bounds only. */
#define CONT_START_TIMEOUT_USEC (60 * MK_USEC_PER_SEC)
#define CONT_STOP_TIMEOUT_USEC (300 * MK_USEC_PER_MSEC)

/* The backend in $MIRAKURU_TEST_CONTAINMENT (cgroup, process-group or
 * systemd), its name in *RET_WHICH; exits with EXIT_FAILURE and a usage
 * line if it is not set to one of those. */
MkContainment cont_backend_from_env(const char **ret_which);
/* Readies the machine for BACKEND: the cgroup backend enters a cgroup of
 * the test's own (cont_cgroup_enter(), returned); the systemd backend
 * skips all (77) unless run in the sandbox ($MIRAKURU_TEST_BUS). NULL
 * for the other backends. */
const char *cont_backend_enter(MkContainment backend);

/* Skips (77) unless root with a writable cgroup v2 hierarchy. Makes
 * <own cgroup>/cont-test-<pid>, moves this process into it and registers
 * an atexit handler that moves back, kills whatever is left there and
 * removes the directory tree. Returns the directory. */
const char *cont_cgroup_enter(void);
/* Undoes cont_cgroup_enter() (idempotent). */
void cont_cgroup_leave(void);
/* The cgroup2 mount point, or NULL. */
char *cont_cgroup_mount(void);
/* Reads DIR/pids. */
pid_t *cont_read_pids(const char *dir, size_t *ret_n);
/* True if PATH (a cgroup directory) is gone within USEC. */
bool cont_wait_gone(const char *path, uint64_t usec);
/* Reaps any zombie children (orphans that reparented to a subreaper test). */
void cont_reap_zombies(void);
/* The live (not zombie) children of PARENT, found through the ppid in
 * /proc/PID/stat (malloc'd; *RET_N may be 0). */
pid_t *cont_children(pid_t parent, size_t *ret_n);
/* The comm of PID (malloc'd), or NULL. */
char *cont_comm(pid_t pid);
/* The live children of PARENT that are not in SERVICES (N_SERVICES pids):
 * the guard(s). No assertions (usable in a forked child). */
pid_t *cont_guards(pid_t parent, const pid_t *services, size_t n_services, size_t *ret_n);
/* The path of the cont-tree helper (found once, kept). */
const char *cont_tree(void);
/* Starts "cont-tree tree N DIR" (N processes recording their pids in
 * DIR/pids, "ready" on stdout) as a service named "tree" on BACKEND
 * (with $MIRAKURU_TEST_BUS for systemd), attached to EVENT if not NULL,
 * with the CONT_*_TIMEOUT_USEC timeouts, stopped by STOP_SIGNAL (0: the
 * default, SIGTERM). Checks it got BACKEND. NULL on failure, the reason
 * on stderr; no assertions (usable in a forked child). */
MkExecutor *cont_tree_service(MkContainment backend, sd_event *event, const char *n, const char *dir,
                              int stop_signal);
/* True if DIR/pids records EXPECTED pids, all alive. No assertions. */
bool cont_all_alive(const char *dir, size_t expected);
/* True if DIR/pids records pids and all of them are gone within USEC;
 * names each survivor on stderr. No assertions. */
bool cont_all_gone(const char *dir, uint64_t usec);

/* What a forked supervisor says about itself on a pipe: "old PID" lines
 * (a guard it killed, written by the caller), cont_report()'s "guard PID
 * COMM" and "cg PATH" lines, and "end". */
typedef struct ContReport {
        pid_t old;
        pid_t guards[8];
        size_t n_guards; /* all "guard" lines, even beyond ELEMENTSOF(guards) */
        char *cgroups[8];
        size_t n_cgroups;
} ContReport;

/* Writes to F a "guard PID COMM" line for each live child of ours that
 * is none of MAINS (N_MAINS pids), a "cg PATH" line for each of E (N_E
 * executors) that has a cgroup, and "end". No assertions (usable in a
 * forked child). */
void cont_report(FILE *f, const pid_t *mains, size_t n_mains, MkExecutor **e, size_t n_e);
/* Reads what cont_report() wrote into *R (takes FD); with GUARD_COMM,
 * asserts that each guard has that comm. False if the writer ended
 * before "end" (it failed first). */
bool cont_read_report(int fd, const char *guard_comm, ContReport *r);
/* Frees what cont_read_report() put into R. */
void cont_report_done(ContReport *r);
