/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run -f FILE: a process-compose style YAML file -> an MkGroup.
 * The format is described in docs/compose.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "mirakuru.h"
#include "options.h"

typedef struct Compose Compose;

/* Reads FILE and configures one executor per process on EVENT; the
 * options give defaults (--timeout, --stop-timeout, --containment ...).
 * Returns 0, or an exit status (EXIT_USAGE for a bad file, with
 * "FILE:LINE: what" on stderr; EXIT_INTERNAL). */
int compose_load(const char *file, const Options *o, sd_event *event, Compose **ret);
/* Puts the services named in SELECTED (NULL-terminated; none: every one
 * not disabled) and what they depend on into a new group. Returns 0 or an
 * exit status after logging (EXIT_USAGE for an unknown service, a cycle
 * or an unknown dependency). */
int compose_make_group(Compose *c, char *const *selected, MkGroup **ret);
/* Whether service NAME's output goes to a log file (log_location). */
bool compose_has_log_file(Compose *c, const char *name);
Compose *compose_free(Compose *c);
