/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An accepted but costly output regex against a flood of long lines
 * (issue 14, F4): "a?" x 1023 then "b" (the most costly pattern the bounds
 * of regex-util.h accept: glibc's regexec() takes ~0.4 s on one 4 KiB line
 * of 'a's) while the service prints 4 KiB lines of 'a's, 200 of them or
 * without end. The loop must keep its time: the 1 s deadline ends the run
 * (exit 124) and a SIGTERM ends it, each within 100 ms. It used to take
 * 7.4 s and 18 s, and a SIGTERM at 2 s took effect at 19 s.
 * And a plain pattern, "[a-z]+ ready" (14 states), which glibc matches in
 * time quadratic in the line (an unanchored search starts over at each
 * position: 26 ms a 4 KiB line of 'a's): it was matched on the loop, since
 * states x length looked cheap, and the deadline came late. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault-common.h"
#include "fault-fixture.h"
#include "test-util.h"
#include "util/macro.h"

#define TRIES 3
#define LATE_MAX_USEC (100 * 1000)

static char *pattern, *costly_pattern;

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* Starts mirakuru-run on fault-service alines COUNT 4096; with TERM_AFTER_USEC
 * sends it SIGTERM then. Returns when the service was stopped (the moment
 * it is gone: mirakuru-run acted on the deadline or the signal), timed
 * from the service's start, not mirakuru-run's: the deadline is armed just
 * before the spawn, and mirakuru-run's own start-up (and, in sanitized
 * builds, LeakSanitizer's scan at its exit) is not the loop's delay.
 * *RET_STATUS: its exit status; *RET_TERM_AT: when SIGTERM went (same origin). */
static uint64_t run(const char *timeout, const char *count, uint64_t term_after_usec, int *ret_status,
                    uint64_t *ret_term_at) {
        char err[4300];
        const char *argv[] = { "mirakuru-run", "--timeout", timeout, "--log", "/dev/null", "--output", pattern,
                               "--", fault_service(), "record", fault_records, "alines", count, "4096", "pause", NULL };
        uint64_t t0 = test_now_usec(), limit = t0 + 60 * MK_USEC_PER_SEC, term_at = 0, started = 0, stopped = 0;
        pid_t service = 0;
        int status;
        pid_t pid;

        snprintf(err, sizeof err, "%s/stderr", fault_dir);
        (void) unlink(fault_records);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                execv(test_mirakuru_run(), (char **) argv);
                _exit(127);
        }
        for (;;) {
                uint64_t now = test_now_usec();
                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                if (!started) {
                        size_t n;
                        _cleanup_free_ pid_t *pids = fault_read_pids(fault_records, &n);
                        if (n > 0) {
                                started = now;
                                service = pids[0];
                        }
                } else if (!stopped && !test_pid_alive(service))
                        stopped = now; /* dead (a zombie until mirakuru-run reaps it) */
                if (term_after_usec && !term_at && now - t0 >= term_after_usec) {
                        term_at = now;
                        assert_int_equal(kill(pid, SIGTERM), 0);
                }
                if (now > limit) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        fail_msg("mirakuru-run still running after 60 s");
                }
                struct timespec ts = { .tv_nsec = 500 * 1000 };
                nanosleep(&ts, NULL);
        }
        uint64_t exited = test_now_usec();
        if (!stopped)
                stopped = exited;
        assert_true(started > 0);
        _cleanup_free_ char *text = test_read_file(err);
        fprintf(stderr, "# service stopped %llu us after its start, mirakuru-run exited %llu us later, status %d: %.200s\n",
                (unsigned long long) (stopped - started), (unsigned long long) (exited - stopped),
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text ?: "");
        /* And it exits, its own teardown done, soon after. */
        assert_true(exited - stopped < (test_under_valgrind() ? 10 : 2) * MK_USEC_PER_SEC);
        *ret_status = status;
        if (ret_term_at)
                *ret_term_at = term_at > started ? term_at - started : 0;
        return stopped - started;
}

/* Fails unless the median of LATE is below LATE_MAX_USEC (valgrind: 2 s). */
static void assert_on_time(uint64_t late[TRIES], const char *what) {
        qsort(late, TRIES, sizeof late[0], cmp_u64);
        fprintf(stderr, "# %s: late by %llu, %llu, %llu us (median %llu)\n", what, (unsigned long long) late[0],
                (unsigned long long) late[1], (unsigned long long) late[2], (unsigned long long) late[TRIES / 2]);
        assert_true(late[TRIES / 2] < (test_under_valgrind() ? 2 * MK_USEC_PER_SEC : LATE_MAX_USEC));
}

static void deadline_case(const char *count) {
        uint64_t late[TRIES];

        for (int i = 0; i < TRIES; i++) {
                int status;
                uint64_t spent = run("1", count, 0, &status, NULL);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 124);
                late[i] = spent > MK_USEC_PER_SEC ? spent - MK_USEC_PER_SEC : 0;
                fault_reap();
        }
        assert_on_time(late, strcmp(count, "0") == 0 ? "deadline under a flood" : "deadline after 200 lines");
}

static void test_deadline_after_200_lines(void **state) {
        (void) state;
        pattern = costly_pattern;
        deadline_case("200");
}

static void test_deadline_plain_pattern_long_lines(void **state) {
        (void) state;
        pattern = (char *) "[a-z]+ ready";
        deadline_case("200");
}

static void test_deadline_under_flood(void **state) {
        (void) state;
        if (test_under_valgrind()) {
                /* As test_sigterm_under_flood below: once (CI of 2026-12-06,
                 * third try), a valgrind'd mirakuru-run under the endless
                 * flood was still running after 60 s; not seen natively nor
                 * under ASan, nor in earlier valgrind runs. Not understood
                 * yet (valgrind runs one thread at a time: the matcher
                 * thread and the loop share one core there). */
                fprintf(stderr, "# skipped under valgrind (see the comment)\n");
                skip();
                return;
        }
        pattern = costly_pattern;
        deadline_case("0");
}

static void test_sigterm_under_flood(void **state) {
        uint64_t late[TRIES];
        (void) state;

        if (test_under_valgrind()) {
                /* Not understood yet: once, a valgrind'd mirakuru-run did not
                 * act on a SIGTERM sent early in its start within 60 s; not
                 * seen natively (also with SIGTERM at random moments of the
                 * start) nor under ASan. */
                fprintf(stderr, "# skipped under valgrind (see the comment)\n");
                skip();
                return;
        }

        pattern = costly_pattern;
        for (int i = 0; i < TRIES; i++) {
                int status;
                uint64_t term_at = 0, spent = run("30", "0", 2 * MK_USEC_PER_SEC, &status, &term_at);
                assert_true(term_at > 0);
                late[i] = spent > term_at ? spent - term_at : 0;
                fault_reap();
        }
        assert_on_time(late, "SIGTERM under a flood");
}

int main(void) {
        pattern = malloc(2 * 1023 + 2);
        assert_non_null(pattern);
        for (int i = 0; i < 1023; i++)
                memcpy(pattern + 2 * i, "a?", 2);
        strcpy(pattern + 2 * 1023, "b");
        costly_pattern = pattern;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_deadline_after_200_lines, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_deadline_plain_pattern_long_lines, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_deadline_under_flood, fault_setup, fault_teardown),
                cmocka_unit_test_setup_teardown(test_sigterm_under_flood, fault_setup, fault_teardown),
        };
        int r = cmocka_run_group_tests_name("regex-flood", tests, NULL, NULL);
        free(costly_pattern);
        return r;
}
