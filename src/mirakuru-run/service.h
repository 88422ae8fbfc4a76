/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turns the options into a configured (not yet started) MkExecutor. */
#pragma once

#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "options.h"

/* Creates the executor for O on EVENT. Returns 0, or an exit status
 * (EXIT_USAGE for input the library refuses, EXIT_INTERNAL otherwise)
 * after logging one line. */
int service_new(const Options *o, sd_event *event, MkExecutor **ret);
/* Says, with --verbose, what will be started and how readiness is checked
 * (variable names only, never their values). */
void service_describe(const Options *o, MkExecutor *e);
/* The notify handler: STATUS=, STOPPING=1, RELOADING=1 and MAINPID= in
 * --verbose messages (escaped). */
void service_on_notify(MkExecutor *e, const char *status, unsigned flags, void *userdata);
