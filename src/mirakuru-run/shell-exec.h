/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A compose file's command runs with /bin/sh -c. Debian's /bin/sh (dash)
 * forks for a command it could exec, so the service's main process would be
 * the shell, not the server: the stop signal of kill_mode: mixed would go
 * to a shell that dies of it (or defers it) while the server waits for the
 * kill signal. bash -c, which process-compose uses, execs a single simple
 * command itself; this does the same for /bin/sh. */
#pragma once

/* "exec SCRIPT" when SCRIPT is one simple command that the shell would
 * run as a child and whose exec changes nothing but the pid: no operator,
 * redirection, subshell, command substitution or second line anywhere
 * (quotes are not parsed: a ';' in quotes leaves it to the shell too), and
 * a plain first word that is no assignment, reserved word or built-in
 * without a program of its own. Else NULL: leave the script as it is.
 * malloc'd; NULL also on allocation failure (the script then stays). */
char *shell_exec_simple(const char *script);
