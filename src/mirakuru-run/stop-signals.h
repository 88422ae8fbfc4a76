/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The signals that ask mirakuru-run to stop: SIGINT, SIGTERM, SIGHUP. */
#pragma once

#include <systemd/sd-event.h>

/* Blocks them and has EVENT call HANDLER with USERDATA for each. 0 or a
 * negative errno. */
int stop_signals_watch(sd_event *event, sd_event_signal_handler_t handler, void *userdata);
