/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the containment tests share: a cgroup of the test's own to work in,
 * and the pids a cont-tree helper recorded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
/* Number of open fds of PID, or -1. */
int cont_count_fds_of(pid_t pid);
/* The live children of PARENT that are not in SERVICES (N_SERVICES pids):
 * the guard(s). No assertions (usable in a forked child). */
pid_t *cont_guards(pid_t parent, const pid_t *services, size_t n_services, size_t *ret_n);
