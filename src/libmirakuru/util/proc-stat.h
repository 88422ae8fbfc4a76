/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* /proc/PID/stat, read and parsed in one place. The command name (field 2)
 * is the process's own choice and may hold spaces and parentheses, so the
 * fields are taken after the last ')'. Async-signal-safe (no stdio, no
 * malloc): the guard process uses it after a fork. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcStat {
        char state;          /* R, S, D, Z, T, t, X, ... */
        pid_t ppid, pgrp, session;
        uint64_t start_time; /* clock ticks after boot (field 22) */
} ProcStat;

/* Parses the text of a /proc/PID/stat file (NUL-terminated). 0, or
 * -EBADMSG. */
int proc_stat_parse(const char *text, ProcStat *ret);
/* Reads and parses PATH (e.g. "1234/stat") relative to DIR_FD (AT_FDCWD
 * for an absolute path). 0, -errno of open/read (-ENOENT, -ESRCH: gone),
 * or -EBADMSG. */
int proc_stat_read_at(int dir_fd, const char *path, ProcStat *ret);
/* /proc/PID/stat of PID. */
int proc_stat_read(pid_t pid, ProcStat *ret);
/* Z (zombie) or X (dead): it has exited, whether reaped or not. */
bool proc_state_exited(char state);
