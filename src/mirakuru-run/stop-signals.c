/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>

#include "stop-signals.h"
#include "util/macro.h"

int stop_signals_watch(sd_event *event, sd_event_signal_handler_t handler, void *userdata) {
        static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
        struct sigaction old, dfl = { .sa_handler = SIG_DFL }, ign = { .sa_handler = SIG_IGN };
        sigset_t mask;
        int r;

        /* A reader that went away ends forwarding (EPIPE), never us. */
        if (sigaction(SIGPIPE, &ign, NULL) < 0)
                return -errno;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                if (sigaction(signals[i], NULL, &old) < 0)
                        return -errno;
                /* Started with '&' from a script, SIGINT comes ignored: an ignored
                 * signal is dropped even when blocked, and `kill -INT` must still
                 * stop us. SIGHUP ignored is nohup(1) asking: left alone. */
                if (old.sa_handler == SIG_IGN) {
                        if (signals[i] == SIGHUP)
                                continue;
                        if (sigaction(signals[i], &dfl, NULL) < 0)
                                return -errno;
                }
                sigaddset(&mask, signals[i]);
        }
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++) {
                if (!sigismember(&mask, signals[i]))
                        continue;
                r = sd_event_add_signal(event, NULL, signals[i], handler, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}
