/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run: start a service, wait until it is ready, then run --then's
 * command or supervise it in the foreground, and tear the whole tree down
 * at the end. A thin client of the public library API. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group-run.h"
#include "log.h"
#include "mirakuru.h"
#include "util/macro.h"
#include "notify-bridge.h"
#include "options.h"
#include "service.h"
#include "stop-signals.h"
#include "then.h"

typedef struct Run {
        Options opt;
        MkExecutor *e;
        sd_event *event;
        Then *then;
        int exit_status;
        int then_status;          /* -1 while --then's command has not ended */
        int signal_received;      /* the first SIGINT/SIGTERM/SIGHUP */
        bool ready;               /* the start succeeded */
        bool stopping;
        bool stopped;
} Run;

int start_error_to_exit(int r) {
        switch (r) {
        case -ENOENT:
        case -ENOTDIR:
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

static const char *name_of(Run *run) {
        return mk_executor_get_name(run->e);
}

static char *describe_exit(const MkExit *x) {
        char *s = NULL;

        if (x->code == CLD_EXITED) {
                if (asprintf_safe(&s, "exited with status %d", x->status) < 0)
                        return NULL;
        } else if (asprintf_safe(&s, "was killed by SIG%s", sigabbrev_np(x->status) ?: "?") < 0)
                return NULL;
        return s;
}

/* The whole service is gone (or stopping failed): pick our exit status. */
static void finish(Run *run, int result) {
        MkExit x;
        bool have_exit;

        if (run->stopped)
                return;
        run->stopped = true;

        have_exit = mk_executor_get_exit(run->e, &x) >= 0;
        if (result == 1) {
                char *leftovers = NULL;
                log_warning("%s did not stop within the stop timeout and had to be killed", name_of(run));
                /* Leak forensics for the test report: which processes needed the kill signal. */
                if (mk_executor_get_leftovers(run->e, &leftovers) > 0)
                        for (char *line = strtok(leftovers, "\n"); line; line = strtok(NULL, "\n"))
                                log_warning("  killed: %s", line);
                free(leftovers);
        }
        else if (result < 0 && result != -ECHILD && result != -ESRCH)
                log_warning("stopping %s failed: %s", name_of(run),
                            mk_executor_get_error(run->e) ?: strerror(-result));
        else {
                char *leftovers = NULL;
                log_info("%s stopped%s", name_of(run), result == -ECHILD ? " (it had exited uncleanly)" : "");
                /* Processes that had left the service's cgroup were killed at once. */
                if (mk_executor_get_leftovers(run->e, &leftovers) > 0)
                        for (char *line = strtok(leftovers, "\n"); line; line = strtok(NULL, "\n"))
                                log_warning("  killed: %s", line);
                free(leftovers);
        }

        if (run->opt.then)
                /* Teardown trouble does not change --then's status. */
                run->exit_status = run->then_status >= 0 ? run->then_status : EXIT_INTERNAL;
        else if (run->signal_received)
                /* We were asked to stop: success if the service stopped cleanly. */
                run->exit_status = result == 0 || !have_exit || x.clean ? 0 : mk_exit_to_status(&x);
        else
                /* The service exited on its own: its status. */
                run->exit_status = have_exit ? mk_exit_to_status(&x) : EXIT_INTERNAL;
        (void) sd_event_exit(run->event, 0);
}

static void on_stopped(MkExecutor *e, int result, void *userdata) {
        finish(userdata, result);
}

static void begin_stop(Run *run) {
        int r;

        if (run->stopping)
                return;
        run->stopping = true;
        notify_bridge_stopping(run->e);
        log_info("stopping %s", name_of(run));
        r = mk_executor_stop_async(run->e, on_stopped, run);
        if (r < 0 || mk_executor_get_state(run->e) == MK_STATE_IDLE)
                /* Nothing to wait for (already collected), or no way to. */
                finish(run, r == -ESRCH ? 0 : r);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;
        int signo = (int) si->ssi_signo;

        log_info("received SIG%s", sigabbrev_np(signo) ?: "?");
        if (then_forward_signal(run->then, si)) {
                /* The command decides; we tear down when it ends. */
                if (!run->signal_received)
                        run->signal_received = signo;
                return 0;
        }
        if (run->stopping) {
                /* Asked again while stopping: do not wait for the stop timeout. */
                log_warning("killing %s now", name_of(run));
                (void) mk_executor_kill(run->e, 0, false);
                return 0;
        }
        if (!run->signal_received)
                run->signal_received = signo;
        begin_stop(run);
        return 0;
}

static void on_then_done(Then *t, int status, void *userdata) {
        Run *run = userdata;

        run->then_status = status;
        log_info("--then command ended with status %d", status);
        begin_stop(run);
}

static void on_service_exit(MkExecutor *e, const MkExit *x, void *userdata) {
        Run *run = userdata;
        char *how;

        /* Exits during the start are the start's result. */
        if (run->stopping || !run->ready)
                return;
        how = describe_exit(x);
        if (then_is_running(run->then)) {
                /* Say so at once: the command's failures may come from this. */
                log_warning("%s %s while the --then command was running", name_of(run), how ?: "exited");
                free(how);
                return;
        }
        log_info("%s %s", name_of(run), how ?: "exited");
        free(how);
        /* Collect whatever it left behind, then exit with its status. */
        begin_stop(run);
}

static void say_containment(Run *run) {
        const char *cgroup = mk_executor_get_cgroup(run->e);
        const char *reason = mk_executor_get_containment_reason(run->e);

        log_info("containment: %s%s%s%s", mk_containment_to_string(mk_executor_get_containment(run->e)),
                 reason ? " (" : "", reason ?: "", reason ? ")" : "");
        if (cgroup)
                log_info("cgroup: %s", cgroup);
}

/* How the tcp/http probes learnt that the service listens (docs/probes.md). */
static void say_listen_watch(Run *run) {
        MkListenWatch how = mk_executor_get_listen_watch(run->e);
        const char *reason = mk_executor_get_listen_watch_reason(run->e);

        if (how == MK_LISTEN_WATCH_NONE)
                return;
        log_info("listen watch: %s%s%s%s", how == MK_LISTEN_WATCH_EVENT ? "tracepoint events" : "polling",
                 reason ? " (" : "", reason ?: "", reason ? ")" : "");
}

/* Starts the service; returns 0 once it is ready, else our exit status. */
static int start(Run *run) {
        int r;

        log_info("starting %s", name_of(run));
        notify_bridge_status("starting %s", name_of(run));
        r = mk_executor_start(run->e);
        if (r < 0) {
                if (r == -ECANCELED && run->signal_received) {
                        /* Said even without --verbose: the user should know nothing runs. */
                        log_warning("received SIG%s before %s was ready: stopped it, nothing is left running",
                                    sigabbrev_np(run->signal_received) ?: "?", name_of(run));
                        return 128 + run->signal_received;
                }
                const char *why = mk_executor_get_error(run->e);
                log_error("%s", why ?: strerror(-r));
                notify_bridge_status("%s failed to start", name_of(run));
                return start_error_to_exit(r);
        }
        run->ready = true;
        say_containment(run);
        say_listen_watch(run);
        /* Our manager first: whoever reads the message may rely on it. */
        notify_bridge_ready(run->e);
        pid_t pid = mk_executor_get_pid(run->e);
        if (pid > 0)
                log_info("%s is ready (pid %d)", name_of(run), (int) pid);
        else
                /* A launcher handed over to several processes, none named (docs: DAEMONIZING SERVICES). */
                log_info("%s is ready (main process not known: the launcher exited, leaving several processes)",
                         name_of(run));
        return 0;
}

static int run_then(Run *run) {
        int r;

        log_info("running --then command");
        r = then_start(&run->opt, run->e, run->event, on_then_done, run, &run->then);
        if (r < 0)
                return r;
        return 0;
}

int main(int argc, char **argv) {
        Run run = { .then_status = -1 };
        int r;

        r = options_parse(argc, argv, &run.opt);
        if (r != 0)
                return r > 0 ? EXIT_SUCCESS : r == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
        log_setup(run.opt.verbose, run.opt.quiet);
        /* Without a cgroup, a subreaper above us catches what the services
         * leave if we are SIGKILLed (docs/containment.md). */
        r = mk_fork_keeper(run.opt.containment_set ? run.opt.containment : MK_CONTAINMENT_AUTO);
        if (r < 0)
                log_info("could not fork a keeper: %s", strerror(-r));
        /* Room for thousands of services (-f); they get the old limit back. */
        r = mk_raise_fd_limit();
        if (r < 0)
                log_info("could not raise the fd limit: %s", strerror(-r));
        if (run.opt.file) {
                /* -f FILE: several services from a compose file. */
                run.exit_status = group_run(&run.opt);
                options_done(&run.opt);
                return run.exit_status;
        }

        r = sd_event_new(&run.event);
        if (r >= 0)
                r = stop_signals_watch(run.event, on_signal, &run);
        if (r < 0) {
                log_error("could not set up the event loop: %s", strerror(-r));
                run.exit_status = EXIT_INTERNAL;
                goto out;
        }
        r = service_new(&run.opt, run.event, &run.e);
        if (r != 0) {
                run.exit_status = r;
                goto out;
        }
        service_describe(&run.opt, run.e);
        r = mk_executor_set_exit_handler(run.e, on_service_exit, &run);
        if (r < 0) {
                log_error("could not watch the service: %s", strerror(-r));
                run.exit_status = EXIT_INTERNAL;
                goto out;
        }

        r = start(&run);
        if (r != 0) {
                run.exit_status = r;
                goto out;
        }

        if (run.signal_received)
                begin_stop(&run);
        else if (run.opt.then) {
                if (run_then(&run) < 0) {
                        run.then_status = EXIT_INTERNAL;
                        begin_stop(&run);
                }
        } else if (mk_executor_get_state(run.e) == MK_STATE_EXITED)
                /* A daemonizing service without probes that left nothing behind. */
                begin_stop(&run);

        if (!run.stopped) {
                r = sd_event_loop(run.event);
                if (r < 0) {
                        log_error("event loop failed: %s", strerror(-r));
                        run.exit_status = EXIT_INTERNAL;
                }
        }

out:
        run.then = then_free(run.then);
        /* The last reference stops whatever still runs. */
        mk_executor_unref(run.e);
        sd_event_unref(run.event);
        options_done(&run.opt);
        return run.exit_status;
}
