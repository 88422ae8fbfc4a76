/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "group-run.h"
#include "log.h"
#include "progress.h"
#include "service.h"
#include "stop-signals.h"
#include "then.h"

typedef struct GroupRun {
        const Options *o;
        sd_event *event;
        Compose *compose;
        MkGroup *g;
        Progress *progress;
        Then *then;
        int exit_status;
        int then_status;     /* -1 while --then's command has not ended */
        int signal_received;
        int service_status;  /* -1, or the status of a service that exited on its own */
        bool ready;
        bool start_failed;
        bool stopping;
        bool done;
} GroupRun;

static void quit(GroupRun *run) {
        run->done = true;
        (void) sd_event_exit(run->event, 0);
}

/* The status of the first service whose main process ended uncleanly, or 0. */
static int unclean_status(GroupRun *run) {
        for (size_t i = 0; i < mk_group_get_n_services(run->g); i++) {
                MkExecutor *e = mk_group_get_executor(run->g, mk_group_get_service_name(run->g, i));
                MkExit x;
                if (mk_executor_get_exit(e, &x) >= 0 && !x.clean)
                        return mk_exit_to_status(&x);
        }
        return 0;
}

static void on_stopped(MkGroup *g, int result, void *userdata) {
        GroupRun *run = userdata;

        if (result == 1)
                log_warning("some services did not stop within their stop timeout and had to be killed");
        else if (result < 0 && result != -ECHILD && result != -ESRCH)
                log_warning("stopping failed: %s", mk_group_get_error(g) ?: strerror(-result));
        else
                log_info("all services stopped");

        if (run->start_failed)
                ; /* the start's status stands */
        else if (run->o->then)
                run->exit_status = run->then_status >= 0 ? run->then_status : EXIT_INTERNAL;
        else if (run->service_status >= 0)
                run->exit_status = run->service_status;
        else if (run->signal_received)
                run->exit_status = result >= 0 ? 0 : unclean_status(run);
        else
                run->exit_status = 0;
        quit(run);
}

static void begin_stop(GroupRun *run) {
        int r;

        if (run->stopping)
                return;
        run->stopping = true;
        progress_end_live(run->progress);
        log_info("stopping all services");
        r = mk_group_stop_async(run->g, on_stopped, run);
        if (!run->done && (r < 0 || !mk_group_is_running(run->g)))
                /* Nothing to wait for: on_stopped will not be called. */
                on_stopped(run->g, r == -ESRCH ? 0 : r, run);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        GroupRun *run = userdata;
        int signo = (int) si->ssi_signo;

        log_info("received SIG%s", sigabbrev_np(signo) ?: "?");
        if (!run->signal_received)
                run->signal_received = signo;
        if (then_forward_signal(run->then, si))
                return 0;
        if (run->stopping) {
                /* Asked again: do not wait for the stop timeouts. */
                for (size_t i = 0; i < mk_group_get_n_services(run->g); i++)
                        (void) mk_executor_kill(mk_group_get_executor(run->g, mk_group_get_service_name(run->g, i)),
                                                0, false);
                return 0;
        }
        begin_stop(run);
        return 0;
}

static void on_then_done(Then *t, int status, void *userdata) {
        GroupRun *run = userdata;

        run->then_status = status;
        log_info("--then command ended with status %d", status);
        begin_stop(run);
}

static bool all_completed(GroupRun *run) {
        for (size_t i = 0; i < mk_group_get_n_services(run->g); i++) {
                MkServiceStatus s;
                if (mk_group_get_service_status(run->g, mk_group_get_service_name(run->g, i), &s) < 0 ||
                    s != MK_SERVICE_COMPLETED)
                        return false;
        }
        return true;
}

static void on_service(MkGroup *g, const char *name, MkExecutor *e, MkServiceStatus status, void *userdata) {
        GroupRun *run = userdata;
        MkExit x;

        progress_status(run->progress, name, status);
        if (!run->ready || run->stopping)
                return;
        if (status == MK_SERVICE_EXITED && mk_executor_get_exit(e, &x) >= 0) {
                if (then_is_running(run->then)) {
                        log_warning("%s exited with status %d while the --then command was running", name,
                                    mk_exit_to_status(&x));
                        return;
                }
                log_warning("%s exited with status %d; stopping the others", name, mk_exit_to_status(&x));
                run->service_status = mk_exit_to_status(&x);
                begin_stop(run);
        } else if (status == MK_SERVICE_COMPLETED && !run->o->then && all_completed(run))
                begin_stop(run);
}

static void on_notify(MkExecutor *e, const char *status, unsigned flags, void *userdata) {
        GroupRun *run = userdata;

        progress_notify_status(run->progress, mk_executor_get_name(e), status);
        service_on_notify(e, status, flags, NULL);
}

static void on_line(MkExecutor *e, MkStream stream, const char *line, size_t length, void *userdata) {
        GroupRun *run = userdata;
        progress_output(run->progress, mk_executor_get_name(e), stream, line, length);
}

static void on_started(MkGroup *g, int r, void *userdata) {
        GroupRun *run = userdata;

        progress_end_live(run->progress);
        if (r < 0) {
                run->start_failed = true;
                if (r == -ECANCELED && run->signal_received) {
                        log_warning("received SIG%s before every service was ready: stopped them, nothing is left running",
                                    sigabbrev_np(run->signal_received) ?: "?");
                        run->exit_status = 128 + run->signal_received;
                } else {
                        log_error("%s", mk_group_get_error(g) ?: strerror(-r));
                        run->exit_status = start_error_to_exit(r);
                }
                /* Everything is torn down already; a pending stop reports next. */
                if (!run->stopping)
                        quit(run);
                return;
        }
        run->ready = true;
        log_info("all services are ready");
        if (run->o->then) {
                log_info("running --then command");
                r = then_start(run->o, NULL, run->event, on_then_done, run, &run->then);
                if (r < 0) {
                        run->then_status = EXIT_INTERNAL;
                        begin_stop(run);
                }
        } else if (all_completed(run))
                begin_stop(run);
}

static int setup(GroupRun *run) {
        int r;

        r = stop_signals_watch(run->event, on_signal, run);
        if (r < 0)
                return r;
        r = progress_new(run->g, run->event, run->o->quiet, &run->progress);
        if (r < 0)
                return r;
        r = mk_group_attach_event(run->g, run->event, 0);
        if (r >= 0)
                r = mk_group_set_service_handler(run->g, on_service, run);
        for (size_t i = 0; r >= 0 && i < mk_group_get_n_services(run->g); i++) {
                const char *name = mk_group_get_service_name(run->g, i);
                r = mk_executor_set_notify_handler(mk_group_get_executor(run->g, name), on_notify, run);
                if (r < 0 || compose_has_log_file(run->compose, name))
                        continue;
                r = mk_executor_set_line_handler(mk_group_get_executor(run->g, name), on_line, run);
                /* What services print while they shut down is shown too: run
                 * outlives every executor. */
                if (r >= 0)
                        r = mk_executor_set_callbacks_during_stop(mk_group_get_executor(run->g, name), true);
        }
        return r;
}

int group_run(const Options *o) {
        GroupRun run = { .o = o, .then_status = -1, .service_status = -1 };
        int r;

        r = sd_event_new(&run.event);
        if (r < 0) {
                log_error("could not set up the event loop: %s", strerror(-r));
                return EXIT_INTERNAL;
        }
        r = compose_load(o->file, o, run.event, &run.compose);
        if (r == 0)
                r = compose_make_group(run.compose, o->command, &run.g);
        if (r != 0) {
                run.exit_status = r;
                goto out;
        }
        r = setup(&run);
        if (r < 0) {
                log_error("could not set up: %s", strerror(-r));
                run.exit_status = EXIT_INTERNAL;
                goto out;
        }

        r = mk_group_start_async(run.g, on_started, &run);
        if (r < 0) {
                log_error("%s", mk_group_get_error(run.g) ?: strerror(-r));
                run.exit_status = r == -ELOOP || r == -ENOENT ? EXIT_USAGE : EXIT_INTERNAL;
                goto out;
        }
        if (!run.done) {
                r = sd_event_loop(run.event);
                if (r < 0) {
                        log_error("event loop failed: %s", strerror(-r));
                        run.exit_status = EXIT_INTERNAL;
                }
        }

out:
        run.then = then_free(run.then);
        /* The last reference stops whatever still runs, in order. */
        run.g = mk_group_unref(run.g);
        run.compose = compose_free(run.compose);
        run.progress = progress_free(run.progress);
        sd_event_unref(run.event);
        return run.exit_status;
}
