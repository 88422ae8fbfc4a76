/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* The children of a process, from /proc/PID/task/TID/children of each of
 * its threads (CONFIG_PROC_CHILDREN, set in Debian's and most distribution
 * kernels): finding a service's processes by walking down from it costs
 * what the service has, where reading every /proc/PID/stat on the system
 * costs what the machine runs. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct PidArray {
        pid_t *pids;
        size_t n, alloc;
} PidArray;

int pid_array_push(PidArray *a, pid_t pid);
/* Whether P is among the N pids at A. */
bool pid_in(const pid_t *a, size_t n, pid_t p);
void pid_array_done(PidArray *a);

/* Whether this kernel has the children files (looked up once). */
bool proc_children_supported(void);
/* Appends the children of every thread of PID to *OUT. 0 (also when PID is
 * gone: it has no children then), or -ENOMEM. */
int proc_children_append(pid_t pid, PidArray *out);
