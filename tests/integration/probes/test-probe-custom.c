/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The custom probe: the caller's check on a timer and on output lines. */
#include "probe-test.h"

typedef struct Check {
        const char *flag; /* ready once this file exists */
        unsigned calls;
        int result;       /* when set (non-zero), returned instead */
        unsigned lines_needed;
} Check;

static int check_file(MkExecutor *e, void *userdata) {
        Check *c = userdata;

        c->calls++;
        if (c->result)
                return c->result;
        return access(c->flag, F_OK) == 0 ? 1 : 0;
}

static int check_lines(MkExecutor *e, void *userdata) {
        Check *c = userdata;

        return ++c->calls >= c->lines_needed ? 1 : 0;
}

/* On a 10 ms timer: ready once the service created its file. */
static void test_custom_timer(void **state) {
        char *flag = test_path_in(test_dir, "flag");
        Check c = { .flag = flag };
        /* valgrind may take longer than 150 ms to get the probe going */
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", test_under_valgrind() ? "1500" : "150",
                               "--touch", flag, NULL);

        assert_int_equal(mk_executor_add_custom_probe(e, check_file, &c, 10 * MK_USEC_PER_MSEC, false), 0);
        assert_start(e, 0);
        assert_true(c.calls >= 2); /* called at start (no file yet) and again later */
        unsigned calls = c.calls;
        /* Passed: no more calls while the loop runs on. */
        assert_int_equal(mk_executor_wait(e, 100 * MK_USEC_PER_MSEC), -ETIMEDOUT);
        assert_int_equal(c.calls, calls);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
        unlink(flag);
        free(flag);
}

/* Only on output: called once at start and then per line (the long line
 * and the banner): ready on the third call. */
static void test_custom_on_output(void **state) {
        Check c = { .lines_needed = 3 };
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "50", "--long-line", "10", "--banner", "hello", NULL);

        assert_int_equal(mk_executor_add_custom_probe(e, check_lines, &c, 0, true), 0);
        assert_start(e, 0);
        assert_int_equal(c.calls, 3);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* A negative result fails the start with that error. */
static void test_custom_error(void **state) {
        Check c = { .result = -EPROTO };
        MkExecutor *e = server(PASS_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_custom_probe(e, check_file, &c, 10 * MK_USEC_PER_MSEC, false), 0);
        assert_start(e, -EPROTO);
        assert_contains(mk_executor_get_error(e), "custom probe failed");
        assert_false(mk_executor_is_running(e));
        mk_executor_unref(e);
}

static void test_custom_timeout(void **state) {
        char *flag = test_path_in(test_dir, "never");
        Check c = { .flag = flag };
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_custom_probe(e, check_file, &c, 20 * MK_USEC_PER_MSEC, false), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "custom (check said not ready");
        assert_int_equal(mk_executor_add_custom_probe(e, NULL, NULL, 1, false), -EINVAL);
        assert_int_equal(mk_executor_add_custom_probe(e, check_file, &c, 0, false), -EINVAL);
        mk_executor_unref(e);
        free(flag);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_custom_timer),
                cmocka_unit_test(test_custom_on_output),
                cmocka_unit_test(test_custom_error),
                cmocka_unit_test(test_custom_timeout),
        };
        return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
