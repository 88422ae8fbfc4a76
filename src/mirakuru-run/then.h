/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --then: run a shell command once the service is ready and report its
 * exit status. The command inherits our stdin, stdout and stderr, and gets
 * MIRAKURU_PID, MIRAKURU_NAME and, with socket activation,
 * MIRAKURU_LISTEN_PORT / MIRAKURU_LISTEN_PORTS in its environment. */
#pragma once

#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"

typedef struct Then Then;

/* Called once with the shell's view of how the command ended: its exit
 * code, or 128+N when signal N killed it. */
typedef void (*ThenDoneHandler)(Then *t, int status, void *userdata);

/* Starts /bin/sh -c COMMAND for the ready service E (NULL: for a group,
 * without MIRAKURU_PID and MIRAKURU_NAME); N_LISTEN is the number
 * of --listen TCP sockets whose ports go into the environment. */
int then_start(const char *command, MkExecutor *e, unsigned n_listen, sd_event *event,
               ThenDoneHandler done, void *userdata, Then **ret);
/* Passes SIGNO on to the command. */
int then_signal(Then *t, int signo);
/* While T's command runs (T may be NULL): passes the signal SI on to it,
 * unless a terminal sent it (SI_KERNEL) and so already reached the
 * command's process group, and returns true. Else false. */
bool then_forward_signal(Then *t, const struct signalfd_siginfo *si);
pid_t then_get_pid(Then *t);
/* Frees; a command still running is killed with SIGKILL and reaped. */
Then *then_free(Then *t);
