/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running mirakuru-run with its stdout into a pipe whose reader goes away
 * or stops reading (issue 13, item 5): a shell pipeline in a process group
 * of its own, killed as a whole afterwards. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Starts `sh -c SCRIPT` with $RUN set to mirakuru-run (or its valgrind
 * wrapper) and $DIR to the test directory, in a new process group. */
pid_t pipe_spawn(const char *script);
/* Waits up to USEC for FILE to hold a line; returns its number, or -1. */
int pipe_wait_status(const char *file, uint64_t usec);
/* SIGKILL to the process group, reaped. */
void pipe_kill(pid_t pgid);
