/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How the blocking calls (mk_executor_start(), mk_group_stop(), ...) wait:
 * they start the asynchronous call with a Waiter as its userdata, then run
 * the loop until the done handler has filled it in. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct Waiter {
        bool done;
        int result;
} Waiter;

/* Runs EVENT until *DONE or UNTIL (CLOCK_MONOTONIC usec; UINT64_MAX, i.e.
 * MK_USEC_INFINITY: no limit) passes. 0, -ETIMEDOUT, or sd_event_run()'s
 * negative errno. */
int event_run_until(sd_event *event, const bool *done, uint64_t until);

/* This thread's default loop (sd_event_default()), or a new one where the
 * default is a copy from before a fork(): an executor of the parent
 * process kept the parent's default loop alive, and sd-event refuses every
 * use of it in the child (-ECHILD), so a child of a process that held an
 * executor (multiprocessing's fork, a test runner's worker) could start
 * nothing: "arming the start deadline (a timer): No child processes". */
int event_default(sd_event **ret);

/* Whether a blocking call may run EVENT itself: not from one of its
 * callbacks (sd_event_run() would refuse with -EBUSY), nor once it has
 * finished. A NULL EVENT (none attached yet) may be run. */
bool event_can_block(sd_event *event);
