/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One service's lifecycle: start with its deadline, probes, fail-fast on
 * exit, stop with teardown in layers. The blocking calls are in
 * executor-wait.c, messages in executor-error.c, what counts as a clean
 * end in executor-exit.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor-private.h"
#include "fd-limit.h"
#include "util/event-wait.h"
#include "util/pidfd-util.h"
#include "util/strv.h"
#include "util/time-util.h"

/* ---- reporting results ---- */

static void finish_start(MkExecutor *e, int result) {
        MkDoneHandler done = e->start_done;
        void *userdata = e->start_userdata;

        if (!e->start_pending)
                return;
        e->start_pending = false;
        e->start_done = NULL;
        e->start_result = result;
        if (e->in_start_call || !done)
                return;
        mk_executor_ref(e);
        done(e, result, userdata);
        mk_executor_unref(e);
}

static int stop_result(MkExecutor *e) {
        if (e->killed)
                return 1;
        if (e->have_exit && !e->exit.clean)
                return -ECHILD;
        return 0;
}

static void finish_stop(MkExecutor *e, int result) {
        MkDoneHandler done = e->stop_done;
        void *userdata = e->stop_userdata;

        if (!e->stop_pending)
                return;
        e->stop_pending = false;
        e->stop_done = NULL;
        if (!done)
                return;
        mk_executor_ref(e);
        done(e, result, userdata);
        mk_executor_unref(e);
}

/* ---- one run's resources ---- */

/* ALL: also the probes that listen until the service is gone (notify). */
static void cancel_probes(MkExecutor *e, bool all) {
        for (size_t i = 0; i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                if (!all && p->ops->keep_listening)
                        continue;
                if (p->started && p->ops->cancel)
                        p->ops->cancel(p);
                p->started = false;
        }
}

void executor_drain_output(MkExecutor *e) {
        for (int i = 0; i < 2; i++)
                if (e->capture[i])
                        capture_drain(e->capture[i]);
}

/* Releases what one run holds; keeps what was captured and the exit status. */
void executor_free_run(MkExecutor *e) {
        cancel_probes(e, true);
        main_pid_reset(e); /* main-pid.c */
        e->exit_source = sd_event_source_disable_unref(e->exit_source);
        e->exit_report_source = sd_event_source_disable_unref(e->exit_report_source);
        e->exec_source = sd_event_source_disable_unref(e->exec_source);
        e->deadline_source = sd_event_source_disable_unref(e->deadline_source);
        e->stop_timer = sd_event_source_disable_unref(e->stop_timer);
        spawned_child_done(&e->child);
        e->containment = containment_free_with_leftovers(e->containment, &e->leftovers);
        e->child_env = strv_free(e->child_env);
        free(e->child_fds);
        e->child_fds = NULL;
        e->n_child_fds = 0;
        e->child_listen_pid = false;
}

static void reset_run(MkExecutor *e) {
        executor_free_run(e);
        for (int i = 0; i < 2; i++)
                e->capture[i] = capture_free(e->capture[i]);
        for (unsigned i = 0; i < RECENT_LINES; i++) {
                free(e->recent[i]);
                e->recent[i] = NULL;
        }
        e->recent_next = 0;
        e->child = (SpawnedChild) { .pidfd = -EBADF, .gate_fd = -EBADF, .exec_fd = -EBADF };
        e->exec_confirmed = e->main_reaped = e->service_empty = e->killed = e->have_exit = false;
        e->tearing_down = e->quiet = e->stop_override = false;
        e->output_cursor[0] = e->output_cursor[1] = 0;
        e->stop_requested = false;
        e->service_exited = false;
        e->notify_stopping = false;
        e->exit = (MkExit) {};
        free(e->error);
        e->error = NULL;
        free(e->containment_reason);
        e->containment_reason = NULL;
        e->containment_used = MK_CONTAINMENT_AUTO;
        free(e->listen_watch_reason);
        e->listen_watch_reason = NULL;
        e->listen_watch = MK_LISTEN_WATCH_NONE;
        e->listen_events = 0;
        free(e->leftovers);
        e->leftovers = NULL;
}

/* ---- teardown ---- */

static void teardown_done(MkExecutor *e) {
        int result;

        e->stop_timer = sd_event_source_disable_unref(e->stop_timer);
        executor_drain_output(e);
        executor_free_run(e);
        e->tearing_down = false;
        e->state = MK_STATE_IDLE;
        if (e->have_exit) /* what is clean may have changed with mk_executor_stop_with() */
                e->exit.clean = executor_exit_is_clean(e, &e->exit);
        result = stop_result(e);
        if (e->stop_pending && result == -ECHILD)
                executor_explain_unclean_exit(e);
        e->stop_override = false;

        mk_executor_ref(e);
        if (e->start_pending)
                finish_start(e, e->start_result);
        finish_stop(e, result);
        mk_executor_unref(e);
}

static void teardown_check(MkExecutor *e) {
        if (e->tearing_down && e->main_reaped && e->service_empty)
                teardown_done(e);
}

static int on_stop_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        MkExecutor *e = userdata;

        e->stop_timer = sd_event_source_disable_unref(e->stop_timer);
        e->killed = true;
        if (e->containment)
                (void) containment_kill_all(e->containment);
        return 0;
}

static void on_containment_empty(Containment *c _unused_, void *userdata) {
        MkExecutor *e = userdata;

        e->service_empty = true;
        /* main-pid.c: the last process of a service whose launcher handed over. */
        if (main_pid_service_empty(e))
                return;
        teardown_check(e);
}

/* Signals every process of the service and waits until all are gone and
 * the main process is reaped. GRACEFUL arms the stop timeout, after which
 * the kill signal follows. */
void executor_teardown(MkExecutor *e, int first_signal, bool graceful) {
        int r;

        cancel_probes(e, false);
        e->deadline_source = sd_event_source_disable_unref(e->deadline_source);
        e->exec_source = sd_event_source_disable_unref(e->exec_source);
        e->state = MK_STATE_STOPPING;
        e->tearing_down = true;

        if (!e->containment) {
                /* Nothing was ever spawned. */
                e->main_reaped = e->service_empty = true;
                teardown_check(e);
                return;
        }

        /* A child still held at the gate never runs the program: close the gate
         * unopened (it exits on EOF) and signal it anyway. */
        e->child.gate_fd = safe_close(e->child.gate_fd);

        /* main-pid.c: the kill mode decides who gets the stop signal. */
        r = main_pid_stop_signal(e, first_signal, graceful && e->stop_requested);
        if (r < 0 && graceful && !e->main_reaped && e->child.pidfd >= 0)
                /* The service's processes could not be reached (short of fds,
                 * say): the main process still gets the stop signal through its
                 * pidfd, and the stop timeout kills the rest. */
                r = pidfd_signal_child(e->child.pidfd, e->child.pid, first_signal);
        if (r < 0)
                (void) containment_kill_all(e->containment);

        if (graceful && e->stop_timeout_usec != MK_USEC_INFINITY) {
                /* Accuracy 1 us: sd-event's default (0) lets a timer slip by 250 ms.
                 * From the clock, not sd_event_now(): that is the time of the loop's
                 * last iteration, maybe long ago when a stop is called. */
                r = sd_event_add_time(e->event, &e->stop_timer, CLOCK_MONOTONIC,
                                      usec_add(now_usec(), e->stop_timeout_usec), 1, on_stop_timeout, e);
                if (r >= 0)
                        (void) sd_event_source_set_priority(e->stop_timer, e->priority);
                else
                        on_stop_timeout(NULL, 0, e);
        }

        r = containment_is_empty(e->containment);
        if (r > 0)
                e->service_empty = true;
        else if (containment_watch_empty(e->containment) < 0) {
                /* Cannot watch: treat the service as gone once the main process is. */
                e->service_empty = true;
        }
        teardown_check(e);
}

/* A start that cannot succeed: explain, kill everything, then report. */
static void fail_start(MkExecutor *e, int error) {
        if (!e->start_pending || e->tearing_down)
                return;
        e->start_result = error;
        executor_teardown(e, e->kill_signal, false);
}

/* ---- events of a run ---- */

static void become_ready_if_done(MkExecutor *e) {
        if (e->state != MK_STATE_STARTING || !e->exec_confirmed)
                return;
        for (size_t i = 0; i < e->n_probes; i++)
                if (!e->probes[i]->passed)
                        return;
        e->deadline_source = sd_event_source_disable_unref(e->deadline_source);
        /* Whatever the service printed before the event that made it ready is
         * in the capture when the start returns. */
        executor_drain_output(e);
        if (e->state != MK_STATE_STARTING)
                return; /* a line callback stopped it */
        /* A daemonizing service's main process is gone, its daemon is not. */
        e->state = e->main_reaped && !e->main.following && containment_is_empty(e->containment) > 0
                           ? MK_STATE_EXITED
                           : MK_STATE_READY;
        main_pid_update(e); /* main-pid.c: the pid file is written by now */
        finish_start(e, 0);
}

void executor_probe_passed(MkExecutor *e) {
        become_ready_if_done(e);
}

void executor_notify(MkExecutor *e, const char *status, unsigned flags) {
        if (flags & MK_NOTIFY_STOPPING)
                e->notify_stopping = true;
        if (e->notify_handler)
                e->notify_handler(e, status, flags, e->notify_userdata);
}

void executor_probe_failed(MkExecutor *e, int error) {
        executor_error_add_last_lines(e);
        fail_start(e, error);
}

static void start_probes(MkExecutor *e) {
        for (size_t i = 0; i < e->n_probes && e->state == MK_STATE_STARTING; i++) {
                Probe *p = e->probes[i];
                int r;

                p->passed = false;
                p->started = true;
                r = p->ops->start(p);
                if (r < 0) {
                        if (!e->error)
                                executor_set_error(e, "%s probe could not start: %s", p->ops->name,
                                                   strerror(-r));
                        fail_start(e, r);
                        return;
                }
        }
        become_ready_if_done(e);
}

/* The exec pipe spoke: EOF (exec succeeded) or an errno. */
static void handle_exec_result(MkExecutor *e, int r) {
        e->exec_source = sd_event_source_disable_unref(e->exec_source);
        e->child.exec_fd = safe_close(e->child.exec_fd);
        if (r < 0) {
                executor_set_error(e, "could not execute %s: %s", e->argv[0], strerror(-r));
                fail_start(e, r);
                return;
        }
        e->exec_confirmed = true;
        start_probes(e);
}

static int on_exec_result(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        MkExecutor *e = userdata;
        int r = spawn_read_exec_result(fd);

        if (r != 0)
                handle_exec_result(e, r > 0 ? 0 : r);
        return 0;
}

static void report_exit(MkExecutor *e) {
        if (e->exit_handler && !e->quiet)
                e->exit_handler(e, &e->exit, e->exit_userdata);
}

/* The service's main process ended (E->exit says how): the start's
 * outcome, or MK_STATE_EXITED, and the exit handler. */
void executor_service_exited(MkExecutor *e) {
        e->service_exited = true;
        mk_executor_ref(e);
        if (e->state == MK_STATE_STARTING && !e->tearing_down) {
                if (e->exit.code == CLD_EXITED && e->exit.status == 0 && e->exec_confirmed &&
                    !e->main.following) {
                        /* mirakuru's daemon case: the main process forked and exited
                         * 0; readiness is still up to the probes. */
                        become_ready_if_done(e);
                } else {
                        _cleanup_free_ char *how = executor_describe_exit(&e->exit);
                        /* Without a cgroup, a daemon that left the session may
                         * live on unseen: say so, and what helps. */
                        const char *hint = e->containment && !e->containment->cgroup_path &&
                                                           !executor_has_pid_file(e) ?
                                                   " (on the process-group backend, a daemon that left the "
                                                   "service's session is followed only when a pid file names "
                                                   "it: give its pid file)" :
                                                   "";
                        if (e->main.following && e->main.pid > 0)
                                executor_set_error(e, "%s: its main process (pid %d) %s before it was ready%s",
                                                   e->name, (int) e->main.pid, how ?: "exited",
                                                   e->exit.code == CLD_EXITED && e->exit.status == 0 ? hint : "");
                        else if (e->main.following)
                                executor_set_error(e, "%s: its command exited 0 and every process it left "
                                                   "exited before it was ready%s", e->name, hint);
                        else
                                executor_set_error(e, "%s %s before it was ready", e->name,
                                                   how ?: "exited");
                        executor_error_add_last_lines(e);
                        fail_start(e, -ECHILD);
                }
        } else if (e->state == MK_STATE_READY)
                e->state = MK_STATE_EXITED;
        report_exit(e);
        if (e->wait_for)
                executor_wait_for_output(e); /* it waits for the exit too */
        /* The kernel counts a process out of its cgroup before its pidfd
         * says it exited: look now, so that a stop (or a failed start) whose
         * main process was the last one ends at once. */
        if (e->tearing_down && !e->service_empty && e->containment &&
            containment_is_empty(e->containment) > 0)
                e->service_empty = true;
        teardown_check(e);
        mk_executor_unref(e);
}

/* Reaps the main process if it has exited; true if it did just now. */
static bool reap_main(MkExecutor *e) {
        siginfo_t si = {};

        if (e->main_reaped || e->child.pidfd < 0)
                return false;
        if (waitid(P_PIDFD, (id_t) e->child.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return false; /* not yet (spurious wake-up) */

        e->exit_source = sd_event_source_disable_unref(e->exit_source);
        e->main_reaped = true;
        e->have_exit = true;
        e->exit = (MkExit) { .code = si.si_code, .status = si.si_status };
        e->exit.clean = executor_exit_is_clean(e, &e->exit);
        if (e->containment)
                containment_main_exited(e->containment);
        return true;
}

static int on_exit_report(sd_event_source *s _unused_, void *userdata) {
        MkExecutor *e = userdata;

        e->exit_report_source = sd_event_source_disable_unref(e->exit_report_source);
        e->exit_reported = true;
        mk_executor_ref(e);
        report_exit(e);
        mk_executor_unref(e);
        return 0;
}

int executor_flush_exit_report(MkExecutor *e) {
        if (!e->exit_report_source)
                return 0;
        return event_run_until(e->event, &e->exit_reported, MK_USEC_INFINITY);
}

void executor_refresh(MkExecutor *e) {
        /* The pipes need no reading here: the drainer empties them, and the
         * output getters read what is left themselves. Only a ready service's exit is taken here: during a start or stop
         * the loop is being run, and its events decide. */
        if (e->state != MK_STATE_READY || e->tearing_down || !reap_main(e))
                return;
        if (main_pid_launcher_exited(e))
                return; /* a daemonizing launcher: the service goes on (main-pid.c) */
        e->service_exited = true;
        e->state = MK_STATE_EXITED;
        /* The exit handler runs from the loop, never from inside a getter. */
        e->exit_reported = false;
        if (sd_event_add_defer(e->event, &e->exit_report_source, on_exit_report, e) >= 0)
                (void) sd_event_source_set_priority(e->exit_report_source, e->priority);
}

static int on_main_exit(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_,
                        void *userdata) {
        MkExecutor *e = userdata;

        if (!reap_main(e)) {
                /* Not yet (spurious wake-up): edge-triggered (issue 14), so ask
                 * epoll to look at the pidfd again (a MOD re-arms it). */
                (void) sd_event_source_set_io_events(e->exit_source, EPOLLIN);
                (void) sd_event_source_set_io_events(e->exit_source, EPOLLIN | EPOLLET);
                return 0;
        }
        executor_drain_output(e);

        mk_executor_ref(e);
        if (e->state == MK_STATE_STARTING && !e->exec_confirmed && e->exec_source) {
                /* The exec pipe is written before the child exits: take its
                 * result now, as if its event had come first, so the outcome
                 * does not depend on the order of the two events (without
                 * probes a service is ready once executed, whatever it does
                 * next). Without exec_source the gate was never opened: the
                 * child died at the gate, and EOF would not mean an exec. */
                int r = spawn_read_exec_result(e->child.exec_fd);
                if (r != 0)
                        handle_exec_result(e, r > 0 ? 0 : r);
        }
        /* main-pid.c: a launcher that exited 0 and left the service running. */
        if (main_pid_launcher_exited(e))
                teardown_check(e);
        else
                executor_service_exited(e);
        mk_executor_unref(e);
        return 0;
}

static int on_deadline(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        MkExecutor *e = userdata;
        _cleanup_free_ char *unmet = NULL;
        size_t n = 0;

        e->deadline_source = sd_event_source_disable_unref(e->deadline_source);
        if (e->state != MK_STATE_STARTING)
                return 0;

        for (size_t i = 0; i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                char *joined;
                if (p->passed)
                        continue;
                if (asprintf_safe(&joined, "%s%s%s%s%s%s", unmet ?: "", n++ ? "; " : "", p->ops->name,
                             p->status ? " (" : "", p->status ?: "", p->status ? ")" : "") < 0)
                        break;
                free(unmet);
                unmet = joined;
        }
        if (!e->exec_confirmed && e->child.gate_fd >= 0)
                /* Still at the gate: placement (a systemd scope job) never completed. */
                executor_set_error(e, "%s: start timed out before the command was executed: "
                                   "still waiting for the %s backend to place the process (%s)",
                                   e->name, mk_containment_to_string(e->containment_used),
                                   e->containment_reason ?: "no answer");
        else if (!e->exec_confirmed)
                executor_set_error(e, "%s: start timed out before the command was executed", e->name);
        else
                executor_set_error(e, "%s: start timed out waiting for %s", e->name,
                                   unmet ?: "readiness");
        executor_error_add_last_lines(e);
        fail_start(e, -ETIMEDOUT);
        return 0;
}

static void remember_line(MkExecutor *e, const char *line, size_t length) {
        char *copy = strndup(line, MIN(length, (size_t) RECENT_LINE_MAX));
        if (!copy)
                return;
        free(e->recent[e->recent_next]);
        e->recent[e->recent_next] = copy;
        e->recent_next = (e->recent_next + 1) % RECENT_LINES;
}

static void on_line(void *userdata, MkStream stream, const char *line, size_t length) {
        MkExecutor *e = userdata;

        remember_line(e, line, length);
        /* Output comes only after the exec, but its event may be dispatched
         * before the exec pipe's: take the exec result first, so the probes
         * are started and see this line. */
        if (e->state == MK_STATE_STARTING && !e->exec_confirmed && e->exec_source &&
            !e->tearing_down) {
                int r = spawn_read_exec_result(e->child.exec_fd);
                if (r != 0)
                        handle_exec_result(e, r > 0 ? 0 : r);
        }
        if (e->state == MK_STATE_STARTING)
                for (size_t i = 0; i < e->n_probes; i++) {
                        Probe *p = e->probes[i];
                        if (p->started && !p->passed && p->ops->line)
                                p->ops->line(p, stream, line, length);
                }
        if (e->wait_for)
                executor_wait_for_output(e);
        if (e->line_handler && !e->quiet)
                e->line_handler(e, stream, line, length, e->line_userdata);
}

static void on_placed(Containment *c _unused_, int result, void *userdata) {
        MkExecutor *e = userdata;
        int r;

        if (e->state != MK_STATE_STARTING || e->tearing_down)
                return;
        if (result < 0) {
                executor_set_error(e, "could not place %s in its %s: %s", e->name,
                                   mk_containment_to_string(e->containment_used), strerror(-result));
                fail_start(e, result);
                return;
        }
        free(e->containment_reason);
        e->containment_reason = e->containment->reason ? strdup(e->containment->reason) : NULL;
        e->containment_used = e->containment->kind; /* a backend may have fallen back */

        spawn_release(&e->child);
        r = sd_event_add_io(e->event, &e->exec_source, e->child.exec_fd, EPOLLIN | EPOLLET, on_exec_result, e);
        if (r >= 0)
                r = sd_event_source_set_priority(e->exec_source, e->priority);
        if (r < 0) {
                executor_set_error(e, "could not watch the exec of %s: %s", e->name, strerror(-r));
                fail_start(e, r);
        }
}

/* ---- start ---- */

static int open_containment(MkExecutor *e) {
        _cleanup_free_ char *description = strv_join(e->argv, " ");
        _cleanup_free_ char *refusal = NULL;
        const ContainmentCallbacks cb = { .placed = on_placed, .empty = on_containment_empty };
        const ContainmentParams params = {
                .name = e->name,
                .description = description,
                .bus_address = e->bus_address,
                .kill_signal = e->kill_signal,
        };
        int r;

        if (!mk_containment_to_string(e->containment_wanted)) {
                executor_set_error(e, "unknown containment in $MIRAKURU_CONTAINMENT (want auto, systemd, cgroup or process-group)");
                return -EINVAL;
        }
        r = containment_new(e->containment_wanted, &params, e->event, e->priority, &cb, e,
                            &e->containment, &refusal);
        if (r < 0) {
                executor_set_error(e, "%s: no containment backend could hold the service (%s)", e->name,
                                   refusal ?: strerror(-r));
                /* Not the command's fault: the backend's own errno (EACCES
                 * making a cgroup, ENOENT of a bus socket) would read as "the
                 * command could not be executed" or "not found". */
                return r == -ENOMEM ? r : -EOPNOTSUPP;
        }
        e->containment_used = e->containment->ops->kind;
        e->containment_reason = e->containment->reason ? strdup(e->containment->reason) : NULL;
        return 0;
}

static int make_pipe(int fds[2]) {
        return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

static int spawn_child(MkExecutor *e) {
        _cleanup_strv_free_ char **env = NULL, **paths = NULL;
        _cleanup_close_pair_ int out[2] = { -EBADF, -EBADF }, err[2] = { -EBADF, -EBADF };
        const CaptureCallbacks cb = { .line = on_line };
        _cleanup_free_ char *cgroup_mount = NULL;
        const char *path;
        int r;

        r = executor_build_env(e, &env);
        if (r < 0)
                return r;
        path = env_get(env, "PATH") ?: getenv("PATH");
        r = spawn_resolve(e->argv[0], path, &paths);
        if (r < 0)
                return r;
        if (e->cgroup_namespace) {
                r = executor_cgroup_namespace_mount(e, &cgroup_mount);
                if (r < 0)
                        return r;
        }
        /* A stream given directly (mk_executor_set_direct_output_fd()) has no pipe. */
        if (e->direct_fd[0] < 0 && (r = make_pipe(out)) < 0)
                return r;
        if (e->direct_fd[1] < 0 && (r = make_pipe(err)) < 0)
                return r;

        const SpawnParams params = {
                .argv = e->argv,
                .exec_paths = paths,
                .envp = env,
                .cwd = e->cwd,
                .stdin_fd = e->stdin_fd,
                .stdout_fd = e->direct_fd[0] >= 0 ? e->direct_fd[0] : out[1],
                .stderr_fd = e->direct_fd[1] >= 0 ? e->direct_fd[1] : err[1],
                .pass_fds = e->child_fds,
                .n_pass_fds = e->n_child_fds,
                .cgroup_fd = containment_cgroup_fd(e->containment),
                .set_listen_pid = e->child_listen_pid,
                .nofile = fd_limit_for_children(),
                .cgroup_mount = cgroup_mount,
                .vfork = !containment_needs_gate(e->containment),
        };
        r = spawn_start(&params, &e->child);
        if (r < 0) {
                executor_set_error(e, "%s: could not create the process: %s", e->name, strerror(-r));
                return r;
        }
        out[1] = safe_close(out[1]);
        err[1] = safe_close(err[1]);

        r = 0;
        if (out[0] >= 0)
                r = capture_new(e->event, e->priority, TAKE_FD(out[0]), MK_STREAM_STDOUT, e->capture_size,
                                e->tee_fd[0], &cb, e, &e->capture[0]);
        if (r >= 0 && err[0] >= 0)
                r = capture_new(e->event, e->priority, TAKE_FD(err[0]), MK_STREAM_STDERR,
                                e->capture_size, e->tee_fd[1], &cb, e, &e->capture[1]);
        if (r >= 0 && e->capture[0] && e->capture[1])
                capture_set_sibling(e->capture[0], e->capture[1]);
        for (int i = 0; r >= 0 && i < 2; i++)
                if (e->tee_handed[i]) { /* the captures hold their own copies now */
                        e->tee_fd[i] = safe_close(e->tee_fd[i]);
                        e->tee_handed[i] = false;
                }
        if (r >= 0)
                /* issue 14: edge-triggered. A pidfd stays readable once the
                 * process is gone: level-triggered, every pending exit came
                 * back from each epoll_wait() until dispatched, and N
                 * services exiting together cost N^2. */
                r = sd_event_add_io(e->event, &e->exit_source, e->child.pidfd, EPOLLIN | EPOLLET, on_main_exit, e);
        if (r >= 0)
                r = sd_event_source_set_priority(e->exit_source, e->priority);
        if (r < 0)
                executor_set_error(e, "%s: could not watch the process: %s", e->name, strerror(-r));
        return r;
}

static int arm_deadline(MkExecutor *e) {
        int r;

        e->deadline = usec_add(now_usec(), e->timeout_usec);
        if (e->deadline == MK_USEC_INFINITY)
                return 0;
        r = sd_event_add_time(e->event, &e->deadline_source, CLOCK_MONOTONIC, e->deadline, 1,
                              on_deadline, e);
        if (r < 0)
                return r;
        return sd_event_source_set_priority(e->deadline_source, e->priority);
}

/* Kills and reaps a child that was created but whose start failed before
 * the loop took it over. */
static void abort_spawned(MkExecutor *e) {
        if (e->child.pid > 0 && !e->main_reaped) {
                siginfo_t si;
                e->child.gate_fd = safe_close(e->child.gate_fd); /* it exits at the gate */
                if (e->containment)
                        (void) containment_kill_all(e->containment);
                (void) kill(e->child.pid, SIGKILL);
                (void) waitid(P_PID, (id_t) e->child.pid, &si, WEXITED);
                e->main_reaped = true;
        }
        executor_free_run(e);
        e->state = MK_STATE_IDLE;
}

int mk_executor_start_async(MkExecutor *e, MkDoneHandler done, void *userdata) {
        int r;

        if (!e)
                return -EINVAL;
        if (e->state != MK_STATE_IDLE)
                return -EBUSY;
        if (!e->argv)
                return -EINVAL;
        if (!e->event) {
                r = mk_executor_attach_event(e, NULL, 0);
                if (r < 0)
                        return r;
        }

        reset_run(e);
        e->ever_started = true;

        /* issue 14: a failure names its step ("could not start: Too many
         * open files" said nothing of where). */
        const char *step = "the pre-checks of the probes";
        r = executor_run_pre_checks(e);
        if (r >= 0) {
                step = "preparing the probes";
                r = executor_prepare_probes(e);
        }
        if (r >= 0) {
                step = "arming the start deadline (a timer)";
                r = arm_deadline(e);
        }
        if (r >= 0) {
                step = "setting up the containment";
                r = open_containment(e);
        }
        if (r >= 0) {
                step = "creating the process (environment, pipes, spawn)";
                r = spawn_child(e);
        }
        if (r < 0) {
                if (!e->error)
                        executor_set_error(e, "%s: could not start: %s: %s", e->name, step, strerror(-r));
                abort_spawned(e);
                return r;
        }

        e->state = MK_STATE_STARTING;
        e->start_pending = true;
        e->start_result = 0;
        e->start_done = done;
        e->start_userdata = userdata;

        /* Placement may finish (or fail) right here; report that by return value. */
        e->in_start_call = true;
        r = containment_place(e->containment, e->child.pid, e->child.pidfd, e->child.in_cgroup);
        e->in_start_call = false;
        if (r < 0 && e->start_pending) {
                executor_set_error(e, "%s: could not place the process: %s", e->name, strerror(-r));
                fail_start(e, r);
        }
        if (!e->start_pending && e->start_result < 0) {
                /* Failed synchronously; the teardown may still be running. */
                return e->start_result;
        }
        return 0;
}

/* ---- stop and kill ---- */

int mk_executor_stop_async(MkExecutor *e, MkDoneHandler done, void *userdata) {
        if (!e)
                return -EINVAL;
        if (e->stop_pending)
                return -EALREADY;
        if (e->state == MK_STATE_IDLE && !e->tearing_down)
                return e->ever_started ? 0 : -ESRCH;

        /* From here on no callback of the caller's: lines still waiting for
         * the loop go to the capture only (their handler's userdata may be
         * gone: a test that failed). */
        e->stop_pending = true;
        e->stop_done = done;
        e->stop_userdata = userdata;
        e->quiet |= !e->callbacks_during_stop;
        e->stop_requested = true;
        if (e->start_pending && !e->tearing_down)
                e->start_result = -ECANCELED;
        if (e->start_pending && e->start_result == -ECANCELED && !e->error)
                executor_set_error(e, "%s: start cancelled by stop", e->name);
        if (!e->tearing_down)
                executor_teardown(e, executor_stop_signal(e), true);
        return 0;
}
