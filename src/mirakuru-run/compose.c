/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The YAML file of mirakuru-run -f, read with libyaml: process-compose's
 * core format plus our keys for every probe and containment. Every key is
 * known or an error with FILE:LINE; nothing is silently ignored. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "compose-file.h"
#include "compose-model.h"
#include "compose.h"
#include "log.h"
#include "parse-util.h"
#include "shell-exec.h"
#include "util/macro.h"

static int log_oom_error(void) {
        log_error("out of memory");
        return -ENOMEM;
}

typedef struct Parser {
        const char *file;
        yaml_document_t *doc;
        const Options *o;
} Parser;

_printf_(3, 4) static void report(Parser *p, const yaml_node_t *n, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_error("%s:%zu: %s", p->file, n ? n->start_mark.line + 1 : 0, msg);
}
/* Reports a mistake at node N and evaluates to -EINVAL. A macro, so that
 * clang's analyzer (which does not follow variadic calls) sees each
 * caller's error return. */
#define bad(p, n, ...) (report((p), (n), __VA_ARGS__), -EINVAL)

static yaml_node_t *node(Parser *p, int id) {
        return yaml_document_get_node(p->doc, id);
}

static const char *scalar(const yaml_node_t *n) {
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static int want_scalar(Parser *p, const yaml_node_t *n, const char *key, const char **ret) {
        const char *s = scalar(n);
        if (!s)
                return bad(p, n, "%s: want a single value", key);
        *ret = s;
        return 0;
}

static int want_map(Parser *p, const yaml_node_t *n, const char *key) {
        if (!n || n->type != YAML_MAPPING_NODE)
                return bad(p, n, "%s: want a mapping (key: value lines)", key);
        return 0;
}

static int want_bool(Parser *p, const yaml_node_t *n, const char *key, bool *ret) {
        const char *s = scalar(n);
        if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0))
                *ret = true;
        else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0))
                *ret = false;
        else
                return bad(p, n, "%s: want true or false", key);
        return 0;
}

static int want_seconds(Parser *p, const yaml_node_t *n, const char *key, uint64_t *ret) {
        const char *s = scalar(n);
        if (s && strcmp(s, "infinity") == 0) {
                *ret = MK_USEC_INFINITY;
                return 0;
        }
        if (!s || parse_seconds(s, ret) < 0)
                return bad(p, n, "%s: want a non-negative number of seconds", key);
        return 0;
}

static int want_signal(Parser *p, const yaml_node_t *n, const char *key, int *ret) {
        const char *s = scalar(n);
        if (!s || parse_signal(s, ret) < 0)
                return bad(p, n, "%s: want a signal name like TERM or a number like 15", key);
        return 0;
}

/* Calls FN for the scalar N, or for each scalar of the sequence N. */
typedef int (*ScalarFn)(Parser *p, Service *s, const yaml_node_t *n, const char *value);
static int each_scalar(Parser *p, Service *s, const yaml_node_t *n, const char *key, ScalarFn fn) {
        if (n->type == YAML_SCALAR_NODE)
                return fn(p, s, n, scalar(n));
        if (n->type != YAML_SEQUENCE_NODE)
                return bad(p, n, "%s: want a value or a list of values", key);
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
                yaml_node_t *item = node(p, *i);
                int r;
                if (!scalar(item))
                        return bad(p, item, "%s: want a list of single values", key);
                r = fn(p, s, item, scalar(item));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A library call refused a value: say why, at the value's line. */
static int refused(Parser *p, Service *s, const yaml_node_t *n, const char *key, int r) {
        if (r == -ENOMEM)
                return log_oom_error();
        if (r == -EOPNOTSUPP)
                return bad(p, n, "%s: not supported by this build of libmirakuru", key);
        return bad(p, n, "%s: %s", key, mk_executor_get_error(s->e) ?: strerror(-r));
}

/* ---- our probe keys ---- */

static int add_tcp(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        _cleanup_free_ char *host = NULL;
        const char *why = NULL;
        uint16_t port;
        int r = parse_host_port(v, 1, &host, &port, &why);
        if (r < 0)
                return bad(p, n, "tcp: invalid '%s': %s", v, why ?: "want [HOST:]PORT");
        r = mk_executor_add_tcp_probe(s->e, host, port);
        return r < 0 ? refused(p, s, n, "tcp", r) : 0;
}

static int add_listen(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        _cleanup_free_ char *host = NULL;
        const char *why = NULL;
        uint16_t port;
        int r = parse_host_port(v, 0, &host, &port, &why);
        if (r < 0)
                return bad(p, n, "listen: invalid '%s': %s", v, why ?: "want [HOST:]PORT");
        r = mk_executor_add_listen_tcp(s->e, host, port, NULL);
        return r < 0 ? refused(p, s, n, "listen", r) : 0;
}

static int add_unix(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        int r = mk_executor_add_unix_probe(s->e, v);
        return r < 0 ? refused(p, s, n, "unix", r) : 0;
}

static int add_listen_unix(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        int r = mk_executor_add_listen_unix(s->e, v, NULL);
        return r < 0 ? refused(p, s, n, "listen_unix", r) : 0;
}

static int add_http(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        const char *why = NULL;
        if (check_url(v, &why) < 0) {
                _cleanup_free_ char *shown = url_without_secret_shown(v);
                return bad(p, n, "http: invalid URL '%s': %s", shown ?: "", why ?: "malformed");
        }
        int r = mk_executor_add_http_probe(s->e, &(MkHttpProbe) { .url = v });
        return r < 0 ? refused(p, s, n, "http", r) : 0;
}

static int add_output(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        int r = mk_executor_add_output_probe(s->e, v, MK_STREAM_BOTH);
        return r < 0 ? refused(p, s, n, "output", r) : 0;
}

static int add_pid_file(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        int r = mk_executor_add_pid_file_probe(s->e, v, true);
        return r < 0 ? refused(p, s, n, "pid_file", r) : 0;
}

static int add_pid_file_exists(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        int r = mk_executor_add_pid_file_probe(s->e, v, false);
        return r < 0 ? refused(p, s, n, "pid_file_exists", r) : 0;
}

static int add_exec(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        int r = mk_executor_add_exec_probe(s->e, v, 0);
        return r < 0 ? refused(p, s, n, "exec_probe", r) : 0;
}

static int add_env(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        _cleanup_free_ char *name = NULL;
        int r;

        if (!env_assignment_is_valid(v))
                return bad(p, n, "environment: invalid '%s': want NAME=VALUE", v);
        name = strndup(v, strcspn(v, "="));
        if (!name)
                return log_oom_error();
        r = mk_executor_set_env(s->e, name, v + strlen(name) + 1);
        return r < 0 ? refused(p, s, n, "environment", r) : 0;
}

/* "a ready_log_line" is a literal: escape it for an extended regex. */
static int add_ready_log_line(Parser *p, Service *s, const yaml_node_t *n, const char *v) {
        _cleanup_free_ char *re = malloc(strlen(v) * 2 + 1);
        char *q = re;

        if (!re)
                return log_oom_error();
        for (const char *c = v; *c; c++) {
                if (strchr("\\^$.|?*+()[]{}", *c))
                        *q++ = '\\';
                *q++ = *c;
        }
        *q = '\0';
        int r = mk_executor_add_output_probe(s->e, re, MK_STREAM_BOTH);
        return r < 0 ? refused(p, s, n, "ready_log_line", r) : 0;
}

/* ---- process-compose's sections ---- */

/* gcc 12's -fanalyzer reports the names leaked: its writes to a symbolic
 * index (deps[n_deps] for the next entry) drop what it knew of the one
 * before. compose_free() frees the n_deps names of each service. */
ANALYZER_IGNORE_LEAK_BEGIN
static int parse_depends_on(Parser *p, Service *s, const yaml_node_t *n) {
        int r = want_map(p, n, "depends_on");
        if (r < 0)
                return r;
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                MkCondition c = MK_CONDITION_STARTED;
                const char *name = scalar(k);
                Dep *a;

                if (!name || !*name)
                        return bad(p, k, "depends_on: want service names as keys");
                if (v->type == YAML_MAPPING_NODE) {
                        for (yaml_node_pair_t *j = v->data.mapping.pairs.start; j < v->data.mapping.pairs.top; j++) {
                                yaml_node_t *kk = node(p, j->key), *vv = node(p, j->value);
                                const char *key = scalar(kk);
                                if (!key || strcmp(key, "condition") != 0)
                                        return bad(p, kk, "depends_on: unknown key '%s' (want condition)",
                                                   key ?: "?");
                                if (!scalar(vv) || mk_condition_from_string(scalar(vv), &c) < 0)
                                        return bad(p, vv,
                                                   "condition: '%s' is not one of process_started, process_healthy, "
                                                   "process_completed_successfully, process_log_ready",
                                                   scalar(vv) ?: "?");
                        }
                } else if (!(v->type == YAML_SCALAR_NODE && !*scalar(v)))
                        return bad(p, v, "depends_on: %s: want a mapping with condition", name);

                a = reallocarray(s->deps, s->n_deps + 1, sizeof *a);
                if (!a)
                        return log_oom_error();
                s->deps = a;
                s->deps[s->n_deps] = (Dep) { .name = strdup(name), .condition = c,
                                             .line = (unsigned) k->start_mark.line + 1 };
                if (!s->deps[s->n_deps++].name)
                        return log_oom_error();
        }
        return 0;
}
ANALYZER_IGNORE_END

static int parse_http_get(Parser *p, Service *s, const yaml_node_t *n, uint64_t timeout) {
        const char *host = "127.0.0.1", *path = "/", *scheme = "http", *port = NULL;
        long port_n;
        int r = want_map(p, n, "http_get");

        if (r < 0)
                return r;
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = scalar(k) ?: "?", **dst;

                if (strcmp(key, "host") == 0)
                        dst = &host;
                else if (strcmp(key, "path") == 0)
                        dst = &path;
                else if (strcmp(key, "scheme") == 0)
                        dst = &scheme;
                else if (strcmp(key, "port") == 0)
                        dst = &port;
                else
                        return bad(p, k, "http_get: unknown key '%s' (want host, port, path, scheme)", key);
                if ((r = want_scalar(p, v, key, dst)) < 0)
                        return r;
        }
        if (!port || parse_int_range(port, 1, 65535, &port_n) < 0)
                return bad(p, n, "http_get: want a port from 1 to 65535");
        if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
                return bad(p, n, "http_get: scheme '%s': want http or https", scheme);
        _cleanup_free_ char *url = NULL;
        if (asprintf_safe(&url, "%s://%s%s%s:%ld%s%s", scheme, strchr(host, ':') ? "[" : "", host,
                     strchr(host, ':') ? "]" : "", port_n, *path == '/' ? "" : "/", path) < 0)
                return log_oom_error();
        r = mk_executor_add_http_probe(s->e, &(MkHttpProbe) { .url = url, .method = "GET",
                                                              .request_timeout_usec = timeout });
        return r < 0 ? refused(p, s, n, "http_get", r) : 0;
}

static int parse_exec_section(Parser *p, Service *s, const yaml_node_t *n, uint64_t timeout) {
        const char *command = NULL;
        int r = want_map(p, n, "exec");

        if (r < 0)
                return r;
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = scalar(k) ?: "?";

                if (strcmp(key, "command") == 0) {
                        if ((r = want_scalar(p, v, key, &command)) < 0)
                                return r;
                } else if (strcmp(key, "working_dir") == 0)
                        return bad(p, k, "exec: working_dir is not supported (cd in the command)");
                else
                        return bad(p, k, "exec: unknown key '%s' (want command)", key);
        }
        if (!command || !*command)
                return bad(p, n, "exec: want a command");
        r = mk_executor_add_exec_probe(s->e, command, timeout);
        return r < 0 ? refused(p, s, n, "exec", r) : 0;
}

static int parse_readiness_probe(Parser *p, Service *s, const yaml_node_t *n) {
        const yaml_node_t *http_get = NULL, *exec = NULL;
        uint64_t timeout = 0, ignored;
        int r = want_map(p, n, "readiness_probe");

        if (r < 0)
                return r;
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = scalar(k) ?: "?";
                long l;

                if (strcmp(key, "http_get") == 0)
                        http_get = v;
                else if (strcmp(key, "exec") == 0)
                        exec = v;
                else if (strcmp(key, "timeout_seconds") == 0) {
                        if ((r = want_seconds(p, v, key, &timeout)) < 0)
                                return r;
                } else if (strcmp(key, "initial_delay_seconds") == 0 || strcmp(key, "period_seconds") == 0) {
                        /* Our probes react to events; the start deadline bounds them. */
                        if ((r = want_seconds(p, v, key, &ignored)) < 0)
                                return r;
                } else if (strcmp(key, "failure_threshold") == 0 || strcmp(key, "success_threshold") == 0) {
                        if (!scalar(v) || parse_int_range(scalar(v), 0, 1000000, &l) < 0)
                                return bad(p, v, "%s: want a number", key);
                } else
                        return bad(p, k,
                                   "readiness_probe: unknown key '%s' (want http_get, exec, initial_delay_seconds, "
                                   "period_seconds, timeout_seconds, success_threshold, failure_threshold)", key);
        }
        if (!http_get && !exec)
                return bad(p, n, "readiness_probe: want http_get or exec");
        if (http_get && (r = parse_http_get(p, s, http_get, timeout)) < 0)
                return r;
        if (exec && (r = parse_exec_section(p, s, exec, timeout)) < 0)
                return r;
        return 0;
}

static int parse_shutdown(Parser *p, Service *s, const yaml_node_t *n) {
        int r = want_map(p, n, "shutdown");

        if (r < 0)
                return r;
        for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = scalar(k) ?: "?";
                uint64_t usec;
                int signo;

                if (strcmp(key, "signal") == 0) {
                        if ((r = want_signal(p, v, key, &signo)) < 0)
                                return r;
                        r = mk_executor_set_stop_signal(s->e, signo);
                } else if (strcmp(key, "timeout_seconds") == 0) {
                        if ((r = want_seconds(p, v, key, &usec)) < 0)
                                return r;
                        r = mk_executor_set_stop_timeout(s->e, usec);
                } else if (strcmp(key, "command") == 0)
                        return bad(p, k, "shutdown: command is not supported (we stop with a signal)");
                else
                        return bad(p, k, "shutdown: unknown key '%s' (want signal, timeout_seconds)", key);
                if (r < 0)
                        return refused(p, s, v, key, r);
        }
        return 0;
}

/* ---- one process ---- */

static int parse_key(Parser *p, Service *s, const char *key, const yaml_node_t *k, const yaml_node_t *v) {
        const char *str = NULL;
        uint64_t usec;
        bool b;
        long l;
        int r;

        if (strcmp(key, "command") == 0) {
                if ((r = want_scalar(p, v, key, &str)) < 0)
                        return r;
                if (!*str)
                        return bad(p, v, "command: must not be empty");
                /* As bash -c (process-compose) would: a simple command is the
                 * main process itself, not a child of /bin/sh (kill_mode: mixed). */
                char *exec_script = shell_exec_simple(str);
                r = mk_executor_set_shell_command(s->e, exec_script ?: str);
                free(exec_script);
                s->has_command = true;
        } else if (strcmp(key, "working_dir") == 0) {
                if ((r = want_scalar(p, v, key, &str)) < 0)
                        return r;
                r = mk_executor_set_cwd(s->e, str);
        } else if (strcmp(key, "environment") == 0)
                return each_scalar(p, s, v, key, add_env);
        else if (strcmp(key, "depends_on") == 0)
                return parse_depends_on(p, s, v);
        else if (strcmp(key, "readiness_probe") == 0)
                return parse_readiness_probe(p, s, v);
        else if (strcmp(key, "ready_log_line") == 0) {
                if ((r = want_scalar(p, v, key, &str)) < 0)
                        return r;
                return add_ready_log_line(p, s, v, str);
        } else if (strcmp(key, "shutdown") == 0)
                return parse_shutdown(p, s, v);
        else if (strcmp(key, "disabled") == 0)
                return want_bool(p, v, key, &s->disabled);
        else if (strcmp(key, "description") == 0)
                return want_scalar(p, v, key, &str);
        else if (strcmp(key, "log_location") == 0) {
                if ((r = want_scalar(p, v, key, &str)) < 0)
                        return r;
                r = mk_executor_set_output_file(s->e, MK_STREAM_BOTH, str);
                if (r < 0)
                        return bad(p, v, "log_location: cannot open '%s': %s", str,
                                   mk_executor_get_error(s->e) ?: strerror(-r));
                s->has_log_file = true;
                return 0;
        }
        /* Ours. */
        else if (strcmp(key, "tcp") == 0)
                return each_scalar(p, s, v, key, add_tcp);
        else if (strcmp(key, "unix") == 0)
                return each_scalar(p, s, v, key, add_unix);
        else if (strcmp(key, "http") == 0)
                return each_scalar(p, s, v, key, add_http);
        else if (strcmp(key, "output") == 0)
                return each_scalar(p, s, v, key, add_output);
        else if (strcmp(key, "pid_file") == 0)
                return each_scalar(p, s, v, key, add_pid_file);
        else if (strcmp(key, "pid_file_exists") == 0)
                return each_scalar(p, s, v, key, add_pid_file_exists);
        else if (strcmp(key, "exec_probe") == 0)
                return each_scalar(p, s, v, key, add_exec);
        else if (strcmp(key, "listen") == 0)
                return each_scalar(p, s, v, key, add_listen);
        else if (strcmp(key, "listen_unix") == 0)
                return each_scalar(p, s, v, key, add_listen_unix);
        else if (strcmp(key, "notify") == 0) {
                if ((r = want_bool(p, v, key, &b)) < 0 || !b)
                        return r;
                r = mk_executor_add_notify_probe(s->e);
        } else if (strcmp(key, "start_timeout") == 0) {
                if ((r = want_seconds(p, v, key, &usec)) < 0)
                        return r;
                r = mk_executor_set_timeout(s->e, usec);
                s->timeout_set = true;
        } else if (strcmp(key, "kill_signal") == 0) {
                int signo;
                if ((r = want_signal(p, v, key, &signo)) < 0)
                        return r;
                r = mk_executor_set_kill_signal(s->e, signo);
        } else if (strcmp(key, "kill_mode") == 0) {
                MkKillMode m;
                if (!scalar(v) || mk_kill_mode_from_string(scalar(v), &m) < 0)
                        return bad(p, v, "kill_mode: want control-group or mixed");
                r = mk_executor_set_kill_mode(s->e, m);
        } else if (strcmp(key, "expect_exit") == 0) {
                if (!scalar(v) || parse_int_range(scalar(v), 0, 255, &l) < 0)
                        return bad(p, v, "expect_exit: want an exit code from 0 to 255");
                r = mk_executor_set_expected_exit(s->e, (int) l);
        } else if (strcmp(key, "containment") == 0) {
                MkContainment c;
                if (!scalar(v) || mk_containment_from_string(scalar(v), &c) < 0)
                        return bad(p, v, "containment: want auto, systemd, cgroup or process-group");
                r = mk_executor_set_containment(s->e, c);
        } else if (strcmp(key, "pre_check") == 0) {
                if ((r = want_bool(p, v, key, &b)) < 0)
                        return r;
                r = mk_executor_set_pre_check(s->e, b);
        } else
                return bad(p, k, "unknown key '%s' in process %s (see docs/compose.md)", key, s->name);
        return r < 0 ? refused(p, s, v, key, r) : 0;
}

/* The options' defaults, before the file's keys override them. */
static int apply_defaults(const Options *o, MkExecutor *e) {
        int r;

        if ((r = mk_executor_unset_env(e, "NOTIFY_SOCKET")) < 0 ||
            (r = mk_executor_set_timeout(e, o->timeout_usec)) < 0 ||
            (r = mk_executor_set_stop_signal(e, o->stop_signal)) < 0 ||
            (r = mk_executor_set_kill_signal(e, o->kill_signal)) < 0 ||
            (r = mk_executor_set_stop_timeout(e, o->stop_timeout_usec)) < 0 ||
            (r = mk_executor_set_pre_check(e, o->pre_check)) < 0)
                return r;
        if (o->containment_set && (r = mk_executor_set_containment(e, o->containment)) < 0)
                return r;
        if ((r = mk_executor_set_cgroup_namespace(e, o->cgroup_namespace)) < 0)
                return r;
        if (o->kill_mode_set && (r = mk_executor_set_kill_mode(e, o->kill_mode)) < 0)
                return r;
        return 0;
}

static int parse_process(Parser *p, Compose *c, const yaml_node_t *k, const yaml_node_t *v,
                         sd_event *event) {
        const char *name = scalar(k);
        Service *s;
        int r;

        if (!name || !*name || strchr(name, '/'))
                return bad(p, k, "want a process name without '/'");
        for (size_t i = 0; i < c->n_services; i++)
                if (strcmp(c->services[i].name, name) == 0)
                        return bad(p, k, "process %s is defined twice", name);
        if ((r = want_map(p, v, name)) < 0)
                return r;

        s = c->services + c->n_services;
        *s = (Service) { .line = (unsigned) k->start_mark.line + 1 };
        if (!(s->name = strdup(name)))
                return log_oom_error();
        c->n_services++;
        if ((r = mk_executor_new(&s->e)) < 0 || (r = mk_executor_set_name(s->e, name)) < 0 ||
            (r = mk_executor_attach_event(s->e, event, 0)) < 0 || (r = apply_defaults(p->o, s->e)) < 0)
                return r == -ENOMEM ? log_oom_error() : refused(p, s, k, name, r);

        for (yaml_node_pair_t *i = v->data.mapping.pairs.start; i < v->data.mapping.pairs.top; i++) {
                yaml_node_t *kk = node(p, i->key), *vv = node(p, i->value);
                const char *key = scalar(kk);
                if (!key)
                        return bad(p, kk, "want plain keys in process %s", name);
                r = parse_key(p, s, key, kk, vv);
                if (r < 0)
                        return r;
        }
        if (!s->has_command)
                return bad(p, k, "process %s has no command", name);
        return 0;
}

typedef struct KeyAt {
        const char *key;
        const yaml_node_t *node;
} KeyAt;

static int key_at_compare(const void *a, const void *b) {
        const KeyAt *x = a, *y = b;
        int r = strcmp(x->key, y->key);
        if (r != 0)
                return r;
        return x->node->start_mark.index < y->node->start_mark.index ? -1
               : x->node->start_mark.index > y->node->start_mark.index;
}

/* A key given twice in one mapping (command: twice) is an error at the
 * second one: libyaml keeps both and our lookups would take one silently.
 * Sorted, so a mapping of K keys costs K log K. */
static int check_duplicate_keys(Parser *p) {
        for (yaml_node_t *n = p->doc->nodes.start; n < p->doc->nodes.top; n++) {
                size_t k = 0, size;
                if (n->type != YAML_MAPPING_NODE)
                        continue;
                size = (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start);
                if (size < 2)
                        continue;
                _cleanup_free_ KeyAt *keys = calloc(size, sizeof(KeyAt));
                if (!keys)
                        return log_oom_error();
                for (yaml_node_pair_t *i = n->data.mapping.pairs.start; i < n->data.mapping.pairs.top; i++) {
                        const yaml_node_t *kn = node(p, i->key);
                        if (scalar(kn))
                                keys[k++] = (KeyAt) { .key = scalar(kn), .node = kn };
                }
                qsort(keys, k, sizeof(KeyAt), key_at_compare);
                for (size_t i = 1; i < k; i++)
                        if (strcmp(keys[i - 1].key, keys[i].key) == 0)
                                return bad(p, keys[i].node, "duplicate key '%s' (first given on line %zu)",
                                           keys[i].key, keys[i - 1].node->start_mark.line + 1);
        }
        return 0;
}

static int parse_document(Parser *p, Compose *c, sd_event *event) {
        yaml_node_t *root = yaml_document_get_root_node(p->doc), *processes = NULL;
        int r;

        if (!root)
                return bad(p, NULL, "the file is empty");
        if ((r = check_duplicate_keys(p)) < 0)
                return r;
        if (root->type != YAML_MAPPING_NODE)
                return bad(p, root, "want a mapping with a processes: section");
        for (yaml_node_pair_t *i = root->data.mapping.pairs.start; i < root->data.mapping.pairs.top; i++) {
                yaml_node_t *k = node(p, i->key), *v = node(p, i->value);
                const char *key = scalar(k) ?: "?";
                const char *ignored;

                if (strcmp(key, "processes") == 0)
                        processes = v;
                else if (strcmp(key, "version") == 0) {
                        if ((r = want_scalar(p, v, key, &ignored)) < 0)
                                return r;
                } else
                        return bad(p, k, "unknown key '%s' (want version, processes)", key);
        }
        if (!processes)
                return bad(p, root, "no processes: section");
        if ((r = want_map(p, processes, "processes")) < 0)
                return r;
        size_t n = (size_t) (processes->data.mapping.pairs.top - processes->data.mapping.pairs.start);
        if (n == 0)
                return bad(p, processes, "processes: is empty");
        c->services = calloc(n, sizeof *c->services);
        if (!c->services)
                return log_oom_error();
        for (yaml_node_pair_t *i = processes->data.mapping.pairs.start; i < processes->data.mapping.pairs.top; i++) {
                r = parse_process(p, c, node(p, i->key), node(p, i->value), event);
                if (r < 0)
                        return r;
        }
        return 0;
}

int compose_load(const char *file, const Options *o, sd_event *event, Compose **ret) {
        yaml_parser_t parser;
        yaml_document_t doc;
        Compose *c;
        FILE *f;
        int r;

        f = compose_file_open(file);
        if (!f)
                return EXIT_USAGE;
        r = compose_file_precheck(file, f);
        if (r < 0) {
                fclose(f);
                return r == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
        }
        c = calloc(1, sizeof *c);
        if (!c || !(c->file = strdup(file)) || !yaml_parser_initialize(&parser)) {
                fclose(f);
                compose_free(c);
                log_error("out of memory");
                return EXIT_INTERNAL;
        }
        yaml_parser_set_input_file(&parser, f);
        if (!yaml_parser_load(&parser, &doc)) {
                log_error("%s:%zu: %s%s%s", file, parser.problem_mark.line + 1, parser.problem ?: "syntax error",
                          parser.context ? " " : "", parser.context ?: "");
                yaml_parser_delete(&parser);
                fclose(f);
                compose_free(c);
                return EXIT_USAGE;
        }
        Parser p = { .file = file, .doc = &doc, .o = o };
        r = parse_document(&p, c, event);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        fclose(f);
        if (r < 0) {
                compose_free(c);
                return r == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
        }
        *ret = c;
        return 0;
}
