/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run's options: one table for parsing, validation and --help.
 * Everything the user typed is checked here, before anything starts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mirakuru.h"

/* Exit statuses, a contract for scripts (see --help and mirakuru-run(1)). */
enum {
        EXIT_USAGE = 2,           /* usage or bad input */
        EXIT_NOT_READY = 3,       /* the service exited before it was ready */
        EXIT_ALREADY_RUNNING = 4, /* something already answers on a probe's address */
        EXIT_DEADLINE = 124,      /* readiness deadline passed */
        EXIT_INTERNAL = 125,      /* mirakuru-run itself failed */
        EXIT_NOT_EXECUTABLE = 126,
        EXIT_NOT_FOUND = 127,
};

/* The exit status for a start that failed with R (main.c; also for -f). */
int start_error_to_exit(int r);

typedef struct HostPort {
        char *host; /* NULL: the default host */
        uint16_t port;
} HostPort;

/* Lists hold pointers into argv (or HostPorts); each is NULL-terminated
 * and sized for the worst case, so it never grows. */
typedef struct Options {
        /* The service. */
        char **command; /* points into argv */
        bool shell;
        const char *name;
        const char *cwd;
        const char **env;       /* "NAME=VALUE" */
        const char **unset_env; /* "NAME" */
        bool clean_env;         /* start from an empty environment */
        const char *log;

        /* Readiness. */
        uint64_t timeout_usec;
        const char **outputs;
        MkStream output_stream;
        bool output_stream_set;
        HostPort *tcp;
        size_t n_tcp;
        const char **unix_paths;
        const char **http_urls;
        const char *http_status;
        const char *http_method;
        const char **http_headers;
        const char *http_data;
        const char **pid_files;        /* hold a live pid of the service */
        const char **pid_files_exist;  /* only exist (--pid-file-exists) */
        bool notify;
        HostPort *listen;
        size_t n_listen;
        const char **listen_unix;
        const char **exec_probes;
        bool pre_check;

        /* Stopping and holding together. */
        int stop_signal;
        int kill_signal;
        uint64_t stop_timeout_usec;
        int expected_exit; /* -1: none */
        MkKillMode kill_mode;
        bool kill_mode_set;
        MkContainment containment;
        bool containment_set;
        bool cgroup_namespace; /* --cgroup-namespace */

        /* Ours. */
        const char *file; /* -f: a compose file; then command holds the SERVICE names */
        const char *then;
        bool verbose;
        bool quiet;
} Options;

/* Parses and validates ARGV. Returns 0 to run, 1 when --help/--version was
 * answered, or -EINVAL after printing one clear line to stderr (exit
 * EXIT_USAGE); -ENOMEM. Free with options_done() (also after errors). */
int options_parse(int argc, char **argv, Options *ret);
void options_done(Options *o);
