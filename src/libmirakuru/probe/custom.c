/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The custom probe: the caller's check (mirakuru's after_start_check),
 * called once at start, then every interval and/or on each output line,
 * until it says ready (> 0) or fails (< 0). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor-private.h"
#include "probe.h"

typedef struct CustomProbe {
        Probe probe;
        MkCheckHandler check;
        void *userdata;
        uint64_t interval_usec;
        bool on_output;
        unsigned n_calls;
        sd_event_source *timer;
} CustomProbe;

/* Calls the check; true if the probe is settled (passed or failed). */
static bool custom_call(CustomProbe *c) {
        int r;

        c->n_calls++;
        r = c->check(c->probe.executor, c->userdata);
        if (r > 0) {
                probe_set_status(&c->probe, "check passed");
                probe_passed(&c->probe);
                return true;
        }
        if (r < 0) {
                probe_failed(&c->probe, r, "the check failed: %s", strerror(-r));
                return true;
        }
        probe_set_status(&c->probe, "check said not ready (%u call%s)", c->n_calls, c->n_calls == 1 ? "" : "s");
        return false;
}

static int on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        CustomProbe *c = userdata;
        int r;

        if (custom_call(c))
                return 0;
        r = probe_arm_timer(&c->probe, &c->timer, c->interval_usec, on_timer);
        if (r < 0)
                probe_failed(&c->probe, r, "cannot arm the check timer: %s", strerror(-r));
        return 0;
}

static int custom_start(Probe *p) {
        CustomProbe *c = (CustomProbe *) p;

        c->n_calls = 0;
        if (custom_call(c))
                return 0;
        if (c->interval_usec > 0)
                return probe_arm_timer(p, &c->timer, c->interval_usec, on_timer);
        return 0;
}

static void custom_line(Probe *p, MkStream stream _unused_, const char *line _unused_, size_t length _unused_) {
        CustomProbe *c = (CustomProbe *) p;

        if (c->on_output)
                (void) custom_call(c);
}

static void custom_cancel(Probe *p) {
        CustomProbe *c = (CustomProbe *) p;

        c->timer = sd_event_source_disable_unref(c->timer);
}

static const ProbeOps custom_ops = {
        .name = "custom",
        .size = sizeof(CustomProbe),
        .start = custom_start,
        .line = custom_line,
        .cancel = custom_cancel,
        .done = custom_cancel,
};

int mk_executor_add_custom_probe(MkExecutor *e, MkCheckHandler check, void *userdata,
                                 uint64_t interval_usec, bool on_output) {
        CustomProbe *c;
        int r;

        if (!e)
                return -EINVAL;
        if (!check) {
                executor_set_error(e, "custom probe: no check function");
                return -EINVAL;
        }
        if (interval_usec == 0 && !on_output) {
                executor_set_error(e, "custom probe: neither an interval nor on_output: the check would run only once");
                return -EINVAL;
        }
        c = (CustomProbe *) probe_alloc(&custom_ops);
        if (!c)
                return -ENOMEM;
        c->check = check;
        c->userdata = userdata;
        c->interval_usec = interval_usec;
        c->on_output = on_output;
        r = executor_add_probe(e, &c->probe);
        if (r < 0)
                probe_free(&c->probe);
        return r;
}
