/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "options.h"
#include "parse-util.h"

enum {
        OPT_OUTPUT = 0x100,
        OPT_OUTPUT_STREAM,
        OPT_TCP,
        OPT_UNIX,
        OPT_HTTP,
        OPT_HTTP_STATUS,
        OPT_HTTP_METHOD,
        OPT_HTTP_HEADER,
        OPT_HTTP_DATA,
        OPT_PID_FILE,
        OPT_PID_FILE_EXISTS,
        OPT_NOTIFY,
        OPT_LISTEN,
        OPT_LISTEN_UNIX,
        OPT_EXEC_PROBE,
        OPT_TIMEOUT,
        OPT_NO_PRE_CHECK,
        OPT_THEN,
        OPT_STOP_SIGNAL,
        OPT_KILL_SIGNAL,
        OPT_STOP_TIMEOUT,
        OPT_EXPECT_EXIT,
        OPT_KILL_MODE,
        OPT_CONTAINMENT,
        OPT_CGROUP_NAMESPACE,
        OPT_ENV,
        OPT_UNSET_ENV,
        OPT_CLEAN_ENV,
        OPT_CWD,
        OPT_SHELL,
        OPT_NAME,
        OPT_LOG,
        OPT_VERBOSE,
        OPT_QUIET,
        OPT_HELP,
        OPT_VERSION,
};

typedef struct OptionInfo {
        const char *section; /* starts a section of --help */
        struct option opt;
        const char *arg;     /* name of the argument in --help */
        const char *help;
} OptionInfo;

#define OPT(name, has_arg, val) { name, has_arg, NULL, val }

static const OptionInfo option_table[] = {
        { "Readiness (all given must pass; none: ready once COMMAND was executed)",
          OPT("output", required_argument, OPT_OUTPUT), "REGEX",
          "a line of output matches REGEX (POSIX extended)" },
        { NULL, OPT("output-stream", required_argument, OPT_OUTPUT_STREAM), "STREAM",
          "where --output looks: stdout, stderr, both (default)" },
        { NULL, OPT("tcp", required_argument, OPT_TCP), "[HOST:]PORT",
          "a TCP connect succeeds (HOST default localhost)" },
        { NULL, OPT("unix", required_argument, OPT_UNIX), "PATH",
          "a connect to the Unix socket PATH succeeds" },
        { NULL, OPT("http", required_argument, OPT_HTTP), "URL",
          "an HTTP request to URL gets a matching status" },
        { NULL, OPT("http-status", required_argument, OPT_HTTP_STATUS), "REGEX",
          "status codes that count (default ^2[0-9][0-9]$)" },
        { NULL, OPT("http-method", required_argument, OPT_HTTP_METHOD), "METHOD",
          "request method (default HEAD)" },
        { NULL, OPT("http-header", required_argument, OPT_HTTP_HEADER), "'NAME: VALUE'",
          "request header (repeatable)" },
        { NULL, OPT("http-data", required_argument, OPT_HTTP_DATA), "DATA", "request body" },
        { NULL, OPT("pid-file", required_argument, OPT_PID_FILE), "PATH",
          "PATH holds the pid of a live process of the service" },
        { NULL, OPT("pid-file-exists", required_argument, OPT_PID_FILE_EXISTS), "PATH",
          "the file PATH exists (whatever it holds)" },
        { NULL, OPT("notify", no_argument, OPT_NOTIFY), NULL,
          "the service sends READY=1 to its NOTIFY_SOCKET" },
        { NULL, OPT("listen", required_argument, OPT_LISTEN), "[HOST:]PORT",
          "socket activation, LISTEN_FDS (port 0: any port)" },
        { NULL, OPT("listen-unix", required_argument, OPT_LISTEN_UNIX), "PATH",
          "socket activation on the Unix socket PATH" },
        { NULL, OPT("exec-probe", required_argument, OPT_EXEC_PROBE), "'COMMAND'",
          "the shell command COMMAND exits 0" },
        { NULL, OPT("timeout", required_argument, OPT_TIMEOUT), "SECONDS",
          "readiness deadline, or infinity (default 60)" },
        { NULL, OPT("no-pre-check", no_argument, OPT_NO_PRE_CHECK), NULL,
          "start even if something answers where a probe looks" },

        { "Mode",
          OPT("then", required_argument, OPT_THEN), "'COMMAND'",
          "run COMMAND (sh -c) once ready, exit with its status" },
        { NULL, OPT("file", required_argument, 'f'), "FILE",
          "-f: start the services of a compose FILE (YAML)" },

        { "Stopping",
          OPT("stop-signal", required_argument, OPT_STOP_SIGNAL), "SIGNAL",
          "signal to stop every process (default TERM)" },
        { NULL, OPT("kill-signal", required_argument, OPT_KILL_SIGNAL), "SIGNAL",
          "signal after the stop timeout (default KILL)" },
        { NULL, OPT("stop-timeout", required_argument, OPT_STOP_TIMEOUT), "SECONDS",
          "wait after the stop signal, or infinity (default 10)" },
        { NULL, OPT("expect-exit", required_argument, OPT_EXPECT_EXIT), "CODE",
          "an exit code that also counts as a clean stop" },
        { NULL, OPT("kill-mode", required_argument, OPT_KILL_MODE), "MODE",
          "control-group (default: stop signal to all) or mixed (to the main process)" },
        { NULL, OPT("containment", required_argument, OPT_CONTAINMENT), "KIND",
          "auto (default), systemd, cgroup or process-group" },
        { NULL, OPT("cgroup-namespace", no_argument, OPT_CGROUP_NAMESPACE), NULL,
          "the service sees only its own cgroup (root: it cannot move out)" },

        { "The service",
          OPT("env", required_argument, OPT_ENV), "NAME=VALUE", "set an environment variable (repeatable)" },
        { NULL, OPT("unset-env", required_argument, OPT_UNSET_ENV), "NAME",
          "remove an environment variable (repeatable)" },
        { NULL, OPT("clean-env", no_argument, OPT_CLEAN_ENV), NULL,
          "start from an empty environment (then --env), not ours" },
        { NULL, OPT("cwd", required_argument, OPT_CWD), "DIR", "working directory" },
        { NULL, OPT("shell", no_argument, OPT_SHELL), NULL, "COMMAND is one string for /bin/sh -c" },
        { NULL, OPT("name", required_argument, OPT_NAME), "NAME",
          "for messages and the scope (default: basename)" },
        { NULL, OPT("log", required_argument, OPT_LOG), "FILE",
          "service output to FILE instead of stdout/stderr" },

        { "Messages",
          OPT("verbose", no_argument, OPT_VERBOSE), NULL, "say what happens, on stderr" },
        { NULL, OPT("quiet", no_argument, OPT_QUIET), NULL, "print only errors" },
        { NULL, OPT("help", no_argument, OPT_HELP), NULL, "show this help" },
        { NULL, OPT("version", no_argument, OPT_VERSION), NULL, "show the version" },
};

#define N_OPTIONS (sizeof option_table / sizeof option_table[0])

static void help(void) {
        printf("Usage: mirakuru-run [OPTIONS] [--] COMMAND [ARG...]\n"
               "       mirakuru-run [OPTIONS] -f FILE [SERVICE...]\n\n"
               "Start COMMAND, wait until it is ready, then run --then's command or\n"
               "supervise it in the foreground, and leave no process behind. With -f,\n"
               "the same for the services of FILE (default: all) and their dependencies,\n"
               "each started once what it depends on is ready (see mirakuru-run(1)).\n");
        for (size_t i = 0; i < N_OPTIONS; i++) {
                const OptionInfo *o = option_table + i;
                char left[64];

                if (o->section)
                        printf("\n%s:\n", o->section);
                snprintf(left, sizeof left, "--%s%s%s", o->opt.name, o->arg ? " " : "", o->arg ?: "");
                if (strlen(left) > 24)
                        printf("  %s\n  %-24s %s\n", left, "", o->help);
                else
                        printf("  %-24s %s\n", left, o->help);
        }
        printf("\nA command that exits 0 leaving processes behind (a daemonizing server)\n"
               "hands over: the service goes on until its main process (the pid file's,\n"
               "MAINPID='s, or the one process left) exits, or its last process does.\n"
               "\nThe --then command runs in a cgroup of its own: signals to mirakuru-run\n"
               "go to all of it, and nothing it started outlives it. Its environment has\n"
               "MIRAKURU_PID (the service's main process, when one is known),\n"
               "MIRAKURU_NAME and, with --listen, MIRAKURU_LISTEN_PORT (the first socket's\n"
               "port) and MIRAKURU_LISTEN_PORTS (all, blank separated).\n"
               "\nExit status:\n"
               "  0    success\n"
               "  2    usage or bad input\n"
               "  3    the service exited before it was ready\n"
               "  4    something already answers on the probe's address (pre-check)\n"
               "  124  readiness deadline passed\n"
               "  125  mirakuru-run itself failed\n"
               "  126  COMMAND not executable\n"
               "  127  COMMAND not found\n"
               "  otherwise: with --then, its exit status; without, the service's;\n"
               "  128+N for death by signal N\n");
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "mirakuru-run: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -EINVAL;
}

static void push(const char **list, const char *s) {
        while (*list)
                list++;
        *list = s;
}

static int parse_address(const char *option, const char *value, unsigned min_port, HostPort *list,
                         size_t *n) {
        const char *why = NULL;
        int r;

        r = parse_host_port(value, min_port, &list[*n].host, &list[*n].port, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return usage_error("invalid --%s '%s': %s", option, value, why ?: "want [HOST:]PORT");
        (*n)++;
        return 0;
}

static int parse_regex_option(const char *option, const char *value) {
        char why[256];

        if (check_regex(value, why, sizeof why) < 0)
                return usage_error("invalid --%s regular expression '%.*s%s': %s", option,
                                   (int) (strlen(value) > 80 ? 80 : strlen(value)), value,
                                   strlen(value) > 80 ? "..." : "", why); /* not a 100 KB echo */
        return 0;
}

static int parse_signal_option(const char *option, const char *value, int *ret) {
        if (parse_signal(value, ret) < 0)
                return usage_error("invalid --%s '%s': want a signal name like TERM or SIGTERM, or a number", option, value);
        return 0;
}

static int parse_seconds_option(const char *option, const char *value, uint64_t *ret) {
        if (strcmp(value, "infinity") == 0) {
                *ret = MK_USEC_INFINITY;
                return 0;
        }
        if (parse_seconds(value, ret) < 0)
                return usage_error("invalid --%s '%s': want a non-negative number of seconds", option, value);
        return 0;
}

static int parse_one(int c, const char *arg, Options *o) {
        const char *why = NULL;
        struct stat st;
        long n;

        switch (c) {
        case OPT_OUTPUT:
                push(o->outputs, arg);
                return parse_regex_option("output", arg);
        case OPT_OUTPUT_STREAM:
                if (strcmp(arg, "stdout") == 0)
                        o->output_stream = MK_STREAM_STDOUT;
                else if (strcmp(arg, "stderr") == 0)
                        o->output_stream = MK_STREAM_STDERR;
                else if (strcmp(arg, "both") == 0)
                        o->output_stream = MK_STREAM_BOTH;
                else
                        return usage_error("invalid --output-stream '%s': want stdout, stderr or both", arg);
                o->output_stream_set = true;
                return 0;
        case OPT_TCP:
                return parse_address("tcp", arg, 1, o->tcp, &o->n_tcp);
        case OPT_UNIX:
                if (!*arg)
                        return usage_error("invalid --unix '': want the path of a socket");
                push(o->unix_paths, arg);
                return 0;
        case OPT_HTTP:
                if (check_url(arg, &why) < 0) {
                        char *shown = url_without_secret_shown(arg);
                        int r = usage_error("invalid --http URL '%s': %s", shown ?: "", why ?: "malformed");
                        free(shown);
                        return r;
                }
                push(o->http_urls, arg);
                return 0;
        case OPT_HTTP_STATUS:
                o->http_status = arg;
                return parse_regex_option("http-status", arg);
        case OPT_HTTP_METHOD:
                if (!*arg || strpbrk(arg, " \t\r\n:/"))
                        return usage_error("invalid --http-method '%s': want a method like GET", arg);
                o->http_method = arg;
                return 0;
        case OPT_HTTP_HEADER: {
                const char *colon = strchr(arg, ':');
                if (!colon || colon == arg || strpbrk(arg, "\r\n"))
                        return usage_error("invalid --http-header '%s': want 'Name: value'", arg);
                push(o->http_headers, arg);
                return 0;
        }
        case OPT_HTTP_DATA:
                o->http_data = arg;
                return 0;
        case OPT_PID_FILE:
                if (!*arg)
                        return usage_error("invalid --pid-file '': want a path");
                push(o->pid_files, arg);
                return 0;
        case OPT_PID_FILE_EXISTS:
                if (!*arg)
                        return usage_error("invalid --pid-file-exists '': want a path");
                push(o->pid_files_exist, arg);
                return 0;
        case OPT_KILL_MODE:
                if (mk_kill_mode_from_string(arg, &o->kill_mode) < 0)
                        return usage_error("invalid --kill-mode '%s': want control-group or mixed", arg);
                o->kill_mode_set = true;
                return 0;
        case OPT_NOTIFY:
                o->notify = true;
                return 0;
        case OPT_LISTEN:
                return parse_address("listen", arg, 0, o->listen, &o->n_listen);
        case OPT_LISTEN_UNIX:
                if (!*arg)
                        return usage_error("invalid --listen-unix '': want a path");
                push(o->listen_unix, arg);
                return 0;
        case OPT_EXEC_PROBE:
                if (!*arg)
                        return usage_error("invalid --exec-probe '': want a shell command");
                push(o->exec_probes, arg);
                return 0;
        case OPT_TIMEOUT:
                return parse_seconds_option("timeout", arg, &o->timeout_usec);
        case OPT_NO_PRE_CHECK:
                o->pre_check = false;
                return 0;
        case 'f':
                if (!*arg)
                        return usage_error("invalid --file '': want a compose file");
                o->file = arg;
                return 0;
        case OPT_THEN:
                if (!*arg)
                        return usage_error("invalid --then '': want a shell command");
                o->then = arg;
                return 0;
        case OPT_STOP_SIGNAL:
                return parse_signal_option("stop-signal", arg, &o->stop_signal);
        case OPT_KILL_SIGNAL:
                return parse_signal_option("kill-signal", arg, &o->kill_signal);
        case OPT_STOP_TIMEOUT:
                return parse_seconds_option("stop-timeout", arg, &o->stop_timeout_usec);
        case OPT_EXPECT_EXIT:
                if (parse_int_range(arg, 0, 255, &n) < 0)
                        return usage_error("invalid --expect-exit '%s': want an exit code from 0 to 255", arg);
                o->expected_exit = (int) n;
                return 0;
        case OPT_CONTAINMENT:
                if (mk_containment_from_string(arg, &o->containment) < 0)
                        return usage_error("invalid --containment '%s': want auto, systemd, cgroup or process-group", arg);
                o->containment_set = true;
                return 0;
        case OPT_CGROUP_NAMESPACE:
                o->cgroup_namespace = true;
                return 0;
        case OPT_ENV:
                if (!env_assignment_is_valid(arg))
                        return usage_error("invalid --env '%s': want NAME=VALUE", arg);
                push(o->env, arg);
                return 0;
        case OPT_UNSET_ENV:
                if (!env_name_is_valid(arg))
                        return usage_error("invalid --unset-env '%s': want a variable name", arg);
                push(o->unset_env, arg);
                return 0;
        case OPT_CLEAN_ENV:
                o->clean_env = true;
                return 0;
        case OPT_CWD:
                if (stat(arg, &st) < 0)
                        return usage_error("invalid --cwd '%s': %s", arg, strerror(errno));
                if (!S_ISDIR(st.st_mode))
                        return usage_error("invalid --cwd '%s': not a directory", arg);
                o->cwd = arg;
                return 0;
        case OPT_SHELL:
                o->shell = true;
                return 0;
        case OPT_NAME:
                if (!*arg || strchr(arg, '/'))
                        return usage_error("invalid --name '%s': want a non-empty name without '/'", arg);
                o->name = arg;
                return 0;
        case OPT_LOG:
                if (!*arg)
                        return usage_error("invalid --log '': want a file name");
                o->log = arg;
                return 0;
        case OPT_VERBOSE:
                o->verbose = true;
                return 0;
        case OPT_QUIET:
                o->quiet = true;
                return 0;
        default:
                return -EINVAL;
        }
}

/* Checks that need all options. */
static int check_combination(const Options *o) {
        if (o->verbose && o->quiet)
                return usage_error("--verbose and --quiet exclude each other");
        if (o->file) {
                /* Each service's probes and settings come from the file. */
                if (o->outputs[0] || o->n_tcp || o->unix_paths[0] || o->http_urls[0] || o->pid_files[0] ||
                    o->pid_files_exist[0] ||
                    o->notify || o->n_listen || o->listen_unix[0] || o->exec_probes[0] || o->shell ||
                    o->name || o->cwd || o->env[0] || o->unset_env[0] || o->clean_env || o->log || o->expected_exit >= 0)
                        return usage_error("with -f, give probes and service settings in the file");
                return 0;
        }
        if (o->output_stream_set && !o->outputs[0])
                return usage_error("--output-stream needs --output");
        if (!o->http_urls[0] && (o->http_status || o->http_method || o->http_headers[0] || o->http_data))
                return usage_error("--http-status, --http-method, --http-header and --http-data need --http");
        /* Without -f, COMMAND has at least one word (checked by the caller). */
        if (o->shell && o->command[1])
                return usage_error("with --shell, COMMAND is one string (quote it)");
        if (o->shell && !*o->command[0])
                return usage_error("with --shell, COMMAND must not be empty");
        if (!*o->command[0])
                return usage_error("COMMAND must not be empty");
        return 0;
}

void options_done(Options *o) {
        for (size_t i = 0; o->tcp && i < o->n_tcp; i++)
                free(o->tcp[i].host);
        for (size_t i = 0; o->listen && i < o->n_listen; i++)
                free(o->listen[i].host);
        free(o->tcp);
        free(o->listen);
        free(o->env);
        free(o->unset_env);
        free(o->outputs);
        free(o->unix_paths);
        free(o->http_urls);
        free(o->http_headers);
        free(o->pid_files);
        free(o->pid_files_exist);
        free(o->listen_unix);
        free(o->exec_probes);
        *o = (Options) {};
}

static int options_alloc(size_t n, Options *o) {
        *o = (Options) {
                .timeout_usec = MK_DEFAULT_START_TIMEOUT_USEC,
                .stop_timeout_usec = MK_DEFAULT_STOP_TIMEOUT_USEC,
                .stop_signal = SIGTERM,
                .kill_signal = SIGKILL,
                .expected_exit = -1,
                .output_stream = MK_STREAM_BOTH,
                .pre_check = true,
        };
        /* Every list has room for one entry per argument plus the NULL. */
        o->tcp = calloc(n + 1, sizeof(HostPort));
        o->listen = calloc(n + 1, sizeof(HostPort));
        const char ***lists[] = { &o->env, &o->unset_env, &o->outputs, &o->unix_paths,
                                  &o->http_urls, &o->http_headers, &o->pid_files, &o->pid_files_exist,
                                  &o->listen_unix, &o->exec_probes };
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
                *lists[i] = calloc(n + 1, sizeof(char *));
        if (!o->tcp || !o->listen)
                return -ENOMEM;
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
                if (!*lists[i])
                        return -ENOMEM;
        return 0;
}

int options_parse(int argc, char **argv, Options *ret) {
        struct option longopts[N_OPTIONS + 1];
        Options o;
        int c, r;

        for (size_t i = 0; i < N_OPTIONS; i++)
                longopts[i] = option_table[i].opt;
        longopts[N_OPTIONS] = (struct option) {};

        r = options_alloc((size_t) argc, &o);
        if (r < 0) {
                options_done(&o);
                return r;
        }

        opterr = 0;
        optind = 1;
        /* '+': stop at the first non-option, which starts COMMAND. */
        while ((c = getopt_long(argc, argv, "+:f:", longopts, NULL)) != -1) {
                switch (c) {
                case OPT_HELP:
                        help();
                        options_done(&o);
                        return 1;
                case OPT_VERSION:
                        printf("mirakuru-run %s\n", PACKAGE_VERSION);
                        options_done(&o);
                        return 1;
                case ':':
                        r = usage_error("option %s needs an argument (see --help)", argv[optind - 1]);
                        break;
                case '?':
                        if (optopt)
                                r = usage_error("unknown option -%c (see --help)", optopt);
                        else
                                r = usage_error("unknown option %s (see --help)", argv[optind - 1]);
                        break;
                default:
                        r = parse_one(c, optarg, &o);
                }
                if (r < 0) {
                        options_done(&o);
                        return r;
                }
        }
        if (optind >= argc && !o.file) {
                options_done(&o);
                return usage_error("no COMMAND given (see --help)");
        }
        o.command = argv + optind;
        r = check_combination(&o);
        if (r < 0) {
                options_done(&o);
                return r;
        }
        *ret = o;
        return 0;
}
