/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The systemd notify bridge: when we run as a Type=notify service
 * (NOTIFY_SOCKET is set for us), tell systemd when the service is ready
 * and when it is being torn down. The service never sees our NOTIFY_SOCKET
 * (service.c removes it from its environment). */
#pragma once

#include <stdbool.h>

#include "mirakuru.h"

bool notify_bridge_enabled(void);
/* STATUS= with the text; nothing without NOTIFY_SOCKET. */
void notify_bridge_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* READY=1 and a STATUS= line naming the service and its pid. */
void notify_bridge_ready(MkExecutor *e);
/* STOPPING=1 and a STATUS= line. */
void notify_bridge_stopping(MkExecutor *e);
