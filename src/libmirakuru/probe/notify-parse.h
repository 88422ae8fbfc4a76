/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing one sd_notify datagram: "KEY=VALUE" lines (sd_notify(3)). Outside
 * input: every field is bounds-checked, unknown keys are skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct NotifyMessage {
        bool ready;                   /* READY=1 */
        bool stopping;                /* STOPPING=1 */
        bool reloading;               /* RELOADING=1 */
        bool watchdog;                /* WATCHDOG=1 (a keep-alive; nothing to do) */
        const char *status;           /* STATUS=, points into the datagram; NULL if absent */
        size_t status_len;
        pid_t main_pid;               /* MAINPID=, 0 if absent or invalid */
        int errno_value;              /* ERRNO=, 0 if absent or invalid */
        int exit_status;              /* EXIT_STATUS=, -1 if absent or invalid */
        uint64_t extend_timeout_usec; /* EXTEND_TIMEOUT_USEC=, 0 if absent or invalid */
} NotifyMessage;

/* Parses BUF (LEN bytes, need not be NUL-terminated). -EBADMSG for a
 * datagram holding a NUL byte (as systemd refuses them), else 0; the
 * last occurrence of a key wins. */
int notify_parse(const char *buf, size_t len, NotifyMessage *ret);
