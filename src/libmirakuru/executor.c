/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One service's lifecycle: start with its deadline, probes, fail-fast on
 * exit, stop and kill with teardown in layers, and the blocking calls. */
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
#include "util/event-wait.h"
#include "util/strv.h"
#include "util/time-util.h"

extern char **environ;

static void teardown(MkExecutor *e, int first_signal, bool graceful);

void executor_set_error(MkExecutor *e, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(e->error);
        e->error = s;
}

static const char *signal_name(int signo) {
        const char *d = sigabbrev_np(signo);
        return d ?: "?";
}

/* "exited with status 3", "was killed by signal 9 (KILL)" */
static char *describe_exit(const MkExit *x) {
        char *s = NULL;
        int r;

        if (x->code == CLD_EXITED)
                r = asprintf_safe(&s, "exited with status %d", x->status);
        else
                r = asprintf_safe(&s, "%s signal %d (SIG%s)",
                             x->code == CLD_DUMPED ? "dumped core on" : "was killed by", x->status,
                             signal_name(x->status));
        return r < 0 ? NULL : s;
}

/* Appends the last lines of output to the error message. */
static void error_add_last_lines(MkExecutor *e) {
        _cleanup_free_ char *lines = NULL;
        char *s;

        if (mk_executor_get_last_lines(e, 10, &lines) < 0 || !*lines)
                return;
        /* Indent each line for readability. */
        size_t n = 1;
        for (const char *p = lines; *p; p++)
                n += *p == '\n' ? 3 : 1;
        _cleanup_free_ char *indented = malloc(n + 2);
        if (!indented)
                return;
        char *q = stpcpy(indented, "  ");
        for (const char *p = lines; *p; p++) {
                *q++ = *p;
                if (*p == '\n')
                        q = stpcpy(q, "  ");
        }
        *q = '\0';
        if (asprintf_safe(&s, "%s; last output:\n%s", e->error ?: "failed", indented) < 0)
                return;
        free(e->error);
        e->error = s;
}

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

static void cancel_probes(MkExecutor *e) {
        for (size_t i = 0; i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                if (p->started && p->ops->cancel)
                        p->ops->cancel(p);
                p->started = false;
        }
}

static void drain_output(MkExecutor *e) {
        for (int i = 0; i < 2; i++)
                if (e->capture[i])
                        capture_drain(e->capture[i]);
}

/* Releases what one run holds; keeps what was captured and the exit status. */
void executor_free_run(MkExecutor *e) {
        cancel_probes(e);
        e->exit_source = sd_event_source_disable_unref(e->exit_source);
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
        e->tearing_down = false;
        e->exit = (MkExit) {};
        free(e->error);
        e->error = NULL;
        free(e->containment_reason);
        e->containment_reason = NULL;
        e->containment_used = MK_CONTAINMENT_AUTO;
        free(e->leftovers);
        e->leftovers = NULL;
}

/* ---- teardown ---- */

static void teardown_done(MkExecutor *e) {
        e->stop_timer = sd_event_source_disable_unref(e->stop_timer);
        drain_output(e);
        executor_free_run(e);
        e->tearing_down = false;
        e->state = MK_STATE_IDLE;

        mk_executor_ref(e);
        if (e->start_pending)
                finish_start(e, e->start_result);
        finish_stop(e, stop_result(e));
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
        teardown_check(e);
}

/* Signals every process of the service and waits until all are gone and
 * the main process is reaped. GRACEFUL arms the stop timeout, after which
 * the kill signal follows. */
static void teardown(MkExecutor *e, int first_signal, bool graceful) {
        int r;

        cancel_probes(e);
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

        r = containment_signal(e->containment, first_signal);
        if (r < 0)
                (void) containment_kill_all(e->containment);

        if (graceful && e->stop_timeout_usec != MK_USEC_INFINITY) {
                /* issue 14: accuracy 1 ms (0 means sd-event's default, 250 ms late). */
                r = sd_event_add_time_relative(e->event, &e->stop_timer, CLOCK_MONOTONIC,
                                               e->stop_timeout_usec, TIMER_ACCURACY_USEC, on_stop_timeout, e);
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
        teardown(e, e->kill_signal, false);
}

/* ---- events of a run ---- */

static void become_ready_if_done(MkExecutor *e) {
        if (e->state != MK_STATE_STARTING || !e->exec_confirmed)
                return;
        for (size_t i = 0; i < e->n_probes; i++)
                if (!e->probes[i]->passed)
                        return;
        e->deadline_source = sd_event_source_disable_unref(e->deadline_source);
        /* A daemonizing service's main process is gone, its daemon is not. */
        e->state = e->main_reaped && containment_is_empty(e->containment) > 0 ? MK_STATE_EXITED
                                                                              : MK_STATE_READY;
        finish_start(e, 0);
}

void executor_probe_passed(MkExecutor *e) {
        become_ready_if_done(e);
}

void executor_probe_failed(MkExecutor *e, int error) {
        error_add_last_lines(e);
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

static bool exit_is_clean(MkExecutor *e, const MkExit *x) {
        if (x->code == CLD_EXITED)
                return x->status == 0 || x->status == e->expected_exit;
        return x->code == CLD_KILLED && x->status == e->stop_signal;
}

static int on_main_exit(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_,
                        void *userdata) {
        MkExecutor *e = userdata;
        siginfo_t si = {};

        if (waitid(P_PIDFD, (id_t) e->child.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0) {
                /* Not yet (spurious wake-up): edge-triggered, so ask epoll
                 * to look at the pidfd again (a MOD re-arms it). */
                (void) sd_event_source_set_io_events(e->exit_source, EPOLLIN);
                (void) sd_event_source_set_io_events(e->exit_source, EPOLLIN | EPOLLET);
                return 0;
        }

        e->exit_source = sd_event_source_disable_unref(e->exit_source);
        e->main_reaped = true;
        e->have_exit = true;
        e->exit = (MkExit) { .code = si.si_code, .status = si.si_status };
        e->exit.clean = exit_is_clean(e, &e->exit);
        drain_output(e);
        if (e->containment)
                containment_main_exited(e->containment);

        mk_executor_ref(e);
        if (e->state == MK_STATE_STARTING) {
                if (!e->exec_confirmed && e->exec_source) {
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
                if (e->state == MK_STATE_STARTING && !e->tearing_down) {
                        if (e->exit.code == CLD_EXITED && e->exit.status == 0 && e->exec_confirmed) {
                                /* mirakuru's daemon case: the main process forked and exited
                                 * 0; readiness is still up to the probes. */
                                become_ready_if_done(e);
                        } else {
                                _cleanup_free_ char *how = describe_exit(&e->exit);
                                executor_set_error(e, "%s %s before it was ready", e->name,
                                                   how ?: "exited");
                                error_add_last_lines(e);
                                fail_start(e, -ECHILD);
                        }
                }
        } else if (e->state == MK_STATE_READY)
                e->state = MK_STATE_EXITED;
        if (e->exit_handler)
                e->exit_handler(e, &e->exit, e->exit_userdata);
        teardown_check(e);
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
        error_add_last_lines(e);
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
        if (e->line_handler)
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
        r = sd_event_add_io(e->event, &e->exec_source, e->child.exec_fd, EPOLLIN, on_exec_result, e);
        if (r >= 0)
                r = sd_event_source_set_priority(e->exec_source, e->priority);
        if (r < 0) {
                executor_set_error(e, "could not watch the exec of %s: %s", e->name, strerror(-r));
                fail_start(e, r);
        }
}

/* ---- start ---- */

/* Variables meant for the supervising process itself, never inherited. */
static const char *const supervisor_only_env[] = {
        "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC",
};

/* Applies "NAME=VALUE" entries to ENV. */
static int env_apply(char ***env, char *const *entries) {
        for (char *const *i = entries; i && *i; i++) {
                _cleanup_free_ char *name = strndup(*i, strcspn(*i, "="));
                int r;
                if (!name)
                        return -ENOMEM;
                r = env_set(env, name, *i + strlen(name) + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The caller's environment (unless clean), less removals, plus overrides,
 * plus what the probes add. */
static int build_env(MkExecutor *e, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        int r;

        if (e->clean_env) {
                env = calloc(1, sizeof(char *));
                if (!env)
                        return -ENOMEM;
        } else {
                r = strv_copy((const char *const *) environ, &env);
                if (r < 0)
                        return r;
                /* What systemd handed to us is ours, not the service's: a service
                 * must not notify our manager or take our sockets. */
                for (size_t i = 0; i < ELEMENTSOF(supervisor_only_env); i++)
                        (void) env_set(&env, supervisor_only_env[i], NULL);
        }
        for (char **i = e->env_removals; i && *i; i++)
                (void) env_set(&env, *i, NULL);
        r = env_apply(&env, e->env_overrides);
        if (r < 0)
                return r;
        r = env_apply(&env, e->child_env);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

static int run_pre_checks(MkExecutor *e) {
        for (size_t i = 0; e->pre_check && i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                int r;
                if (!p->ops->pre_check)
                        continue;
                r = p->ops->pre_check(p);
                if (r < 0) {
                        executor_set_error(e, "%s: %s pre-check failed: %s", e->name, p->ops->name, strerror(-r));
                        return r;
                }
                if (r > 0) {
                        executor_set_error(e, "%s: something already answers where the %s probe looks%s%s%s; not started",
                                           e->name, p->ops->name, p->status ? " (" : "",
                                           p->status ?: "", p->status ? ")" : "");
                        return -EADDRINUSE;
                }
        }
        return 0;
}

static int prepare_probes(MkExecutor *e) {
        for (size_t i = 0; i < e->n_probes; i++) {
                Probe *p = e->probes[i];
                int r;
                free(p->status);
                p->status = NULL;
                p->passed = false;
                if (!p->ops->prepare)
                        continue;
                r = p->ops->prepare(p);
                if (r < 0) {
                        if (!e->error)
                                executor_set_error(e, "%s: %s probe: %s%s%s%s", e->name, p->ops->name,
                                                   strerror(-r), p->status ? " (" : "",
                                                   p->status ?: "", p->status ? ")" : "");
                        return r;
                }
        }
        return 0;
}

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
                return r;
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
        const char *path;
        int r;

        r = build_env(e, &env);
        if (r < 0)
                return r;
        path = env_get(env, "PATH") ?: getenv("PATH");
        r = spawn_resolve(e->argv[0], path, &paths);
        if (r < 0)
                return r;
        r = make_pipe(out);
        if (r < 0)
                return r;
        r = make_pipe(err);
        if (r < 0)
                return r;

        const SpawnParams params = {
                .argv = e->argv,
                .exec_paths = paths,
                .envp = env,
                .cwd = e->cwd,
                .stdin_fd = e->stdin_fd,
                .stdout_fd = out[1],
                .stderr_fd = err[1],
                .pass_fds = e->child_fds,
                .n_pass_fds = e->n_child_fds,
                .cgroup_fd = containment_cgroup_fd(e->containment),
                .set_listen_pid = e->child_listen_pid,
                .vfork = !containment_needs_gate(e->containment),
        };
        r = spawn_start(&params, &e->child);
        if (r < 0) {
                executor_set_error(e, "%s: could not create the process: %s", e->name, strerror(-r));
                return r;
        }
        out[1] = safe_close(out[1]);
        err[1] = safe_close(err[1]);

        r = capture_new(e->event, e->priority, TAKE_FD(out[0]), MK_STREAM_STDOUT, e->capture_size,
                        e->tee_fd[0], &cb, e, &e->capture[0]);
        if (r >= 0)
                r = capture_new(e->event, e->priority, TAKE_FD(err[0]), MK_STREAM_STDERR,
                                e->capture_size, e->tee_fd[1], &cb, e, &e->capture[1]);
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
        r = sd_event_add_time(e->event, &e->deadline_source, CLOCK_MONOTONIC, e->deadline, TIMER_ACCURACY_USEC,
                              on_deadline, e); /* issue 14: not 250 ms late */
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
        r = run_pre_checks(e);
        if (r >= 0) {
                step = "preparing the probes";
                r = prepare_probes(e);
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

        e->stop_pending = true;
        e->stop_done = done;
        e->stop_userdata = userdata;
        if (e->start_pending && !e->tearing_down)
                e->start_result = -ECANCELED;
        if (e->start_pending && e->start_result == -ECANCELED && !e->error)
                executor_set_error(e, "%s: start cancelled by stop", e->name);
        if (!e->tearing_down)
                teardown(e, e->stop_signal, true);
        return 0;
}

/* ---- blocking calls ---- */

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
        if (!e->containment || e->state == MK_STATE_IDLE)
                return -ESRCH;
        if (signo == 0)
                signo = e->kill_signal;
        if (!wait) {
                if (e->start_pending && !e->tearing_down) {
                        e->start_result = -ECANCELED;
                        executor_set_error(e, "%s: start cancelled by kill", e->name);
                        /* A signal the service survives must not leave the start
                         * hanging: the kill signal follows after the stop timeout. */
                        teardown(e, signo, signo != e->kill_signal);
                        return 0;
                }
                return containment_signal(e->containment, signo);
        }

        Waiter w = {};
        if (e->stop_pending)
                return -EALREADY;
        if (!event_can_block(e->event))
                return -EBUSY;
        e->stop_pending = true;
        e->stop_done = waiter_done;
        e->stop_userdata = &w;
        if (e->start_pending && !e->tearing_down) {
                e->start_result = -ECANCELED;
                executor_set_error(e, "%s: start cancelled by kill", e->name);
        }
        if (!e->tearing_down)
                teardown(e, signo, signo != e->kill_signal); /* as above */
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
        if (e->main_reaped || e->state == MK_STATE_IDLE)
                return 0;
        if (!event_can_block(e->event))
                return -EBUSY;
        return event_run_until(e->event, &e->main_reaped, usec_add(now_usec(), usec));
}

int mk_executor_restart(MkExecutor *e) {
        return mk_executor_stopped(e, NULL, NULL);
}

int mk_executor_stopped(MkExecutor *e, int (*fn)(MkExecutor *e, void *userdata), void *userdata) {
        int r;

        if (!e)
                return -EINVAL;
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
