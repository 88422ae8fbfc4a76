/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the scriptable test services (cli-, core-, group-service) share.
 * Messages start with the program's name; failures exit 98 (bad arguments)
 * or 99 (a system call failed), 97 with no NOTIFY_SOCKET. */
#pragma once

#include <sys/types.h>

/* Says WHAT failed, with errno's text, and exits 99. */
_Noreturn void die(const char *what);
/* The argument that follows the action argv[*I] (advancing *I past it), or
 * says the action needs one and exits 98. */
const char *next_arg(char **argv, int *i, int argc);
void sleep_ms(long ms);
/* Writes PID and a newline to PATH atomically (through PATH.tmp and a rename). */
void write_pid_file(const char *path, pid_t pid);
/* A socket listening on 127.0.0.1 PORT. */
int tcp_listen(int port);
/* Sends TEXT (e.g. "READY=1") to $NOTIFY_SOCKET. */
void notify_send(const char *text);
