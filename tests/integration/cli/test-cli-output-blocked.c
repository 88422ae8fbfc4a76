/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Issue 13, item 5: a reader of our stdout that stops reading must not
 * block the supervisor: the readiness deadline still passes (124, with its
 * message), and SIGTERM still stops us at once. Needs the library's
 * non-blocking forwarding (capture.c), whose final flush gives up on a
 * reader that takes nothing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-pipe.h"
#include "cli-test.h"

#define SEC UINT64_C(1000000)

static void test_deadline_with_stuck_reader(void **state) {
        char *status = cli_path_in_dir("status"), *err = cli_path_in_dir("err");
        uint64_t t0 = test_now_usec();
        pid_t pg = pipe_spawn("{ \"$RUN\" --timeout 2 --output X -- yes 2> \"$DIR/err\"; "
                              "echo $? > \"$DIR/status\"; } | sleep 30");

        int st = pipe_wait_status(status, 15 * SEC);
        uint64_t took = test_now_usec() - t0;
        pipe_kill(pg);
        assert_int_equal(st, 124);
        /* The deadline, not the deadline plus a wait for the stuck reader
         * (it was 2 s more: the final flush of the forwarded output). */
        fprintf(stderr, "# --timeout 2 with a stuck reader: exit after %.0f ms\n", took / 1000.0);
        /* Under valgrind, copying yes's flood alone takes seconds: the bound
         * says nothing there (the normal and ASan runs check it). */
        if (!test_under_valgrind())
                assert_true(took < 3500 * 1000);
        char *text = test_read_file(err);
        assert_non_null(text);
        assert_non_null(strstr(text, "start timed out"));
        free(text);
        free(status);
        free(err);
}

static void test_sigterm_with_stuck_reader(void **state) {
        char *status = cli_path_in_dir("status2"), *pid_file = cli_path_in_dir("run.pid");
        pid_t pg = pipe_spawn("{ \"$RUN\" --output X -- yes 2>/dev/null & echo $! > \"$DIR/run.pid\"; "
                              "wait $!; echo $? > \"$DIR/status2\"; } | sleep 30");

        pid_t run = cli_pid_from(pid_file);
        /* Let the pipe fill up. */
        usleep(500 * 1000);
        uint64_t t0 = test_now_usec();
        assert_int_equal(kill(run, SIGTERM), 0);
        int st = pipe_wait_status(status, 10 * SEC);
        uint64_t took = test_now_usec() - t0;
        pipe_kill(pg);
        assert_int_equal(st, 128 + SIGTERM); /* a signal before ready: 128+N (mirakuru-run(1)) */
        /* Gone soon after the signal, not once a stuck reader's wait is
         * over (it was 2 s: the final flush of the forwarded output). */
        fprintf(stderr, "# SIGTERM with a stuck reader: exit after %.0f ms\n", took / 1000.0);
        assert_true(took < (test_under_valgrind() ? 3000 : 1000) * 1000);
        free(status);
        free(pid_file);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_deadline_with_stuck_reader),
                cmocka_unit_test(test_sigterm_with_stuck_reader),
        };
        return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
