/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* posix_spawn()s ARGV (environment: ours plus EXTRA_ENV, may be NULL) with
 * stdout on STDOUT_FD (-1: inherit). Returns 0 and the pid, or -errno. */
int floor_spawn(char *const *argv, const char *extra_env, int stdout_fd, pid_t *ret);
/* SIGTERM, then waitpid(). */
int floor_kill_wait(pid_t pid);
