/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running the built mirakuru-run from the CLI tests: fork/exec with its
 * stdout and stderr in files, waiting with generous upper bounds only. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "test-util.h"

/* What most CLI tests share, set up by cli_setup() and removed by
 * cli_teardown() (cmocka group fixtures): test_dir, and the path of the
 * cli-service helper. */
extern const char *cli_helper;
int cli_setup(void **state);
int cli_teardown(void **state);
/* TEST_DIR/NAME (malloc'd), with nothing left at that path. */
char *cli_path_in_dir(const char *name);

/* A NULL-terminated array literal: ARGS("--tcp", "80", "--", "true"). */
#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

#define CLI_TIMEOUT_USEC (60 * UINT64_C(1000000))

typedef struct CliRun {
        pid_t pid;
        char *out_path;
        char *err_path;
        int status;      /* exit code, or 128+N for death by signal N */
        char *out;       /* what it printed, read by cli_wait() */
        char *err;
} CliRun;

/* Starts mirakuru-run ARGS (without argv[0]) with our environment plus ENV
 * ("NAME=VALUE", NULL-terminated; may be NULL); output to files in DIR. */
void cli_spawn(CliRun *r, const char *dir, const char *const *env, const char *const *args);
/* Waits (up to CLI_TIMEOUT_USEC, then fails the test) and reads the output. */
int cli_wait(CliRun *r);
/* Both. */
int cli_run(CliRun *r, const char *dir, const char *const *env, const char *const *args);
/* Waits up to USEC for PATH to contain TEXT. */
bool cli_wait_text(const char *path, const char *text, uint64_t usec);
/* Number of lines in S. */
unsigned cli_count_lines(const char *s);
void cli_run_done(CliRun *r);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
uint16_t cli_free_port(void);
/* The pid in FILE (waiting up to 30 s for it), or fails the test. */
pid_t cli_pid_from(const char *file);
