/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the test programs. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

/* Exit status that tells meson a test was skipped. */
#define EXIT_TEST_SKIP 77

/* Absolute path of a helper program built in tests/helpers (static buffer
 * per call site is NOT kept: the result is malloc'd and never freed; tests
 * are short-lived). */
const char *test_helper(const char *name);
/* Path of the built mirakuru-run. */
const char *test_mirakuru_run(void);

/* True if PID exists and is not a zombie. */
bool test_pid_alive(pid_t pid);
/* Waits up to USEC for PID to be gone (or a zombie); true if it is. */
bool test_wait_pid_gone(pid_t pid, uint64_t usec);
/* Number of open fds of this process. */
int test_count_fds(void);
/* The fds process PID (0: this one) holds; under valgrind, without valgrind's. */
int test_count_fds_of(pid_t pid);
/* This test runs under valgrind (the valgrind setup, tests/meson.build). */
bool test_under_valgrind(void);
/* A new private directory under $TMPDIR (malloc'd); test_rm_rf() removes it. */
char *test_make_temp_dir(void);
void test_rm_rf(const char *path);
/* A cmocka group fixture: test_dir is a new private directory from
 * test_dir_setup() until test_dir_teardown() removes it. */
extern char *test_dir;
int test_dir_setup(void **state);
int test_dir_teardown(void **state);
uint64_t test_now_usec(void);
/* "DIR/NAME", malloc'd. */
char *test_path_in(const char *dir, const char *name);
/* Reads a whole file into a malloc'd NUL-terminated string, or NULL. */
char *test_read_file(const char *path);
/* Waits up to USEC for PATH to exist. */
bool test_wait_file(const char *path, uint64_t usec);
/* Skips the whole program (exit 77) with REASON on stderr. */
_Noreturn void test_skip_all(const char *reason);

/* VmRSS of this process in KiB, or -1. */
long test_vmrss_kib(void);
/* The pid written in PATH (as by a pid file), or 0. */
pid_t test_read_pid_file(const char *path);
/* Runs EVENT until *FLAG is true; gives up after USEC (an upper bound only).
 * 0, -ETIMEDOUT, or sd_event_run()'s error. */
struct sd_event;
int test_run_until(struct sd_event *event, const bool *flag, uint64_t usec);
/* False under AddressSanitizer or valgrind, whose own bookkeeping (ASan's
 * quarantine of freed memory) makes VmRSS comparisons meaningless. */
bool test_rss_is_meaningful(void);

/* Asserts that NEEDLE occurs (does not occur) in HAYSTACK, printing both if not. */
#define assert_contains(haystack, needle)                                              \
        do {                                                                           \
                const char *_h = (haystack), *_n = (needle);                           \
                if (!_h || !strstr(_h, _n)) {                                          \
                        fprintf(stderr, "expected to find \"%s\" in \"%s\"\n", _n,      \
                                _h ?: "(null)");                                       \
                        fail();                                                        \
                }                                                                      \
        } while (0)

#define assert_not_contains(haystack, needle)                                          \
        do {                                                                           \
                const char *_h = (haystack), *_n = (needle);                           \
                if (_h && strstr(_h, _n)) {                                            \
                        fprintf(stderr, "did not expect \"%s\" in \"%s\"\n", _n, _h);   \
                        fail();                                                        \
                }                                                                      \
        } while (0)
