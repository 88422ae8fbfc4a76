/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Learning from the kernel, without polling, that some socket started to
 * listen on a TCP port: the sock:inet_sock_set_state tracepoint, opened with
 * perf_event_open() on every online CPU (system-wide: pid -1) and filtered
 * in the kernel to "newstate == TCP_LISTEN && sport == PORT && protocol ==
 * IPPROTO_TCP". Each CPU's event has a two-page ring whose samples are
 * consumed (not parsed) on wake-up; its fd is an io source on the loop, so
 * nothing wakes the supervisor until a socket on that port listens.
 *
 * The tracepoint fires for every network namespace and address, and just
 * before the socket is hashed: it is a hint to look now (with sock_diag, see
 * listen-watch.c), never an answer.
 *
 * Needs CAP_PERFMON (or CAP_SYS_ADMIN, or kernel.perf_event_paranoid <= -1)
 * and the tracepoint's id, read from tracefs: from /sys/kernel/tracing or
 * /sys/kernel/debug/tracing when mounted, else (with CAP_SYS_ADMIN) from a
 * short-lived child that mounts tracefs in a mount namespace of its own, so
 * nothing is mounted where the caller can see it. The id (or why there is
 * none) is kept for the life of the process. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct ListenEvent ListenEvent;

/* Called from the loop after one or more matching state changes. */
typedef void (*listen_event_handler_t)(void *userdata);

/* Watches for a TCP socket that starts to listen on PORT; HANDLER runs on
 * EVENT at PRIORITY. A negative errno when the kernel will not, with
 * *RET_REASON (allocated) saying what refused. */
int listen_event_new(sd_event *event, int64_t priority, uint16_t port, listen_event_handler_t handler,
                     void *userdata, ListenEvent **ret, char **ret_reason);
ListenEvent *listen_event_free(ListenEvent *l);

/* How many wake-ups with samples L has seen. */
uint64_t listen_event_wakeups(const ListenEvent *l);
