/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The blocking calls: each starts the asynchronous operation and runs the
 * loop until it reports; and waiting for a caller's own condition. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "executor-private.h"
#include "util/event-wait.h"
#include "util/time-util.h"


static void waiter_done(MkExecutor *e _unused_, int result, void *userdata) {
        Waiter *w = userdata;
        w->done = true;
        w->result = result;
}

/* A blocking call gave up (the loop could not be run): the operation goes
 * on, but must not report to the Waiter on the caller's stack any more. */
static void forget_waiter(MkExecutor *e, Waiter *w) {
        if (e->start_done == waiter_done && e->start_userdata == w)
                e->start_done = NULL;
        if (e->stop_done == waiter_done && e->stop_userdata == w)
                e->stop_done = NULL;
}

int mk_executor_start(MkExecutor *e) {
        Waiter w = {};
        int r;

        if (e && !event_can_block(e->event))
                return -EBUSY;
        r = mk_executor_start_async(e, waiter_done, &w);
        if (r < 0)
                return r;
        if (!e->start_pending)
                return e->start_result;
        mk_executor_ref(e);
        r = event_run_until(e->event, &w.done, MK_USEC_INFINITY);
        if (r < 0)
                forget_waiter(e, &w);
        mk_executor_unref(e);
        return r < 0 ? r : w.result;
}

int mk_executor_stop(MkExecutor *e) {
        Waiter w = {};
        int r;

        if (e && (e->state != MK_STATE_IDLE || e->tearing_down) && !event_can_block(e->event))
                return -EBUSY;
        r = mk_executor_stop_async(e, waiter_done, &w);
        if (r < 0)
                return r;
        if (!w.done && !e->stop_pending)
                return r; /* nothing was running */
        mk_executor_ref(e);
        r = event_run_until(e->event, &w.done, MK_USEC_INFINITY);
        if (r < 0)
                forget_waiter(e, &w);
        mk_executor_unref(e);
        return r < 0 ? r : w.result;
}

int mk_executor_kill(MkExecutor *e, int signo, bool wait) {
        int r;

        if (!e)
                return -EINVAL;
        if (signo < 0 || signo >= _NSIG)
                return -EINVAL;
        executor_refresh(e);
        if (!e->containment || e->state == MK_STATE_IDLE)
                return -ESRCH;
        if (signo == 0)
                signo = e->kill_signal;
        if (!wait) {
                if (e->start_pending && !e->tearing_down) {
                        e->quiet |= !e->callbacks_during_stop; /* the start ends: no callback of the caller's */
                        e->start_result = -ECANCELED;
                        executor_set_error(e, "%s: start cancelled by kill", e->name);
                        /* A signal the service survives must not leave the start
                         * hanging: the kill signal follows after the stop timeout. */
                        executor_teardown(e, signo, signo != e->kill_signal);
                        return 0;
                }
                return containment_signal(e->containment, signo);
        }

        Waiter w = {};
        if (e->stop_pending)
                return -EALREADY;
        if (!event_can_block(e->event))
                return -EBUSY;
        e->quiet |= !e->callbacks_during_stop; /* no callback of the caller's from here on */
        e->stop_pending = true;
        e->stop_done = waiter_done;
        e->stop_userdata = &w;
        if (e->start_pending && !e->tearing_down) {
                e->start_result = -ECANCELED;
                executor_set_error(e, "%s: start cancelled by kill", e->name);
        }
        if (!e->tearing_down)
                executor_teardown(e, signo, signo != e->kill_signal); /* as above */
        else
                (void) containment_signal(e->containment, signo);
        r = event_run_until(e->event, &w.done, MK_USEC_INFINITY);
        if (r < 0)
                forget_waiter(e, &w);
        return r < 0 ? r : 0;
}

int mk_executor_wait(MkExecutor *e, uint64_t usec) {
        if (!e)
                return -EINVAL;
        if (!e->ever_started)
                return -ESRCH;
        /* The service's end: its main process, or after a launcher handed
         * over, the process it left (main-pid.c). */
        if (!event_can_block(e->event))
                return e->service_exited || e->state == MK_STATE_IDLE ? 0 : -EBUSY;
        executor_refresh(e);
        if (e->service_exited || e->state == MK_STATE_IDLE) {
                if (e->state != MK_STATE_IDLE && !e->quiet)
                        executor_drain_output(e); /* its last lines, as the loop would */
                return executor_flush_exit_report(e);
        }
        return event_run_until(e->event, &e->service_exited, usec_add(now_usec(), usec));
}

int mk_executor_restart(MkExecutor *e) {
        int r;

        if (!e)
                return -EINVAL;
        r = mk_executor_stop(e);
        if (r < 0 && r != -ECHILD && r != -ESRCH)
                return r;
        return mk_executor_start(e);
}

int mk_executor_stopped(MkExecutor *e, int (*fn)(MkExecutor *e, void *userdata), void *userdata) {
        int r;

        if (!e)
                return -EINVAL;
        executor_refresh(e);
        if (e->state == MK_STATE_IDLE && !e->tearing_down) {
                /* As Python's stopped(): nothing runs, so nothing is stopped,
                 * FN is not called and nothing is started. */
                executor_set_error(e, "%s: not running: there is nothing to stop (start it first)",
                                   e->name ?: "service");
                return -ESRCH;
        }
        r = mk_executor_stop(e);
        if (r < 0 && r != -ECHILD && r != -ESRCH)
                return r;
        if (fn) {
                r = fn(e, userdata);
                if (r < 0)
                        return r;
        }
        return mk_executor_start(e);
}

int mk_executor_stop_with(MkExecutor *e, int stop_signal, int expected_exit) {
        if (!e || stop_signal < 0 || stop_signal >= _NSIG || expected_exit < MK_EXPECTED_EXIT_CONFIGURED ||
            expected_exit > 255)
                return -EINVAL;
        if (e->stop_pending)
                return -EALREADY;
        executor_refresh(e);
        if (e->state == MK_STATE_IDLE && !e->tearing_down)
                return e->ever_started ? 0 : -ESRCH;
        e->stop_override = true;
        e->override_stop_signal = stop_signal;
        e->override_expected_exit = expected_exit;
        return mk_executor_stop(e);
}

/* ---- waiting for a caller's condition ---- */

typedef struct WaitFor {
        MkCheckHandler check;
        void *userdata;
        sd_event_source *timer;
        uint64_t interval;
        bool done;
        int result;
} WaitFor;

static void wait_for_check(MkExecutor *e, WaitFor *w) {
        int r;

        if (w->done)
                return;
        r = w->check(e, w->userdata);
        if (r != 0) {
                w->done = true;
                w->result = r > 0 ? 0 : r;
                if (r < 0)
                        executor_set_error(e, "%s: the wait_for check failed: %s", e->name, strerror(-r));
                return;
        }
        if (e->service_exited && !(e->have_exit && e->exit.clean)) {
                /* As Python's check_subprocess(): an unclean exit ends the wait. */
                _cleanup_free_ char *how = executor_describe_exit(&e->exit);
                executor_set_error(e, "%s %s while waiting for the condition", e->name, how ?: "exited");
                executor_error_add_last_lines(e);
                w->done = true;
                w->result = -ECHILD;
        }
}

void executor_wait_for_output(MkExecutor *e) {
        wait_for_check(e, e->wait_for);
}

static int on_wait_for_timer(sd_event_source *s, uint64_t usec _unused_, void *userdata) {
        MkExecutor *e = userdata;
        WaitFor *w = e->wait_for;

        wait_for_check(e, w);
        if (!w->done) {
                (void) sd_event_source_set_time_relative(s, w->interval);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

int mk_executor_wait_for(MkExecutor *e, MkCheckHandler check, void *userdata, uint64_t interval_usec) {
        WaitFor w = { .check = check, .userdata = userdata, .interval = interval_usec ?: 10 * MK_USEC_PER_MSEC };
        uint64_t deadline;
        int r;

        if (!e || !check)
                return -EINVAL;
        if (e->wait_for)
                return -EALREADY;
        executor_refresh(e);
        if (e->state != MK_STATE_READY && e->state != MK_STATE_EXITED)
                return -ESRCH;
        if (!event_can_block(e->event))
                return -EBUSY;

        free(e->error);
        e->error = NULL;
        e->wait_for = &w;
        wait_for_check(e, &w);
        deadline = usec_add(now_usec(), e->timeout_usec);
        r = 0;
        if (!w.done) {
                r = sd_event_add_time_relative(e->event, &w.timer, CLOCK_MONOTONIC, w.interval, 1,
                                               on_wait_for_timer, e);
                if (r >= 0)
                        r = sd_event_source_set_priority(w.timer, e->priority);
                if (r >= 0)
                        r = event_run_until(e->event, &w.done, deadline);
        }
        e->wait_for = NULL;
        sd_event_source_disable_unref(w.timer);
        if (r == -ETIMEDOUT) {
                executor_set_error(e, "%s: the condition did not hold within the timeout", e->name);
                executor_error_add_last_lines(e);
        }
        return r < 0 ? r : w.result;
}
