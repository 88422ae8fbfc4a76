/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"
#include "service.h"
#include "util/macro.h"

/* Logs why configuring failed and picks the exit status: the library
 * answers -EINVAL (with an explanation) for input it will not take. */
static int config_failed(MkExecutor *e, const char *what, int r) {
        const char *why = mk_executor_get_error(e);

        if (r == -EINVAL) {
                log_error("invalid %s: %s", what, why ?: strerror(-r));
                return EXIT_USAGE;
        }
        if (r == -EOPNOTSUPP) {
                log_error("%s: not supported by this build of libmirakuru", what);
                return EXIT_USAGE;
        }
        log_error("could not set up %s: %s", what, why ?: strerror(-r));
        return EXIT_INTERNAL;
}

void service_on_notify(MkExecutor *e, const char *status, unsigned flags, void *userdata) {
        /* log_info() escapes what the service controls. */
        if (status)
                log_info("%s: STATUS=%s", mk_executor_get_name(e), status);
        if (flags & MK_NOTIFY_STOPPING)
                log_info("%s: says it is stopping (STOPPING=1)", mk_executor_get_name(e));
        if (flags & MK_NOTIFY_RELOADING)
                log_info("%s: says it is reloading (RELOADING=1)", mk_executor_get_name(e));
        if (flags & MK_NOTIFY_MAINPID)
                log_info("%s: main process now pid %d", mk_executor_get_name(e), (int) mk_executor_get_pid(e));
}

static int add_probes(const Options *o, MkExecutor *e) {
        int r;

        for (const char **i = o->outputs; *i; i++)
                if ((r = mk_executor_add_output_probe(e, *i, o->output_stream)) < 0)
                        return config_failed(e, "--output", r);
        for (size_t i = 0; i < o->n_tcp; i++)
                if ((r = mk_executor_add_tcp_probe(e, o->tcp[i].host, o->tcp[i].port)) < 0)
                        return config_failed(e, "--tcp", r);
        for (const char **i = o->unix_paths; *i; i++)
                if ((r = mk_executor_add_unix_probe(e, *i)) < 0)
                        return config_failed(e, "--unix", r);
        for (const char **i = o->http_urls; *i; i++) {
                const MkHttpProbe probe = {
                        .url = *i,
                        .method = o->http_method,
                        .status = o->http_status,
                        .headers = o->http_headers,
                        .body = o->http_data,
                };
                if ((r = mk_executor_add_http_probe(e, &probe)) < 0)
                        return config_failed(e, "--http", r);
        }
        for (const char **i = o->pid_files; *i; i++)
                if ((r = mk_executor_add_pid_file_probe(e, *i, true)) < 0)
                        return config_failed(e, "--pid-file", r);
        for (const char **i = o->pid_files_exist; *i; i++)
                if ((r = mk_executor_add_pid_file_probe(e, *i, false)) < 0)
                        return config_failed(e, "--pid-file-exists", r);
        if (o->notify && (r = mk_executor_add_notify_probe(e)) < 0)
                return config_failed(e, "--notify", r);
        for (size_t i = 0; i < o->n_listen; i++)
                if ((r = mk_executor_add_listen_tcp(e, o->listen[i].host, o->listen[i].port, NULL)) < 0)
                        return config_failed(e, "--listen", r);
        for (const char **i = o->listen_unix; *i; i++)
                if ((r = mk_executor_add_listen_unix(e, *i, NULL)) < 0)
                        return config_failed(e, "--listen-unix", r);
        for (const char **i = o->exec_probes; *i; i++)
                if ((r = mk_executor_add_exec_probe(e, *i, 0)) < 0)
                        return config_failed(e, "--exec-probe", r);
        return 0;
}

static int configure(const Options *o, MkExecutor *e) {
        int r;

        r = o->shell ? mk_executor_set_shell_command(e, o->command[0])
                     : mk_executor_set_argv(e, (const char *const *) o->command);
        if (r < 0)
                return config_failed(e, "COMMAND", r);
        if (o->name && (r = mk_executor_set_name(e, o->name)) < 0)
                return config_failed(e, "--name", r);
        if (o->cwd && (r = mk_executor_set_cwd(e, o->cwd)) < 0)
                return config_failed(e, "--cwd", r);

        if (o->clean_env && (r = mk_executor_set_clean_env(e, true)) < 0)
                return config_failed(e, "--clean-env", r);
        /* Our own NOTIFY_SOCKET (systemd's, for us) is not the service's. */
        if ((r = mk_executor_unset_env(e, "NOTIFY_SOCKET")) < 0)
                return config_failed(e, "the environment", r);
        for (const char **i = o->unset_env; *i; i++)
                if ((r = mk_executor_unset_env(e, *i)) < 0)
                        return config_failed(e, "--unset-env", r);
        for (const char **i = o->env; *i; i++) {
                _cleanup_free_ char *name = strndup(*i, strcspn(*i, "="));
                if (!name)
                        return config_failed(e, "--env", -ENOMEM);
                if ((r = mk_executor_set_env(e, name, *i + strlen(name) + 1)) < 0)
                        return config_failed(e, "--env", r);
        }

        if ((r = mk_executor_set_timeout(e, o->timeout_usec)) < 0)
                return config_failed(e, "--timeout", r);
        if ((r = mk_executor_set_stop_signal(e, o->stop_signal)) < 0)
                return config_failed(e, "--stop-signal", r);
        if ((r = mk_executor_set_kill_signal(e, o->kill_signal)) < 0)
                return config_failed(e, "--kill-signal", r);
        if ((r = mk_executor_set_stop_timeout(e, o->stop_timeout_usec)) < 0)
                return config_failed(e, "--stop-timeout", r);
        if (o->kill_mode_set && (r = mk_executor_set_kill_mode(e, o->kill_mode)) < 0)
                return config_failed(e, "--kill-mode", r);
        if ((r = mk_executor_set_notify_handler(e, service_on_notify, NULL)) < 0)
                return config_failed(e, "--notify", r);
        if ((r = mk_executor_set_expected_exit(e, o->expected_exit)) < 0)
                return config_failed(e, "--expect-exit", r);
        if ((r = mk_executor_set_pre_check(e, o->pre_check)) < 0)
                return config_failed(e, "--no-pre-check", r);
        if (o->containment_set && (r = mk_executor_set_containment(e, o->containment)) < 0)
                return config_failed(e, "--containment", r);
        if ((r = mk_executor_set_cgroup_namespace(e, o->cgroup_namespace)) < 0)
                return config_failed(e, "--cgroup-namespace", r);

        /* The service's output goes to ours unchanged, or to the --log file. */
        if (o->log) {
                r = mk_executor_set_output_file(e, MK_STREAM_BOTH, o->log);
                if (r < 0) {
                        log_error("invalid --log '%s': %s", o->log, mk_executor_get_error(e) ?: strerror(-r));
                        return EXIT_USAGE;
                }
        } else {
                if ((r = mk_executor_set_output_fd(e, MK_STREAM_STDOUT, STDOUT_FILENO)) < 0)
                        return config_failed(e, "the output", r);
                if ((r = mk_executor_set_output_fd(e, MK_STREAM_STDERR, STDERR_FILENO)) < 0)
                        return config_failed(e, "the output", r);
        }

        return add_probes(o, e);
}

int service_new(const Options *o, sd_event *event, MkExecutor **ret) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = NULL;
        int r;

        r = mk_executor_new(&e);
        if (r < 0) {
                log_error("could not create the executor: %s", strerror(-r));
                return EXIT_INTERNAL;
        }
        r = mk_executor_attach_event(e, event, 0);
        if (r < 0)
                return config_failed(e, "the event loop", r);
        r = configure(o, e);
        if (r != 0)
                return r;
        *ret = TAKE_PTR(e);
        return 0;
}

/* URL with the user:password@ part of its authority (a secret) shown as
 * "***@"; malloc'd, NULL on allocation failure. */
static char *url_without_secret(const char *url) {
        const char *s = strstr(url, "://"), *at;
        char *r;

        if (!s)
                return strdup(url);
        s += 3;
        at = memrchr(s, '@', strcspn(s, "/?#"));
        if (!at)
                return strdup(url);
        if (asprintf_safe(&r, "%.*s***%s", (int) (s - url), url, at) < 0)
                return NULL;
        return r;
}

static const char *host_or_default(const char *host) {
        return host ?: "localhost";
}

void service_describe(const Options *o, MkExecutor *e) {
        if (!log_is_verbose())
                return;

        /* Quoted as a shell would take it back: empty words, blanks and
         * control characters are seen for what they are. */
        {
                char *const sh[] = { (char *) "/bin/sh", (char *) "-c", o->command[0], NULL };
                _cleanup_free_ char *line = shell_quote_argv(o->shell ? sh : o->command);
                log_info("service %s: %s", mk_executor_get_name(e), line ?: "(out of memory)");
        }
        if (o->cwd)
                log_info("working directory: %s", o->cwd);
        if (o->clean_env)
                log_info("environment: starts empty (--clean-env)");
        /* Names only: values may be secrets. */
        for (const char **i = o->env; *i; i++)
                log_info("environment: sets %.*s", (int) strcspn(*i, "="), *i);
        for (const char **i = o->unset_env; *i; i++)
                log_info("environment: removes %s", *i);

        for (const char **i = o->outputs; *i; i++)
                log_info("ready when: a line on %s matches '%s'",
                         o->output_stream == MK_STREAM_BOTH ? "stdout or stderr"
                         : o->output_stream == MK_STREAM_STDOUT ? "stdout" : "stderr", *i);
        for (size_t i = 0; i < o->n_tcp; i++)
                log_info("ready when: a TCP connection to %s port %u succeeds",
                         host_or_default(o->tcp[i].host), o->tcp[i].port);
        for (const char **i = o->unix_paths; *i; i++)
                log_info("ready when: a connection to the Unix socket %s succeeds", *i);
        for (const char **i = o->http_urls; *i; i++) {
                _cleanup_free_ char *shown = url_without_secret(*i);
                log_info("ready when: %s %s answers with a status matching '%s'",
                         o->http_method ?: "HEAD", shown ?: "(URL)", o->http_status ?: "^2[0-9][0-9]$");
        }
        for (const char **i = o->pid_files; *i; i++)
                log_info("ready when: the file %s holds the pid of a live process of the service", *i);
        for (const char **i = o->pid_files_exist; *i; i++)
                log_info("ready when: the file %s exists", *i);
        if (o->notify)
                log_info("ready when: the service sends READY=1 to its NOTIFY_SOCKET");
        for (size_t i = 0; i < o->n_listen; i++)
                log_info("socket activation: listening on %s port %u", host_or_default(o->listen[i].host),
                         o->listen[i].port);
        for (const char **i = o->listen_unix; *i; i++)
                log_info("socket activation: listening on the Unix socket %s", *i);
        for (const char **i = o->exec_probes; *i; i++)
                log_info("ready when: '%s' exits 0", *i);
        if (!o->outputs[0] && !o->n_tcp && !o->unix_paths[0] && !o->http_urls[0] && !o->pid_files[0] &&
            !o->pid_files_exist[0] &&
            !o->notify && !o->exec_probes[0])
                log_info("ready when: the command has been executed");
        if (o->timeout_usec == MK_USEC_INFINITY)
                log_info("readiness deadline: none");
        else
                log_info("readiness deadline: %.3g s", (double) o->timeout_usec / 1e6);
        log_info("stopping with SIG%s to %s, then SIG%s to every process after %.3g s",
                 sigabbrev_np(o->stop_signal) ?: "?",
                 o->kill_mode_set && o->kill_mode == MK_KILL_MIXED ? "the main process" : "every process",
                 sigabbrev_np(o->kill_signal) ?: "?", (double) o->stop_timeout_usec / 1e6);
}
