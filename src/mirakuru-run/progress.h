/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What mirakuru-run -f shows: each service's output prefixed with its name
 * (aligned; colored when the stream is a terminal), a line per change of
 * a service's status, and on a terminal a live line while services start
 * ("starting db 1.2s"). Without a terminal, plain lines only, so CI logs
 * stay clean. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"

typedef struct Progress Progress;

/* For the services of G (names fixed from now on). QUIET: no status lines. */
int progress_new(MkGroup *g, sd_event *event, bool quiet, Progress **ret);
/* A service's status changed (call from the group's service handler). */
void progress_status(Progress *p, const char *name, MkServiceStatus status);
/* A line the service NAME printed on STREAM. */
void progress_output(Progress *p, const char *name, MkStream stream, const char *line, size_t length);
/* Ends the live line (the start is over); status lines go on. */
/* The service NAME sent STATUS= (shown in the live line, escaped). */
void progress_notify_status(Progress *p, const char *name, const char *status);
void progress_end_live(Progress *p);
Progress *progress_free(Progress *p);
