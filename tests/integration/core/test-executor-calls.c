/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The calls a test suite makes around a service, as Python mirakuru's
 * users know them (issue 12): the error of an unclean stop, stopped() on
 * an idle executor, probes cleared for a new command, wait_for(), a
 * pre-start check of the caller's own, a stop signal and expected exit
 * code for one stop, and output read as a stream. */
#include <fcntl.h>
#include <sys/stat.h>

#include "core-test.h"

static MkExecutor *shell(const char *script) {
        MkExecutor *e = NULL;
        assert_int_equal(mk_executor_new(&e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, script), 0);
        return e;
}

/* -ECHILD from stop() comes with an explanation. */
static void test_unclean_stop_explained(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                shell("trap 'echo bye; exit 3' TERM; echo up; while :; do sleep 0.01; done");

        assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_stop(e), -ECHILD);
        const char *error = mk_executor_get_error(e);
        assert_non_null(error);
        assert_contains(error, "exited with status 3");
        assert_contains(error, "bye");
        MkExit x;
        assert_int_equal(mk_executor_get_exit(e, &x), 0);
        assert_int_equal(x.status, 3);

        /* A clean stop leaves no error behind. */
        assert_int_equal(mk_executor_set_expected_exit(e, 3), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_stop(e), 0);
        assert_null(mk_executor_get_error(e));
}

static int count_call(MkExecutor *e, void *userdata) {
        (*(unsigned *) userdata)++;
        return 0;
}

/* stopped() on an idle executor is an error, as in Python: the function is
 * not called and nothing is started. */
static void test_stopped_refuses_idle(void **state) {
        unsigned calls = 0;
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("echo up; exec sleep 1000");

        assert_int_equal(mk_executor_stopped(e, count_call, &calls), -ESRCH);
        assert_int_equal(calls, 0);
        assert_int_equal(mk_executor_get_state(e), MK_STATE_IDLE);
        assert_int_equal(mk_executor_get_pid(e), 0);
        assert_non_null(mk_executor_get_error(e));

        /* Running: stopped, called, started again. */
        assert_int_equal(mk_executor_start(e), 0);
        pid_t first = mk_executor_get_pid(e);
        assert_int_equal(mk_executor_stopped(e, count_call, &calls), 0);
        assert_int_equal(calls, 1);
        assert_false(test_pid_alive(first));
        assert_true(mk_executor_is_running(e));
        assert_int_equal(mk_executor_stop(e), 0);

        /* Stopped again: idle, refused. */
        assert_int_equal(mk_executor_stopped(e, count_call, &calls), -ESRCH);
        assert_int_equal(calls, 1);
        assert_false(mk_executor_is_running(e));
        /* restart() on an idle executor just starts it */
        assert_int_equal(mk_executor_restart(e), 0);
        assert_true(mk_executor_is_running(e));
}

/* An executor reused for another command does not wait for the old probes. */
static void test_clear_probes(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("echo first; exec sleep 1000");

        assert_int_equal(mk_executor_add_output_probe(e, "^first$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, 5 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_clear_probes(e), -EBUSY);
        assert_int_equal(mk_executor_stop(e), 0);

        assert_int_equal(mk_executor_clear_probes(e), 0);
        assert_int_equal(mk_executor_set_shell_command(e, "echo second; exec sleep 1000"), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^second$", MK_STREAM_STDOUT), 0);
        uint64_t t0 = test_now_usec();
        assert_int_equal(mk_executor_start(e), 0);
        assert_true(test_now_usec() - t0 < 4 * MK_USEC_PER_SEC); /* not the old probe's timeout */
        _cleanup_free_ char *out = output_of(e, MK_STREAM_STDOUT);
        assert_string_equal(out, "second\n");
        assert_int_equal(mk_executor_stop(e), 0);
}

typedef struct FileCheck {
        const char *path;
        unsigned calls;
} FileCheck;

static int file_exists(MkExecutor *e, void *userdata) {
        FileCheck *f = userdata;
        struct stat st;
        f->calls++;
        return stat(f->path, &st) == 0;
}

static int never(MkExecutor *e, void *userdata) {
        return 0;
}

static int broken(MkExecutor *e, void *userdata) {
        return -EIO;
}

static void test_wait_for(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *flag = test_path_in(dir, "flag");
        _cleanup_free_ char *script = NULL;
        FileCheck f = { .path = flag };

        assert_true(asprintf(&script, "echo up; sleep 0.3; : > '%s'; exec sleep 1000", flag) > 0);
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell(script);
        assert_int_equal(mk_executor_wait_for(e, file_exists, &f, 0), -ESRCH); /* not started */
        assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, 10 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_wait_for(e, file_exists, &f, 0), 0);
        struct stat st;
        assert_int_equal(stat(flag, &st), 0);
        assert_true(f.calls >= 2);

        /* A condition that never holds: the executor's timeout, from now. */
        assert_int_equal(mk_executor_set_timeout(e, 200 * MK_USEC_PER_MSEC), -EBUSY);
        assert_int_equal(mk_executor_stop(e), 0);
        assert_int_equal(mk_executor_set_timeout(e, 300 * MK_USEC_PER_MSEC), 0);
        assert_int_equal(mk_executor_start(e), 0);
        uint64_t t0 = test_now_usec();
        assert_int_equal(mk_executor_wait_for(e, never, NULL, 0), -ETIMEDOUT);
        assert_true(test_now_usec() - t0 >= 300 * MK_USEC_PER_MSEC);
        assert_non_null(mk_executor_get_error(e));
        assert_int_equal(mk_executor_wait_for(e, broken, NULL, 0), -EIO);
        assert_int_equal(mk_executor_stop(e), 0);
        test_rm_rf(dir);
}

static void test_wait_for_sees_exit(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("echo up; sleep 0.2; echo dying; exit 4");

        assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_set_timeout(e, 20 * MK_USEC_PER_SEC), 0);
        assert_int_equal(mk_executor_start(e), 0);
        uint64_t t0 = test_now_usec();
        assert_int_equal(mk_executor_wait_for(e, never, NULL, 0), -ECHILD);
        assert_true(test_now_usec() - t0 < 10 * MK_USEC_PER_SEC);
        assert_contains(mk_executor_get_error(e), "exited with status 4");
        assert_contains(mk_executor_get_error(e), "dying");
        assert_int_equal(mk_executor_stop(e), -ECHILD);
}

static int already_runs(MkExecutor *e, void *userdata) {
        (*(unsigned *) userdata)++;
        return 1;
}

static void test_pre_start_check(void **state) {
        unsigned calls = 0;
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell("echo up; exec sleep 1000");

        assert_int_equal(mk_executor_set_pre_start_check(e, already_runs, &calls), 0);
        assert_int_equal(mk_executor_start(e), -EADDRINUSE);
        assert_int_equal(calls, 1);
        assert_int_equal(mk_executor_get_pid(e), 0);
        assert_false(mk_executor_is_running(e));
        assert_contains(mk_executor_get_error(e), "already runs");
        /* it runs even with the probes' own pre-checks off */
        assert_int_equal(mk_executor_set_pre_check(e, false), 0);
        assert_int_equal(mk_executor_start(e), -EADDRINUSE);
        assert_int_equal(calls, 2);

        assert_int_equal(mk_executor_set_pre_start_check(e, broken, NULL), 0);
        assert_int_equal(mk_executor_start(e), -EIO);
        assert_int_equal(mk_executor_set_pre_start_check(e, count_call, &calls), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(calls, 3);
        assert_int_equal(mk_executor_set_pre_start_check(e, NULL, NULL), -EBUSY);
        assert_int_equal(mk_executor_stop(e), 0);
        assert_int_equal(mk_executor_set_pre_start_check(e, NULL, NULL), 0);
}

/* A stop signal and expected exit code for one stop only. */
static void test_stop_with(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                shell("trap 'exit 7' INT; trap 'exit 9' TERM; echo up; while :; do sleep 0.01; done");
        MkExit x;

        assert_int_equal(mk_executor_add_output_probe(e, "^up$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_stop_with(e, SIGINT, 7), -ESRCH);

        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_stop_with(e, SIGINT, 7), 0);
        assert_int_equal(mk_executor_get_exit(e, &x), 0);
        assert_int_equal(x.status, 7);
        assert_true(x.clean);

        /* only for that stop: the next one uses SIGTERM, and 9 is not expected */
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_stop(e), -ECHILD);
        assert_int_equal(mk_executor_get_exit(e, &x), 0);
        assert_int_equal(x.status, 9);

        /* the signal as given, the configured expected exit */
        assert_int_equal(mk_executor_set_expected_exit(e, 9), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_stop_with(e, SIGINT, MK_EXPECTED_EXIT_CONFIGURED), -ECHILD);
        assert_int_equal(mk_executor_get_exit(e, &x), 0);
        assert_int_equal(x.status, 7);

        /* death by the signal given counts as clean */
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_stop_with(e, SIGUSR1, -1), 0);
        assert_int_equal(mk_executor_get_exit(e, &x), 0);
        assert_int_equal(x.code, CLD_KILLED);
        assert_int_equal(x.status, SIGUSR1);

        assert_int_equal(mk_executor_stop_with(e, -1, -1), -EINVAL);
        assert_int_equal(mk_executor_stop_with(e, SIGTERM, 256), -EINVAL);
}

/* Output as a stream: what came since the last read. */
static void test_read_output_stream(void **state) {
        _cleanup_free_ char *dir = test_make_temp_dir();
        _cleanup_free_ char *go = test_path_in(dir, "go");
        _cleanup_free_ char *script = NULL;
        char *s;
        size_t size;

        assert_true(asprintf(&script, "echo one; echo err1 >&2; while [ ! -e '%s' ]; do sleep 0.01; done; "
                                      "echo two; echo three; exec sleep 1000", go) > 0);
        _cleanup_(mk_executor_unrefp) MkExecutor *e = shell(script);
        assert_int_equal(mk_executor_add_output_probe(e, "^err1$", MK_STREAM_STDERR), 0);
        assert_int_equal(mk_executor_start(e), 0);

        assert_int_equal(mk_executor_read_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_string_equal(s, "one\n");
        assert_int_equal(size, 4);
        free(s);
        assert_int_equal(mk_executor_read_output(e, MK_STREAM_STDOUT, &s, NULL), 0);
        assert_string_equal(s, ""); /* nothing new */
        free(s);
        assert_int_equal(mk_executor_read_output(e, MK_STREAM_STDERR, &s, NULL), 0);
        assert_string_equal(s, "err1\n");
        free(s);

        int fd = open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        /* no library call needed for the output to arrive */
        _cleanup_free_ char *collected = strdup("");
        uint64_t until = test_now_usec() + WAIT_USEC;
        while (!strstr(collected, "three\n")) {
                assert_true(test_now_usec() < until);
                assert_int_equal(mk_executor_read_output(e, MK_STREAM_STDOUT, &s, NULL), 0);
                char *joined = NULL;
                assert_true(asprintf(&joined, "%s%s", collected, s) >= 0);
                free(s);
                free(collected);
                collected = joined;
                usleep(1000);
        }
        assert_string_equal(collected, "two\nthree\n");
        assert_int_equal(mk_executor_read_output(e, MK_STREAM_BOTH, &s, NULL), -EINVAL);
        assert_int_equal(mk_executor_stop(e), 0);
        test_rm_rf(dir);
}

/* More than the capture size since the last read: 1, and the newest bytes. */
static void test_read_output_lost(void **state) {
        _cleanup_(mk_executor_unrefp) MkExecutor *e =
                shell("echo up; i=0; while [ $i -lt 100 ]; do echo line$i; i=$((i+1)); done; echo end; exec sleep 1000");
        char *s;
        size_t size;

        assert_int_equal(mk_executor_set_capture_size(e, 64), 0);
        assert_int_equal(mk_executor_add_output_probe(e, "^end$", MK_STREAM_STDOUT), 0);
        assert_int_equal(mk_executor_start(e), 0);
        assert_int_equal(mk_executor_read_output(e, MK_STREAM_STDOUT, &s, &size), 1);
        assert_int_equal(size, 64);
        assert_true(strcmp(s + size - 11, "line99\nend\n") == 0);
        free(s);
        assert_int_equal(mk_executor_read_output(e, MK_STREAM_STDOUT, &s, &size), 0);
        assert_int_equal(size, 0);
        free(s);
        assert_int_equal(mk_executor_stop(e), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unclean_stop_explained),
                cmocka_unit_test(test_stopped_refuses_idle),
                cmocka_unit_test(test_clear_probes),
                cmocka_unit_test(test_wait_for),
                cmocka_unit_test(test_wait_for_sees_exit),
                cmocka_unit_test(test_pre_start_check),
                cmocka_unit_test(test_stop_with),
                cmocka_unit_test(test_read_output_stream),
                cmocka_unit_test(test_read_output_lost),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
