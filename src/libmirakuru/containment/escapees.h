/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes of a cgroup-contained service that left its cgroup: a root
 * service (or one that owns the cgroup above it) can write its pid into
 * another cgroup's cgroup.procs. The main process is still reached through
 * its pidfd; any other process is found while its parent chain still leads
 * to a process of the service (its parent, or an ancestor, is in the
 * cgroup or is the main process). A process that left *and* whose
 * ancestors in the service have all exited cannot be attributed (see
 * docs/containment.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The processes outside MEMBERS and other than MAIN_PID (> 0, or 0:
 * none) whose parent chain reaches one of MEMBERS or MAIN_PID, found
 * through /proc/PID/task/TID/children. The caller frees *RET. */
int escapees_find(const pid_t *members, size_t n_members, pid_t main_pid, pid_t **ret, size_t *ret_n);
/* 1 if PID's v2 cgroup is CGROUP_PATH or below it, 0 if not, negative
 * errno (-ESRCH: gone). */
int pid_in_cgroup(pid_t pid, const char *cgroup_path);
