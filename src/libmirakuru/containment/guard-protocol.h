/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Between the supervisor (guard.c) and its guard process (guard-process.c):
 * the requests on their SOCK_SEQPACKET socketpair, the replies, and the
 * guard's entry point. */
#pragma once

#include <limits.h>
#include <stdint.h>

enum {
        GUARD_ADD_CGROUP = 1,    /* fds: the cgroup directory [, its parent with GUARD_FLAG_RMDIR] */
        GUARD_ADD_PROCESS_GROUP, /* fds: a pidfd of the group leader (none without
                                  * pidfd_open(2)); pgid */
        GUARD_REMOVE,            /* no fds, no reply */
};
#define GUARD_FLAG_RMDIR 1u

typedef struct GuardMessage {
        uint32_t op;
        uint32_t flags;
        uint64_t id;
        int32_t pgid;
        char name[NAME_MAX + 1]; /* the cgroup directory's name, with GUARD_FLAG_RMDIR */
} GuardMessage;

typedef struct GuardReply {
        uint64_t id;
        int32_t result; /* 0 or negative errno */
} GuardReply;

#define GUARD_MAX_FDS 2

#define GUARD_COMM "mirakuru-guard"

/* In the freshly forked child: becomes the guard of the process PIDFD
 * refers to, serving requests on SOCK, with DEVNULL as stdio. Never returns. */
_Noreturn void guard_process_run(int pidfd, int sock, int devnull);
