/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fault tests share: the misbehaving service, pid records, and
 * the one assertion every case ends with: nothing left running. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mirakuru.h"

/* Upper bounds only (the machine is shared and noisy). */
#define FAULT_GONE_USEC (10 * MK_USEC_PER_SEC)
#define FAULT_WAIT_USEC (30 * MK_USEC_PER_SEC)

/* Path of tests/helpers/fault-service. */
const char *fault_service(void);
/* The pids in FILE, one per line (as fault-service's record/child write). */
pid_t *fault_read_pids(const char *file, size_t *ret_n);
/* Waits up to USEC for FILE to list at least N pids; returns them. */
pid_t *fault_wait_pids(const char *file, size_t n, uint64_t usec, size_t *ret_n);
/* Fails the test unless every pid in PIDS is gone within USEC; says which survived. */
void fault_assert_gone(const pid_t *pids, size_t n, uint64_t usec, const char *what);
/* Fails unless the cgroup directory PATH is gone within USEC. */
void fault_assert_cgroup_gone(const char *path, uint64_t usec);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
uint16_t fault_free_port(void);
/* Reaps zombie children (services reparented to us if we are a subreaper). */
void fault_reap(void);
/* True if the error message E contains NEEDLE; prints E either way. */
bool fault_error_has(MkExecutor *e, const char *needle);

/* Our own cgroup v2 directory (malloc'd), NULL without one. */
char *fault_own_cgroup(void);
/* Kills and removes (with directory fds, any depth) every cgroup below our
 * own whose name starts with "mirakuru-<SUPERVISOR>-": what a supervisor
 * of ours left behind. Returns how many there were. */
int fault_cgroup_cleanup(pid_t supervisor);
/* Runs mirakuru-run ARGS (NULL-terminated) with stderr to ERR_FILE. When
 * MARK_FILE is given, *RET_AFTER_MARK_USEC gets the time from when
 * MARK_FILE first held a line until mirakuru-run exited. Kills it (and what
 * it left) after LIMIT_USEC: returns -1 then, else its exit status. */
int fault_run_cli(const char *const *args, const char *err_file, const char *mark_file, uint64_t limit_usec,
                  uint64_t *ret_after_mark_usec, pid_t *ret_pid);
/* Kills everything in the cgroup PATH and removes it with what is below it. */
void fault_remove_cgroup_tree(const char *path);
