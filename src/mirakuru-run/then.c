/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "then.h"
#include "util/macro.h"

struct Then {
        MkExecutor *e;
        int status;         /* -1 while the command's main process runs */
        int last_signal;    /* the last signal passed on */
        unsigned signals;   /* how many were passed on while it ran */
        bool done_called;
        ThenDoneHandler done;
        void *userdata;
};

static void report(Then *t) {
        if (t->done_called)
                return;
        t->done_called = true;
        if (t->done)
                t->done(t, t->status, t->userdata);
}

/* Every process of the command is gone. */
static void on_stopped(MkExecutor *e, int result, void *userdata) {
        Then *t = userdata;

        if (result == 1)
                log_warning("processes the --then command left behind had to be killed");
        report(t);
}

/* The command's shell ended: its status is ours; what it left is stopped. */
static void on_command_exit(MkExecutor *e, const MkExit *x, void *userdata) {
        Then *t = userdata;
        int r;

        if (t->status >= 0)
                return;
        t->status = mk_exit_to_status(x);
        r = mk_executor_stop_async(e, on_stopped, t);
        if (r < 0 || mk_executor_get_state(e) == MK_STATE_IDLE)
                report(t);
}

static void on_started(MkExecutor *e, int result, void *userdata) {
        Then *t = userdata;

        if (result >= 0)
                return;
        /* Torn down already. */
        if (result != -ECANCELED)
                log_error("could not run the --then command: %s", mk_executor_get_error(e) ?: strerror(-result));
        t->status = result == -ECANCELED && t->last_signal ? 128 + t->last_signal : start_error_to_exit(result);
        report(t);
}

static int set_env_int(MkExecutor *e, const char *name, unsigned v) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", v);
        return mk_executor_set_env(e, name, buf);
}

static int configure(Then *t, const Options *o, MkExecutor *service, sd_event *event) {
        static const char *const ours[] = { "MIRAKURU_PID", "MIRAKURU_NAME", "MIRAKURU_LISTEN_PORT",
                                            "MIRAKURU_LISTEN_PORTS", "NOTIFY_SOCKET" };
        MkExecutor *e = t->e;
        char ports[6 * 64 + 1] = "";
        uint16_t first_port = 0;
        int r;

        r = mk_executor_set_shell_command(e, o->then);
        if (r >= 0)
                r = mk_executor_set_name(e, "then");
        if (r >= 0)
                r = mk_executor_attach_event(e, event, 0);
        /* Straight to our stdout and stderr, as if we were not there. */
        if (r >= 0)
                r = mk_executor_set_direct_output_fd(e, MK_STREAM_STDOUT, STDOUT_FILENO);
        if (r >= 0)
                r = mk_executor_set_direct_output_fd(e, MK_STREAM_STDERR, STDERR_FILENO);
        if (r >= 0 && fcntl(STDIN_FILENO, F_GETFD) >= 0)
                r = mk_executor_set_stdin_fd(e, STDIN_FILENO);
        if (r >= 0)
                r = mk_executor_set_timeout(e, MK_USEC_INFINITY);
        /* Its end is the command's end: background jobs do not carry it on. */
        if (r >= 0)
                r = mk_executor_set_follow_daemon(e, false);
        if (r >= 0)
                r = mk_executor_set_stop_timeout(e, o->stop_timeout_usec);
        if (r >= 0 && o->containment_set)
                r = mk_executor_set_containment(e, o->containment);
        /* Stale copies from our own environment are dropped. */
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(ours); i++)
                r = mk_executor_unset_env(e, ours[i]);
        if (r >= 0 && service && mk_executor_get_pid(service) > 0)
                r = set_env_int(e, "MIRAKURU_PID", (unsigned) mk_executor_get_pid(service));
        if (r >= 0 && service)
                r = mk_executor_set_env(e, "MIRAKURU_NAME", mk_executor_get_name(service));
        for (unsigned i = 0; service && i < o->n_listen && i < 64; i++) {
                uint16_t port;
                if (mk_executor_get_listen_port(service, i, &port) < 0)
                        break;
                if (i == 0)
                        first_port = port;
                snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s%u", i ? " " : "", port);
        }
        if (r >= 0 && first_port > 0) {
                r = set_env_int(e, "MIRAKURU_LISTEN_PORT", first_port);
                if (r >= 0)
                        r = mk_executor_set_env(e, "MIRAKURU_LISTEN_PORTS", ports);
        }
        if (r >= 0)
                r = mk_executor_set_exit_handler(e, on_command_exit, t);
        return r;
}

int then_start(const Options *o, MkExecutor *service, sd_event *event, ThenDoneHandler done, void *userdata,
               Then **ret) {
        Then *t;
        int r;

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        *t = (Then) { .status = -1, .done = done, .userdata = userdata };
        r = mk_executor_new(&t->e);
        if (r >= 0)
                r = configure(t, o, service, event);
        if (r < 0) {
                then_free(t);
                return r;
        }
        /* Its result comes through on_started (errors) and on_command_exit. */
        r = mk_executor_start_async(t->e, on_started, t);
        if (r < 0) {
                log_error("could not run the --then command: %s", mk_executor_get_error(t->e) ?: strerror(-r));
                then_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

bool then_is_running(Then *t) {
        return t && t->status < 0 && !t->done_called;
}

bool then_forward_signal(Then *t, const struct signalfd_siginfo *si) {
        if (!t || t->done_called)
                return false;
        t->last_signal = (int) si->ssi_signo;
        if (t->status < 0 && t->signals++ > 0) {
                /* Asked again: a command that ignores or defers the signal
                 * does not hold us (the kill signal to its whole tree, as
                 * the foreground mode's second signal does to the service). */
                log_warning("killing the --then command now");
                (void) mk_executor_kill(t->e, 0, false);
        } else if (t->status < 0)
                /* The whole tree: it runs in a session of its own, so a
                 * terminal's signal did not reach it. */
                (void) mk_executor_kill(t->e, (int) si->ssi_signo, false);
        else
                /* Asked again while its leftovers are stopped: no waiting. */
                (void) mk_executor_kill(t->e, 0, false);
        return true;
}

Then *then_free(Then *t) {
        if (!t)
                return NULL;
        if (t->e) {
                (void) mk_executor_set_exit_handler(t->e, NULL, NULL);
                /* The last reference stops whatever still runs. */
                mk_executor_unref(t->e);
        }
        free(t);
        return NULL;
}
