/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dead man's switch: one guard process per supervising process (this
 * one), forked lazily at the first registration (never exec'd), that
 * outlives the supervisor if it dies, even by SIGKILL, and then kills every
 * service registered with it.
 *
 * The guard holds a pidfd of the supervisor and one end of a SOCK_SEQPACKET
 * socketpair, and sleeps in poll(). Services are registered over the socket
 * (SCM_RIGHTS): a cgroup as an fd of its directory (plus, when the guard is
 * to remove it, an fd of the parent directory and the name), a process
 * group as its pgid plus a pidfd of its leader. Each registration is
 * acknowledged, so once guard_add_*() returns the guard holds the fds; a
 * normal teardown unregisters the service and the guard closes them. When
 * the supervisor's pidfd becomes readable (it exited, whichever way), the
 * guard kills every registered service (cgroup.kill, or freeze, kill each,
 * thaw; SIGKILL to the process group), waits (bounded) for the cgroups to
 * empty, removes those it was asked to and exits. With nothing registered
 * it just exits. A guard that died (someone killed it) is replaced at the
 * next registration, and the new one is given everything still registered.
 *
 * It lives in the supervisor's cgroup (not a service's: our own teardown
 * never reaches it) and in its own session (a Ctrl-C or a kill of the
 * supervisor's process group does not either), with /dev/null as stdin,
 * stdout and stderr and no other fd of the supervisor's. A forked child of
 * the supervisor gets a guard of its own at its first registration (found
 * by getpid() changing). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One registration; { 0 } is none. */
typedef struct Guard {
        uint64_t id;
        pid_t owner; /* the process that registered it (a forked child must not unregister) */
} Guard;

/* Registers the cgroup CGROUP (absolute path); with REMOVE the guard also
 * removes the directory after killing. Unregisters *G first if it holds a
 * registration. Negative errno when no guard could be started or reached. */
int guard_add_cgroup(const char *cgroup, bool remove, Guard *g);
/* Registers the process group PGID, whose leader is the process of PIDFD
 * (not reaped yet). */
int guard_add_process_group(pid_t pgid, int pidfd, Guard *g);
/* Unregisters (no-op for { 0 }, or in a forked child of the registrant);
 * the guard closes what it held. Resets *G. */
void guard_remove(Guard *g);
