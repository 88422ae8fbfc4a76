/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --then: run a shell command once the service is ready and report its
 * exit status. The command runs contained, like a service (an executor of
 * the library: a cgroup or process group of its own, registered with the
 * guard, default signal dispositions, an empty mask): signals we get go to
 * its whole tree, and when it ends, or we are stopped or killed, nothing
 * it started survives. It writes to our stdout and stderr directly, reads
 * our stdin, and gets MIRAKURU_PID (when a main process is known),
 * MIRAKURU_NAME and, with socket activation, MIRAKURU_LISTEN_PORT /
 * MIRAKURU_LISTEN_PORTS in its environment. */
#pragma once

#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "options.h"

typedef struct Then Then;

/* Called once, after every process of the command is gone, with the
 * shell's view of how the command ended: its exit code, or 128+N when
 * signal N killed it (EXIT_INTERNAL, 126, 127 when it could not run). */
typedef void (*ThenDoneHandler)(Then *t, int status, void *userdata);

/* Starts /bin/sh -c O->then for the ready service E (NULL: for a group,
 * without MIRAKURU_PID and MIRAKURU_NAME); O->n_listen --listen TCP
 * sockets' ports go into the environment. */
int then_start(const Options *o, MkExecutor *e, sd_event *event, ThenDoneHandler done, void *userdata,
               Then **ret);
/* While T's command runs (T may be NULL): passes the signal SI on to every
 * process of the command and returns true; a second signal while it runs,
 * or one after it ended while its leftovers are stopped: the kill signal to
 * all of them. Else false. */
bool then_forward_signal(Then *t, const struct signalfd_siginfo *si);
/* True while the command's main process runs. */
bool then_is_running(Then *t);
/* Frees; whatever of the command still runs is stopped (blocking). */
Then *then_free(Then *t);
