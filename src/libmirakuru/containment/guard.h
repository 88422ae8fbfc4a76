/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dead man's switch: a tiny process per service that outlives the
 * supervisor (this process) if it dies, even by SIGKILL, and then kills the
 * service. It holds a pidfd of the supervisor and sleeps in poll(); when the
 * pidfd becomes readable it writes cgroup.kill of the service's cgroup (or
 * SIGKILLs the service's process group), waits for populated 0 and removes
 * the cgroup. It lives in the supervisor's own cgroup and its own session,
 * so our teardown of the service never reaches it; a normal teardown ends
 * it with SIGKILL and reaps it. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct Guard {
        pid_t pid; /* 0: none */
        int pidfd; /* ours, so someone else's waitpid(-1) cannot make us signal a reused pid */
} Guard;

/* Starts a guard for the cgroup CGROUP (absolute path; removed afterwards
 * when REMOVE), or, with CGROUP NULL, for the process group PGID. */
int guard_start(const char *cgroup, bool remove, pid_t pgid, Guard *ret);
/* Ends and reaps the guard (no-op without one). */
void guard_stop(Guard *g);
