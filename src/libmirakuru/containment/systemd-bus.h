/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* Connections to a systemd manager, shared by the scopes of one process
 * that run on the same event loop: one connection, one Subscribe() and one
 * look for stale scopes per manager, not per scope. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* A connection to ADDRESS (NULL: the user bus) attached to EVENT, opened
 * and subscribed to the manager's signals if there is none yet (then
 * *RET_FRESH is true). Failures are appended to *REFUSALS. Give it back
 * with systemd_bus_put(). */
int systemd_bus_get(const char *address, sd_event *event, int64_t priority, sd_bus **ret, bool *ret_fresh,
                    char **refusals);
/* Gives BUS back; the last user closes it. NULL is fine. */
void systemd_bus_put(sd_bus *bus);
/* Appends "FMT" to the "; "-separated list *LIST. */
void systemd_append_refusal(char **list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
