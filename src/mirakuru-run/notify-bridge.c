/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify-bridge.h"
#include "util/macro.h"

bool notify_bridge_enabled(void) {
        const char *s = getenv("NOTIFY_SOCKET");
        return s && *s;
}

static void send_state(const char *state) {
        int r;

        if (!notify_bridge_enabled())
                return;
        /* 0: keep NOTIFY_SOCKET, later messages need it too. */
        r = sd_notify(0, state);
        if (r < 0)
                log_warning("could not notify systemd: %s", strerror(-r));
        else
                log_info("told systemd: %.*s", (int) strcspn(state, "\n"), state);
}

void notify_bridge_status(const char *fmt, ...) {
        _cleanup_free_ char *text = NULL, *state = NULL;
        va_list ap;
        int r;

        if (!notify_bridge_enabled())
                return;
        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        /* A STATUS= value is one line. */
        text[strcspn(text, "\n")] = '\0';
        if (asprintf_safe(&state, "STATUS=%s", text) < 0)
                return;
        send_state(state);
}

void notify_bridge_ready(MkExecutor *e) {
        _cleanup_free_ char *state = NULL;

        if (!notify_bridge_enabled())
                return;
        pid_t pid = mk_executor_get_pid(e);
        if ((pid > 0 ? asprintf_safe(&state, "READY=1\nSTATUS=%s is ready (pid %d)", mk_executor_get_name(e), (int) pid)
                     : asprintf_safe(&state, "READY=1\nSTATUS=%s is ready", mk_executor_get_name(e))) < 0)
                return;
        send_state(state);
}

void notify_bridge_stopping(MkExecutor *e) {
        _cleanup_free_ char *state = NULL;

        if (!notify_bridge_enabled())
                return;
        if (asprintf_safe(&state, "STOPPING=1\nSTATUS=stopping %s", mk_executor_get_name(e)) < 0)
                return;
        send_state(state);
}
