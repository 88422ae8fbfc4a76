/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exec probe: a shell command (/bin/sh -c) is run until it exits 0.
 * Each attempt is its own session and process group (spawn.h), its output
 * goes to /dev/null, its exit is watched through its pidfd, and it is
 * killed, with its whole process group, after the attempt timeout, once the
 * probe passes, and on cancel. Failed attempts are repeated on the probe
 * retry back-off. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor-private.h"
#include "probe.h"
#include "fd-limit.h"
#include "spawn.h"

#define DEFAULT_ATTEMPT_TIMEOUT_USEC (5 * MK_USEC_PER_SEC)

extern char **environ;

typedef struct ExecProbe {
        Probe probe;
        char *command;
        uint64_t attempt_timeout_usec;
        SpawnedChild child;     /* the running attempt; pid 0 when none */
        bool timed_out;
        unsigned n_attempts;
        sd_event_source *exit_source;
        sd_event_source *timeout_source;
        sd_event_source *retry;
} ExecProbe;

static void attempt_run(ExecProbe *x);

/* Signals the attempt's whole process group (and the leader, should it not
 * lead one yet). The leader is not reaped yet, so its pid is still ours. */
static void attempt_kill(ExecProbe *x) {
        if (x->child.pid <= 0)
                return;
        (void) kill(-x->child.pid, SIGKILL);
        (void) kill(x->child.pid, SIGKILL);
}

/* Kills and reaps the attempt now (cancel: nothing may survive). */
static void attempt_reap_now(ExecProbe *x) {
        siginfo_t si;

        x->exit_source = sd_event_source_disable_unref(x->exit_source);
        x->timeout_source = sd_event_source_disable_unref(x->timeout_source);
        if (x->child.pid > 0) {
                attempt_kill(x);
                while (waitid(P_PIDFD, (id_t) x->child.pidfd, &si, WEXITED) < 0 && errno == EINTR)
                        ;
                x->child.pid = 0;
        }
        spawned_child_done(&x->child);
}

static int on_retry(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        attempt_run(userdata);
        return 0;
}

static int on_attempt_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        ExecProbe *x = userdata;

        x->timed_out = true;
        attempt_kill(x); /* on_attempt_exit reaps it and schedules the next */
        return 0;
}

static int on_attempt_exit(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        ExecProbe *x = userdata;
        siginfo_t si = {};
        int r;

        if (waitid(P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
                return 0;
        /* Whatever the command left in its process group goes with it; while
         * the leader is not reaped, its pid (the group's id) cannot be reused. */
        (void) kill(-x->child.pid, SIGKILL);
        (void) waitid(P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG);
        x->child.pid = 0;
        x->exit_source = sd_event_source_disable_unref(x->exit_source);
        x->timeout_source = sd_event_source_disable_unref(x->timeout_source);
        spawned_child_done(&x->child);

        if (si.si_code == CLD_EXITED && si.si_status == 0 && !x->timed_out) {
                probe_set_status(&x->probe, "`%s` exited 0", x->command);
                probe_passed(&x->probe);
                return 0;
        }
        if (x->timed_out)
                probe_set_status(&x->probe, "`%s` did not finish within %llu ms and was killed (attempt %u)",
                                 x->command, (unsigned long long) (x->attempt_timeout_usec / MK_USEC_PER_MSEC),
                                 x->n_attempts);
        else if (si.si_code == CLD_EXITED)
                probe_set_status(&x->probe, "`%s` exited with status %d (attempt %u)", x->command,
                                 si.si_status, x->n_attempts);
        else
                probe_set_status(&x->probe, "`%s` was killed by signal %d (attempt %u)", x->command,
                                 si.si_status, x->n_attempts);
        r = probe_arm_timer(&x->probe, &x->retry, probe_retry_delay(&x->probe, x->n_attempts - 1), on_retry);
        if (r < 0)
                probe_failed(&x->probe, r, "cannot arm the retry timer: %s", strerror(-r));
        return 0;
}

static void attempt_run(ExecProbe *x) {
        char *argv[] = { (char *) "sh", (char *) "-c", x->command, NULL };
        char *paths[] = { (char *) "/bin/sh", NULL };
        _cleanup_close_ int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        int r;

        if (null_fd < 0) {
                probe_failed(&x->probe, -errno, "cannot open /dev/null: %m");
                return;
        }
        const SpawnParams params = {
                .argv = argv,
                .exec_paths = paths,
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = null_fd,
                .stderr_fd = null_fd,
                .cgroup_fd = -EBADF,
                .nofile = fd_limit_for_children(),
        };
        x->timed_out = false;
        x->n_attempts++;
        r = spawn_start(&params, &x->child);
        if (r < 0) {
                x->child = (SpawnedChild) { .pidfd = -EBADF, .gate_fd = -EBADF, .exec_fd = -EBADF };
                probe_failed(&x->probe, r, "cannot run /bin/sh: %s", strerror(-r));
                return;
        }
        spawn_release(&x->child);
        x->child.exec_fd = safe_close(x->child.exec_fd);

        r = probe_add_io(&x->probe, &x->exit_source, x->child.pidfd, EPOLLIN, on_attempt_exit);
        if (r >= 0 && x->attempt_timeout_usec != MK_USEC_INFINITY)
                r = probe_arm_timer(&x->probe, &x->timeout_source, x->attempt_timeout_usec, on_attempt_timeout);
        if (r < 0) {
                attempt_reap_now(x);
                probe_failed(&x->probe, r, "cannot watch the command: %s", strerror(-r));
        }
}

static int exec_start(Probe *p) {
        ExecProbe *x = (ExecProbe *) p;

        x->n_attempts = 0;
        probe_set_status(p, "`%s` not run yet", x->command);
        attempt_run(x);
        return 0;
}

static void exec_cancel(Probe *p) {
        ExecProbe *x = (ExecProbe *) p;

        x->retry = sd_event_source_disable_unref(x->retry);
        attempt_reap_now(x);
}

static void exec_done(Probe *p) {
        ExecProbe *x = (ExecProbe *) p;

        exec_cancel(p);
        free(x->command);
}

static const ProbeOps exec_ops = {
        .name = "exec",
        .size = sizeof(ExecProbe),
        .start = exec_start,
        .cancel = exec_cancel,
        .done = exec_done,
};

int mk_executor_add_exec_probe(MkExecutor *e, const char *command, uint64_t attempt_timeout_usec) {
        ExecProbe *x;
        int r;

        if (!e)
                return -EINVAL;
        if (!command || !*command) {
                executor_set_error(e, "exec probe: empty command");
                return -EINVAL;
        }
        x = (ExecProbe *) probe_alloc(&exec_ops);
        if (!x)
                return -ENOMEM;
        x->child = (SpawnedChild) { .pidfd = -EBADF, .gate_fd = -EBADF, .exec_fd = -EBADF };
        x->attempt_timeout_usec = attempt_timeout_usec ?: DEFAULT_ATTEMPT_TIMEOUT_USEC;
        x->command = strdup(command);
        if (!x->command) {
                probe_free(&x->probe);
                return -ENOMEM;
        }
        r = executor_add_probe(e, &x->probe);
        if (r < 0)
                probe_free(&x->probe);
        return r;
}
