/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output probe against a real service printing after a delay. */
#include "probe-test.h"

/* The banner on stdout after a delay: ready, and only then. */
static void test_banner_stdout(void **state) {
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "100", "--banner", "server is ready now", NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "ready", 0), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_READY);
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* Banner on stderr only: a stderr probe passes, a stdout probe times out
 * naming the probe and what it saw. */
static void test_banner_stderr_only(void **state) {
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--delay-ms", "50", "--stderr", "--banner", "listening", NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "^listening$", MK_STREAM_STDERR), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);

        e = server(FAIL_TIMEOUT_USEC, "--stderr", "--banner", "listening", NULL);
        assert_int_equal(mk_executor_add_output_probe(e, "listening", MK_STREAM_STDOUT), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "output (no line matched /listening/");
        assert_false(mk_executor_is_running(e));
        mk_executor_unref(e);

        /* And the other way round: a banner on stdout does not satisfy a stderr probe. */
        e = server(FAIL_TIMEOUT_USEC, "--banner", "listening", NULL);
        assert_int_equal(mk_executor_add_output_probe(e, "listening", MK_STREAM_STDERR), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "output (");
        mk_executor_unref(e);
}

/* A banner written in two pieces 50 ms apart is one line. */
static void test_banner_split(void **state) {
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--split", "--banner", "Ready to accept connections", NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "^Ready to accept connections$", MK_STREAM_STDOUT), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* A 200 KiB line (more than any pipe buffer or 64 KiB chunk) before the banner. */
static void test_long_line_first(void **state) {
        MkExecutor *e = server(PASS_TIMEOUT_USEC, "--long-line", "204800", "--banner", "ready", NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "^ready$", 0), 0);
        assert_start(e, 0);
        assert_int_equal(mk_executor_stop(e), 0);
        mk_executor_unref(e);
}

/* grep semantics: '^' anchors, so "not ready" does not match ^ready. */
static void test_anchor(void **state) {
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, "--banner", "not ready", NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "^ready", 0), 0);
        assert_start(e, -ETIMEDOUT);
        assert_contains(mk_executor_get_error(e), "1 line seen");
        mk_executor_unref(e);
}

static void test_invalid_regex(void **state) {
        MkExecutor *e = server(FAIL_TIMEOUT_USEC, NULL);

        assert_int_equal(mk_executor_add_output_probe(e, "(unclosed", 0), -EINVAL);
        assert_contains(mk_executor_get_error(e), "invalid regular expression /(unclosed/");
        /* Bounded before regcomp() (util/regex-util.h): refused at once. */
        assert_int_equal(mk_executor_add_output_probe(e, "(a{1,255}){1,255}", 0), -EINVAL);
        assert_contains(mk_executor_get_error(e), "quantifiers nest too deeply: the pattern would expand to more than 2048 states at offset 10");
        assert_int_equal(mk_executor_add_output_probe(e, "(a)\\1", 0), -EINVAL);
        assert_contains(mk_executor_get_error(e), "back-reference \\1 at offset 3");
        assert_int_equal(mk_executor_add_output_probe(e, NULL, 0), -EINVAL);
        assert_int_equal(mk_executor_add_output_probe(e, "x", 8), -EINVAL);
        mk_executor_unref(e);
}

/* The service exits before printing: -ECHILD at once, not at the deadline. */
static void test_exit_during_probe(void **state) {
        MkExecutor *e = server(60 * MK_USEC_PER_SEC, "--delay-ms", "50", "--exit", "3", NULL);
        uint64_t t0 = test_now_usec();

        assert_int_equal(mk_executor_add_output_probe(e, "never", 0), 0);
        assert_start(e, -ECHILD);
        /* An upper bound far below the 60 s deadline, not a timing measurement. */
        assert_true(test_now_usec() - t0 < 30 * MK_USEC_PER_SEC);
        assert_contains(mk_executor_get_error(e), "exited with status 3");
        mk_executor_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_banner_stdout),
                cmocka_unit_test(test_banner_stderr_only),
                cmocka_unit_test(test_banner_split),
                cmocka_unit_test(test_long_line_first),
                cmocka_unit_test(test_anchor),
                cmocka_unit_test(test_invalid_regex),
                cmocka_unit_test(test_exit_during_probe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
