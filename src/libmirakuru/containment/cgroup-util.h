/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 plumbing shared by the cgroup and systemd backends: where the
 * hierarchy is, which processes a cgroup holds, killing them all, and the
 * names we give our cgroups (supervisor pid + start time, so a stale one
 * is recognised after a crash even when the pid was reused). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The cgroup2 mount point, from /proc/self/mounts (not always /sys/fs/cgroup). */
int cg_mount_path(char **ret);
/* The absolute path (mount + "0::" entry of /proc/PID/cgroup) of PID's v2 cgroup; 0: self. */
int cg_pid_path(pid_t pid, char **ret);
/* The pids in cgroup.procs of the cgroup CGROUP_FD and of every cgroup
 * below it (walked with directory fds, cgroup-tree.h). -ETIME with what was
 * found when the bounded walk could not finish by DEADLINE_USEC. */
int cg_read_pids(int cgroup_fd, uint64_t deadline_usec, pid_t **ret, size_t *ret_n);
/* 1 when CGROUP (or a descendant) holds a process, 0 when not (or the
 * directory is gone), negative errno. */
int cg_is_populated(const char *cgroup);
/* SIGNO to every process in the cgroup CGROUP_FD and below, frozen,
 * re-reading until a pass finds nobody new (bounded in passes and to
 * 250 ms in all: -ETIME when that ran out; the kill signal follows). */
int cg_signal_all(int cgroup_fd, int signo);
/* Kills everything in the cgroup CGROUP_FD and below now: cgroup.kill
 * (Linux 5.14) for SIGKILL, written whatever the bounded look for the
 * record found; else freeze, SIGNO to each, thaw. Processes found are
 * appended to *LEFTOVERS as "PID CMDLINE\n" lines (LEFTOVERS may be NULL). */
int cg_kill_all(int cgroup_fd, int signo, char **leftovers);
/* For teardown paths outside the loop (stale state, a free without stop):
 * waits up to TIMEOUT_MS for populated 0, watching cgroup.events with
 * inotify. 0 when empty, -ETIMEDOUT. */
int cg_wait_empty_blocking(const char *cgroup, int timeout_ms);
/* Removes the cgroup NAME below PARENT_FD and every cgroup below it, with
 * directory fds (any depth; bounded to 1 s). */
int cg_remove_at(int parent_fd, const char *name);
/* cg_remove_at() of CGROUP (an absolute path of our own: short). */
int cg_remove(const char *cgroup);

/* Start time of PID (field 22 of /proc/PID/stat, clock ticks since boot). */
int proc_start_time(pid_t pid, uint64_t *ret);
/* Appends "PID CMDLINE\n" (or "PID [COMM]" for a kernel-less cmdline) to *LIST. */
int leftovers_add(char **list, pid_t pid);
/* The same, with " (NOTE)" after the command line. */
int leftovers_add_note(char **list, pid_t pid, const char *note);

/* "mirakuru-<pid>-<starttime>-<n>" of this process, N counting up per call. */
int cg_make_name(const char *prefix, char **ret);
/* Parses a name made by cg_make_name(); true if it is one whose supervisor
 * is gone (not this process, and no process with that pid and start time). */
bool cg_name_is_stale(const char *prefix, const char *name);
/* Kills and removes every stale "PREFIX-..." cgroup directly below PARENT.
 * Returns how many were cleaned. Waits (bounded) for each to empty. */
int cg_clean_stale(const char *parent, const char *prefix);
