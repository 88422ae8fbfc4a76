/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run: start a service, wait until it is ready, supervise it in
 * the foreground, and tear the whole tree down at the end. A thin client of
 * the public library API. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirakuru.h"
#include "options.h"

typedef struct Run {
        Options opt;
        MkExecutor *e;
        sd_event *event;
        int exit_status;
        int stop_signal_received; /* SIGINT/SIGTERM/SIGHUP that asked us to stop */
        bool stopping;
} Run;

__attribute__((format(printf, 2, 3))) static void say(const Run *run, const char *fmt, ...) {
        va_list ap;

        if (run->opt.quiet)
                return;
        fprintf(stderr, "mirakuru-run: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static int start_error_to_exit(int r) {
        switch (r) {
        case -ENOENT:
                return EXIT_NOT_FOUND;
        case -EACCES:
        case -ENOEXEC:
        case -EISDIR:
        case -EPERM:
                return EXIT_NOT_EXECUTABLE;
        case -ECHILD:
                return EXIT_NOT_READY;
        case -ETIMEDOUT:
                return EXIT_DEADLINE;
        case -EADDRINUSE:
                return EXIT_ALREADY_RUNNING;
        default:
                return EXIT_INTERNAL;
        }
}

static void on_stopped(MkExecutor *e, int result, void *userdata) {
        Run *run = userdata;
        MkExit x;

        if (result == 1)
                say(run, "%s did not stop in time and had to be killed", mk_executor_get_name(e));
        if (run->stop_signal_received)
                /* We were asked to stop: success if the service stopped cleanly. */
                run->exit_status = result >= 0 ? 0 : (mk_executor_get_exit(e, &x) >= 0 ? mk_exit_to_status(&x) : EXIT_INTERNAL);
        else if (mk_executor_get_exit(e, &x) >= 0)
                run->exit_status = mk_exit_to_status(&x);
        (void) sd_event_exit(run->event, 0);
}

static void begin_stop(Run *run) {
        int r;

        if (run->stopping)
                return;
        run->stopping = true;
        r = mk_executor_stop_async(run->e, on_stopped, run);
        if (r < 0)
                (void) sd_event_exit(run->event, 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;

        if (!run->stop_signal_received)
                run->stop_signal_received = (int) si->ssi_signo;
        if (run->opt.verbose)
                say(run, "received SIG%s, stopping %s", sigabbrev_np((int) si->ssi_signo),
                    mk_executor_get_name(run->e));
        begin_stop(run);
        return 0;
}

static void on_exit_of_service(MkExecutor *e, const MkExit *x, void *userdata) {
        Run *run = userdata;

        if (run->stopping || mk_executor_get_state(e) == MK_STATE_STARTING)
                return;
        if (run->opt.verbose) {
                say(run, "%s exited (status %d)", mk_executor_get_name(e), mk_exit_to_status(x));
        }
        /* Collect whatever it left behind, then exit with its status. */
        begin_stop(run);
}

static int setup_signals(Run *run) {
        static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
                sigaddset(&mask, signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
                r = sd_event_add_signal(run->event, NULL, signals[i], on_signal, run);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int configure(Run *run) {
        int r;

        r = mk_executor_new(&run->e);
        if (r < 0)
                return r;
        r = mk_executor_set_argv(run->e, (const char *const *) run->opt.command);
        if (r < 0)
                return r;
        r = mk_executor_set_timeout(run->e, run->opt.timeout_usec);
        if (r < 0)
                return r;
        /* The service's output goes to ours, unchanged. */
        r = mk_executor_set_output_fd(run->e, MK_STREAM_STDOUT, STDOUT_FILENO);
        if (r < 0)
                return r;
        r = mk_executor_set_output_fd(run->e, MK_STREAM_STDERR, STDERR_FILENO);
        if (r < 0)
                return r;
        r = mk_executor_set_exit_handler(run->e, on_exit_of_service, run);
        if (r < 0)
                return r;
        return mk_executor_attach_event(run->e, run->event, 0);
}

int main(int argc, char **argv) {
        Run run = { .exit_status = 0 };
        int r;

        r = options_parse(argc, argv, &run.opt);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;

        r = sd_event_default(&run.event);
        if (r >= 0)
                r = setup_signals(&run);
        if (r >= 0)
                r = configure(&run);
        if (r < 0) {
                say(&run, "could not set up: %s", strerror(-r));
                mk_executor_unref(run.e);
                sd_event_unref(run.event);
                return EXIT_INTERNAL;
        }

        r = mk_executor_start(run.e);
        if (r < 0) {
                if (r == -ECANCELED && run.stop_signal_received)
                        run.exit_status = 128 + run.stop_signal_received;
                else {
                        say(&run, "%s", mk_executor_get_error(run.e) ?: strerror(-r));
                        run.exit_status = start_error_to_exit(r);
                }
        } else {
                if (run.opt.verbose) {
                        say(&run, "%s is ready (pid %d)", mk_executor_get_name(run.e), (int) mk_executor_get_pid(run.e));
                        say(&run, "containment: %s (%s)", mk_containment_to_string(mk_executor_get_containment(run.e)),
                            mk_executor_get_containment_reason(run.e) ?: "");
                }
                if (mk_executor_get_state(run.e) == MK_STATE_EXITED || run.stop_signal_received)
                        begin_stop(&run);
                r = sd_event_loop(run.event);
                if (r < 0) {
                        say(&run, "event loop failed: %s", strerror(-r));
                        run.exit_status = EXIT_INTERNAL;
                }
        }

        mk_executor_unref(run.e);
        sd_event_unref(run.event);
        return run.exit_status;
}
