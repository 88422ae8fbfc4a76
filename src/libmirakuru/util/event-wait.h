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

/* Whether a blocking call may run EVENT itself: not from one of its
 * callbacks (sd_event_run() would refuse with -EBUSY), nor once it has
 * finished. A NULL EVENT (none attached yet) may be run. */
bool event_can_block(sd_event *event);
