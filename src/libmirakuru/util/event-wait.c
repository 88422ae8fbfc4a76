/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "event-wait.h"
#include "time-util.h"

int event_run_until(sd_event *event, const bool *done, uint64_t until) {
        while (!*done) {
                uint64_t now = now_usec(), timeout = UINT64_MAX;
                int r;

                if (until != UINT64_MAX) {
                        if (now >= until)
                                return -ETIMEDOUT;
                        timeout = until - now;
                }
                r = sd_event_run(event, timeout);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool event_can_block(sd_event *event) {
        return !event || sd_event_get_state(event) == SD_EVENT_INITIAL;
}

int event_default(sd_event **ret) {
        sd_event *event = NULL;
        uint64_t iteration;
        int r;

        r = sd_event_default(&event);
        if (r < 0)
                return r;
        if (sd_event_get_iteration(event, &iteration) == -ECHILD) {
                /* The parent's, copied by fork(): leave it be (unref is
                 * refused too) and take a loop of our own. */
                r = sd_event_new(&event);
                if (r < 0)
                        return r;
        }
        *ret = event;
        return 0;
}
