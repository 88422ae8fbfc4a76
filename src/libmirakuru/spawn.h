/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating a child with a pidfd: held at a start gate until released
 * (clone3), or vfork-style when no placement has to wait for its pid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef struct SpawnParams {
        char *const *argv;       /* argv of the program */
        char *const *exec_paths; /* candidate paths for argv[0], tried in order (see spawn_resolve()) */
        char *const *envp;       /* environment; may hold one "LISTEN_PID=" slot, see below */
        const char *cwd;         /* NULL: inherit */
        int stdin_fd;            /* becomes fd 0 (-1: /dev/null) */
        int stdout_fd;           /* becomes fd 1 */
        int stderr_fd;           /* becomes fd 2 */
        const int *pass_fds;     /* become fds 3, 4, ... in this order */
        size_t n_pass_fds;
        int cgroup_fd;           /* >= 0: spawn into this cgroup v2 directory (CLONE_INTO_CGROUP,
                                  * or with VFORK the child joins it before exec) */
        const struct rlimit *nofile; /* non-NULL: the child's RLIMIT_NOFILE (set before exec) */
        const char *cgroup_mount; /* non-NULL: once in its cgroup (after the gate) the child
                                   * enters a new cgroup namespace rooted there and a new mount
                                   * namespace with a cgroup2 mount of that root over this path */
        bool set_listen_pid;     /* child adds LISTEN_PID=<its pid> to its environment */
        bool vfork;              /* no gate: CLONE_VM|CLONE_VFORK, the parent waits until the child
                                  * exec'd or failed; the cost does not grow with the parent's
                                  * size. Without it: clone3 held at the gate (page tables copied). */
} SpawnParams;

typedef struct SpawnedChild {
        pid_t pid;
        int pidfd;
        int gate_fd;      /* write end of the start gate; closing it lets the child exec */
        int exec_fd;      /* read end: EOF once exec succeeded, an errno if it failed */
        bool in_cgroup;   /* CLONE_INTO_CGROUP was honoured */
        bool used_clone3; /* through clone3: the gated mode, or VFORK mode into a cgroup or
                           * sharing a large fd table (spawn-slots.h) */
        bool used_vfork;  /* VFORK mode: clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD), or clone3 with
                           * CLONE_INTO_CGROUP (CLONE_VM|CLONE_VFORK on x86_64) */
} SpawnedChild;                /* neither: the fork-like clone(CLONE_PIDFD) fallback */

/* Computes the paths spawn tries for ARGV0: itself if it holds a slash, else
 * each PATH entry joined with it (PATH: the given value, else the default
 * "/usr/local/bin:/usr/bin:/bin..."). Returns a strv. */
int spawn_resolve(const char *argv0, const char *path, char ***ret);

/* Creates the child, held at the gate. Between clone and exec the child
 * only makes async-signal-safe calls: it resets signal dispositions and the
 * mask, calls setsid(), sets up fds 0-2 and passed fds, closes every other
 * fd, waits for the gate, changes directory and execs. */
int spawn_start(const SpawnParams *params, SpawnedChild *ret);

/* Opens the gate (nothing to do in VFORK mode). */
void spawn_release(SpawnedChild *child);

/* Reads the exec result from exec_fd without blocking:
 * 1 exec succeeded (EOF), 0 not known yet, negative errno: exec (or chdir,
 * or fd setup) failed with that error. */
int spawn_read_exec_result(int exec_fd);

/* Closes fds; does not touch the process. */
void spawned_child_done(SpawnedChild *child);

/* clone3 is used unless the kernel, a seccomp filter or valgrind refuses
 * it, or $MIRAKURU_SPAWN=fork asks for the fallback (fork_with_pidfd());
 * $MIRAKURU_SPAWN=clone3 turns VFORK requests into gated clone3 (for tests
 * and the benchmark). */
