/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run's options: one table for parsing, validation and --help. */
#pragma once

#include <stdbool.h>
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

typedef struct Options {
        uint64_t timeout_usec;
        char **command; /* points into argv */
        bool verbose;
        bool quiet;
} Options;

/* Parses ARGV. Returns 0 to run, 1 when --help/--version was answered, or
 * -EINVAL after printing one clear line to stderr (exit EXIT_USAGE). */
int options_parse(int argc, char **argv, Options *ret);
/* "1.5" -> 1500000; -EINVAL for negative, non-numeric or too large values. */
int parse_seconds(const char *s, uint64_t *ret);
