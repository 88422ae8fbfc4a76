/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "then.h"
#include "util/macro.h"
#include "util/pidfd-util.h"

extern char **environ;

struct Then {
        pid_t pid;
        int pidfd;
        sd_event_source *exit_source;
        ThenDoneHandler done;
        void *userdata;
};

/* Variables we set for the command; stale copies from our own
 * environment are dropped, and so is our NOTIFY_SOCKET. */
static bool is_ours(const char *entry) {
        static const char *const names[] = { "MIRAKURU_PID", "MIRAKURU_NAME", "MIRAKURU_LISTEN_PORT",
                                             "MIRAKURU_LISTEN_PORTS", "NOTIFY_SOCKET" };
        size_t n = strcspn(entry, "=");

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (strlen(names[i]) == n && strncmp(entry, names[i], n) == 0)
                        return true;
        return false;
}

static void env_free(char **env) {
        for (char **i = env; i && *i; i++)
                free(*i);
        free(env);
}

/* gcc 12's -fanalyzer reports the copies leaked: its writes to a symbolic
 * index (env[k++] in the next round) drop what it knew of the one before.
 * env_free() frees every entry up to the NULL. */
ANALYZER_IGNORE_LEAK_BEGIN
static int build_env(MkExecutor *e, unsigned n_listen, char ***ret) {
        size_t n = 0, k = 0;
        char **env;
        char ports[6 * 64 + 1] = "";
        uint16_t first_port = 0;

        while (environ[n])
                n++;
        env = calloc(n + 5, sizeof(char *));
        if (!env)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!is_ours(environ[i]) && !(env[k++] = strdup(environ[i])))
                        goto oom;
        /* A group (-f) has no one service: E is NULL. */
        if (e && (asprintf_safe(&env[k++], "MIRAKURU_PID=%d", (int) mk_executor_get_pid(e)) < 0 ||
                  asprintf_safe(&env[k++], "MIRAKURU_NAME=%s", mk_executor_get_name(e)) < 0)) {
                env[--k] = NULL;
                goto oom;
        }
        for (unsigned i = 0; i < n_listen && i < 64; i++) {
                uint16_t port;
                if (mk_executor_get_listen_port(e, i, &port) < 0)
                        break;
                if (i == 0)
                        first_port = port;
                snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s%u", i ? " " : "", port);
        }
        if (first_port > 0 &&
            (asprintf_safe(&env[k++], "MIRAKURU_LISTEN_PORT=%u", first_port) < 0 ||
             asprintf_safe(&env[k++], "MIRAKURU_LISTEN_PORTS=%s", ports) < 0)) {
                env[--k] = NULL;
                goto oom;
        }
        *ret = env;
        return 0;
oom:
        env_free(env);
        return -ENOMEM;
}
ANALYZER_IGNORE_END

static int on_then_exit(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        Then *t = userdata;
        siginfo_t si = {};
        int status;

        if (waitid(P_PIDFD, (id_t) t->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
                return 0;
        t->exit_source = sd_event_source_disable_unref(t->exit_source);
        t->pid = 0;
        status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        if (t->done)
                t->done(t, status, t->userdata);
        return 0;
}

int then_start(const char *command, MkExecutor *e, unsigned n_listen, sd_event *event,
               ThenDoneHandler done, void *userdata, Then **ret) {
        const char *argv[] = { "/bin/sh", "-c", command, NULL };
        sigset_t none;
        char **env = NULL;
        Then *t;
        int r;

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        *t = (Then) { .pidfd = -EBADF, .done = done, .userdata = userdata };

        r = build_env(e, n_listen, &env);
        if (r < 0) {
                free(t);
                return r;
        }

        sigemptyset(&none);
        t->pid = fork_with_pidfd(&t->pidfd);
        if (t->pid < 0) {
                r = -errno;
                env_free(env);
                free(t);
                return r;
        }
        if (t->pid == 0) {
                /* Only async-signal-safe calls here. We block the signals we
                 * handle; the command gets a clean mask. */
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                execve(argv[0], (char *const *) argv, env);
                _exit(127);
        }
        env_free(env);

        r = sd_event_add_io(event, &t->exit_source, t->pidfd, EPOLLIN, on_then_exit, t);
        if (r < 0) {
                then_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

int then_signal(Then *t, int signo) {
        if (!t || t->pid <= 0)
                return -ESRCH;
        /* Through the pidfd: the pid cannot have been reused. */
        return pidfd_signal_child(t->pidfd, t->pid, signo);
}

bool then_forward_signal(Then *t, const struct signalfd_siginfo *si) {
        if (then_get_pid(t) <= 0)
                return false;
        if (si->ssi_code != SI_KERNEL)
                (void) then_signal(t, (int) si->ssi_signo);
        return true;
}

pid_t then_get_pid(Then *t) {
        return t ? t->pid : 0;
}

Then *then_free(Then *t) {
        if (!t)
                return NULL;
        t->exit_source = sd_event_source_disable_unref(t->exit_source);
        if (t->pid > 0) {
                siginfo_t si;
                (void) kill(t->pid, SIGKILL);
                (void) waitid(P_PID, (id_t) t->pid, &si, WEXITED);
        }
        safe_close(t->pidfd);
        free(t);
        return NULL;
}
