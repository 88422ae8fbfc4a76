/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>

#include "stop-signals.h"
#include "util/macro.h"

int stop_signals_watch(sd_event *event, sd_event_signal_handler_t handler, void *userdata) {
        static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                sigaddset(&mask, signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                r = sd_event_add_signal(event, NULL, signals[i], handler, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}
