/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exec probe: a command repeated until it exits 0, each attempt bounded
 * and none surviving. */
#include "probe-test.h"

/* The service creates a file after a delay; `test -e FILE` turns true. */
static void test_exec_passes(void **state) {
        char *flag = test_path_in(test_dir, "flag"), *cmd;
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "150", "--touch", flag, NULL);

        assert_true(asprintf(&cmd, "test -e '%s'", flag) > 0);
        assert_int_equal(mk_executor_add_exec_probe(e, cmd, 0), 0);
        assert_start(e, 0);
        assert_true(test_wait_file(flag, 0));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(flag);
        free(flag);
        free(cmd);
}

static void test_exec_fails_until_deadline(void **state) {
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_exec_probe(e, "exit 7", 0), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "exec (`exit 7` exited with status 7");
        mk_executor_unref(e);
}

/* An attempt that hangs is killed after its timeout, and no attempt (nor
 * what it started) survives the failed start. */
static void test_exec_attempt_timeout(void **state) {
        char *pids = test_path_in(test_dir, "pids"), *cmd;
        MkExecutor *e = server(3 * MK_USEC_PER_SEC, NULL);

        assert_true(asprintf(&cmd, "sleep 60 & echo $! >> '%s'; echo $$ >> '%s'; wait", pids, pids) > 0);
        assert_int_equal(mk_executor_add_exec_probe(e, cmd, 300 * MK_USEC_PER_MSEC), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "did not finish within 300 ms and was killed");

        char *s = test_read_file(pids);
        assert_non_null(s);
        int n = 0;
        for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"), n++) {
                pid_t pid = (pid_t) atoi(line);
                if (!test_wait_pid_gone(pid, 10 * MK_USEC_PER_SEC))
                        fprintf(stderr, "attempt process %d survived\n", (int) pid);
                assert_false(test_pid_alive(pid));
        }
        assert_true(n >= 2);
        free(s);
        mk_executor_unref(e);
        unlink(pids);
        free(pids);
        free(cmd);
}

static void test_exec_bad_arguments(void **state) {
        MkExecutor *e = server(PASS_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_exec_probe(e, "", 0), -EINVAL);
        assert_int_equal(mk_executor_add_exec_probe(e, NULL, 0), -EINVAL);
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exec_passes),
                cmocka_unit_test(test_exec_fails_until_deadline),
                cmocka_unit_test(test_exec_attempt_timeout),
                cmocka_unit_test(test_exec_bad_arguments),
        };
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
